"""Checkers for the exercises of chapter 2 (stacked autoencoders, tied weights).

>>> from genlib.stacked import StackedAutoencoder
>>> check_tied_autoencoder(StackedAutoencoder((300, 150), tied=True))  # doctest: +ELLIPSIS
✔ Correct: a tied 784 → 300 → 150 → 300 → 784 autoencoder: ...
>>> check_parameter_count(lambda coding_sizes, tied, n_inputs=784: 0)  # doctest: +ELLIPSIS
✘ Not yet: for coding_sizes=(100, 30), tied=True, n_inputs=784: expected 82414 parameters, got 0...
"""

from __future__ import annotations

import functools
import math
import numbers
import re

import keras
import numpy as np

from genlib.exercises.feedback import Feedback, call_student, correct, wrong
from genlib.layers import DenseTranspose

# ---------------------------------------------------------------------------------------------
# Exercise 2.1: tie the weights yourself
# ---------------------------------------------------------------------------------------------


def _sublayers(layer):
    """The direct sub-layers of ``layer``, in call order for Sequential and functional models."""
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    return list(layer._flatten_layers(include_self=False, recursive=False))


def _in_call_order(layer):
    """Whether ``layer.layers`` lists its layers in the order they are applied.

    True for Sequential and functional models; a subclassed model lists them in the order
    its attributes were assigned, which need not be the order ``call`` uses them.
    """
    # keras.Model(inputs, outputs) returns an instance of Keras' (private) Functional class.
    return isinstance(layer, keras.Sequential) or any(
        cls.__name__ == "Functional" for cls in type(layer).__mro__)


def _leaf_layers(layer, seen=None, unordered=None):
    """Every layer without sub-layers inside ``layer``, depth first, each once.

    Containers whose layers may not be listed in call order are appended to ``unordered``.
    """
    seen = set() if seen is None else seen
    if unordered is not None and not _in_call_order(layer):
        unordered.append(layer)
    leaves = []
    for sub in _sublayers(layer):
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        children = [] if isinstance(sub, DenseTranspose) else _sublayers(sub)
        leaves.extend(_leaf_layers(sub, seen, unordered) if children else [sub])
    return leaves


def _split_encoder_decoder(model, coding_sizes):
    """(encoder leaf layers, decoder leaf layers, whether the decoder's are in call order)
    of an autoencoder built in any usual way."""
    unordered = []
    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if isinstance(encoder, keras.layers.Layer) and isinstance(decoder, keras.layers.Layer):
        decoder_leaves = (
            _leaf_layers(decoder, unordered=unordered) if _sublayers(decoder) else [decoder]
        )
        return _leaf_layers(encoder), decoder_leaves, not unordered
    parts = [sub for sub in _sublayers(model) if _sublayers(sub)]
    if len(parts) >= 2 and len(parts) == len([s for s in _sublayers(model)
                                              if not isinstance(s, keras.layers.InputLayer)]):
        # e.g. keras.Sequential([encoder, decoder]): the first part is the encoder.
        decoder_leaves = [
            leaf for part in parts[1:] for leaf in _leaf_layers(part, unordered=unordered)
        ]
        return _leaf_layers(parts[0]), decoder_leaves, _in_call_order(model) and not unordered
    # A flat model: the encoder ends with the coding layer (or before the first DenseTranspose).
    leaves = _leaf_layers(model, unordered=unordered)
    end = next(
        (i for i, layer in enumerate(leaves) if isinstance(layer, DenseTranspose)), len(leaves)
    )
    for i, layer in enumerate(leaves[:end]):
        if isinstance(layer, keras.layers.Dense) and layer.units == coding_sizes[-1]:
            end = i + 1
            break
    return leaves[:end], leaves[end:], not unordered


def _error_text(error):
    """The gist of an error, without the context Keras wraps around errors raised in ``call``."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line and not line.startswith("Exception encountered when")]
    return lines[0] if lines else repr(error)


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation))


def _chain(n_inputs, coding_sizes):
    return " → ".join(
        str(n) for n in (n_inputs, *coding_sizes, *reversed(coding_sizes[:-1]), n_inputs)
    )


def _expected_count(coding_sizes, n_inputs, *, tied):
    """Parameters of a stacked autoencoder, from the sizes alone."""
    sizes = (n_inputs, *coding_sizes)
    kernels = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    encoder_biases = sum(coding_sizes)
    # Each decoder layer outputs its mirror's inputs.
    decoder_biases = n_inputs + sum(coding_sizes[:-1])
    return kernels * (1 if tied else 2) + encoder_biases + decoder_biases


def check_tied_autoencoder(model, coding_sizes=(300, 150), image_shape=(28, 28)) -> Feedback:
    """Check a tied dense autoencoder, e.g. 784 → 300 → 150 → 300 → 784 (exercise 2.1).

    Expected: an encoder of ``Dense`` layers with ``coding_sizes`` units (SELU), and a decoder
    made only of :class:`genlib.layers.DenseTranspose` layers (SELU, then sigmoid at the
    output), where decoder layer ``N - L + 1`` reuses the kernel of encoder layer ``L``;
    the model maps a batch of inputs of ``image_shape`` to outputs of the same shape. The
    encoder and decoder may be ``keras.Sequential`` models of their own, combined in a
    Sequential, functional or subclassed model (a
    :class:`genlib.stacked.StackedAutoencoder` with ``tied=True`` is a right answer).

    >>> from genlib.stacked import StackedAutoencoder
    >>> check_tied_autoencoder(StackedAutoencoder((300, 150)))  # doctest: +ELLIPSIS
    ✘ Not yet: decoder layer 1 is a plain Dense layer ...: use DenseTranspose(...) ...
    """
    if not isinstance(model, keras.Model):
        return wrong(
            f"expected a Keras model, got {type(model).__name__}: pass the autoencoder itself"
        )
    sizes = tuple(int(size) for size in coding_sizes)
    image_shape = tuple(int(side) for side in image_shape)
    n_inputs = math.prod(image_shape)
    chain = _chain(n_inputs, sizes)
    n = len(sizes)
    try:
        encoder_leaves, decoder_leaves, in_call_order = _split_encoder_decoder(model, sizes)
    except Exception as error:  # an exotic model: report instead of raising
        return wrong(
            f"could not walk through your model's layers ({type(error).__name__}: {error})"
        )

    # 1. The encoder: Dense layers with the coding sizes.
    if any(isinstance(layer, DenseTranspose) for layer in encoder_leaves):
        return wrong("your encoder contains a DenseTranspose layer: the encoder uses ordinary "
                     "keras.layers.Dense layers, and only the decoder reuses their kernels")
    encoder_dense = [layer for layer in encoder_leaves if isinstance(layer, keras.layers.Dense)]
    units = [layer.units for layer in encoder_dense]
    if units != list(sizes):
        return wrong(f"your encoder's Dense layers have {units} units; expected {list(sizes)} "
                     f"(for {chain}): one Dense layer per coding size, the coding layer last")

    # 2. The decoder: only DenseTranspose layers, one per encoder layer.
    tied = []
    for layer in decoder_leaves:
        if isinstance(layer, DenseTranspose):
            tied.append(layer)
        elif isinstance(layer, keras.layers.Dense):
            position = len(tied) + 1
            mirror = n - position + 1
            return wrong(
                f"decoder layer {position} is a plain Dense layer ({layer.units} units), "
                f"so it has a kernel of its own: use DenseTranspose(<encoder layer {mirror}>) "
                "from genlib.layers instead, so that it reuses the transposed kernel of "
                "its mirror encoder layer"
            )
        elif "transpose" in type(layer).__name__.lower() and _sublayers(layer) == []:
            return wrong(
                f"your decoder uses a {type(layer).__name__} of its own: use "
                "genlib.layers.DenseTranspose, which this checker (and .keras saving) knows"
            )
    if len(tied) != n:
        return wrong(f"your decoder has {len(tied)} DenseTranspose layer(s); expected {n}, one per "
                     f"encoder layer, for {chain}")

    # 3. Decoder layer N - L + 1 reuses encoder layer L.
    positions = {id(layer): index + 1 for index, layer in enumerate(encoder_dense)}
    tied_positions = [positions.get(id(layer.tied_to)) for layer in tied]
    if not in_call_order and None not in tied_positions and len(set(tied_positions)) == n:
        # A subclassed model lists its layers in attribute order: use the one order in which
        # the shapes fit (calling the model below catches any other order).
        tied = [layer for _, layer in sorted(zip(tied_positions, tied), key=lambda pair: -pair[0])]
    for k, layer in enumerate(tied, start=1):
        expected = n - k + 1
        got = positions.get(id(layer.tied_to))
        if got is None:
            return wrong(
                f"decoder layer {k} is tied to the Dense layer {layer.tied_to.name!r}, which is "
                "not a layer of your encoder, so the two do not share anything: pass "
                "the encoder's own layer object, e.g. DenseTranspose(encoder.layers[i])"
            )
        if got != expected:
            return wrong(
                f"decoder layer {k} is tied to encoder layer {got} ({encoder_dense[got - 1].units} "
                f"units); decoder layer N-L+1 must reuse encoder layer L: the first decoder "
                f"layer reuses the coding layer, so decoder layer {k} must be tied to encoder "
                f"layer {expected} ({encoder_dense[expected - 1].units} units)"
            )

    # 4. It runs, and reconstructs inputs of the input's shape.
    try:
        outputs = model(np.zeros((3, *image_shape), dtype="float32"))
        out_shape = tuple(np.shape(keras.ops.convert_to_numpy(outputs)))
    except Exception as error:  # the student's model may raise anything
        return wrong(f"calling your model on a batch of 3 inputs of shape {image_shape} raised "
                     f"{type(error).__name__}: {_error_text(error)}")
    if out_shape != (3, *image_shape):
        return wrong(f"for a batch of 3 inputs of shape {image_shape} your model outputs shape "
                     f"{out_shape}; expected {(3, *image_shape)}: an autoencoder outputs what it "
                     "receives (end the decoder with keras.layers.Reshape"
                     f"({image_shape}))")

    # 5. Activations: SELU everywhere, sigmoid for the pixels.
    for index, layer in enumerate(encoder_dense, start=1):
        if _activation_name(layer) != "selu":
            return wrong(f"encoder layer {index} uses the {_activation_name(layer)!r} activation; "
                         "this exercise uses activation=\"selu\" for every hidden and coding layer")
    for k, layer in enumerate(tied, start=1):
        want = "sigmoid" if k == n else "selu"
        if _activation_name(layer) != want:
            role = "the output layer" if k == n else "a hidden layer"
            reason = ("so that it outputs pixel intensities in [0, 1]" if k == n
                      else "as in the encoder")
            return wrong(f"decoder layer {k} ({role}) uses the {_activation_name(layer)!r} "
                         f"activation; use activation=\"{want}\" {reason}")

    # 6. Parameters: each tied kernel counted once.
    expected_count = _expected_count(sizes, n_inputs, tied=True)
    try:
        count = int(model.count_params())
    except Exception as error:
        return wrong(f"model.count_params() raised {type(error).__name__}: {error}")
    if count != expected_count:
        if count == _expected_count(sizes, n_inputs, tied=False):
            hint = "that is the untied count: the decoder still has kernels of its own"
        else:
            hint = ("the difference comes from layers other than the encoder's Dense and the "
                    "decoder's DenseTranspose layers: remove them")
        return wrong(f"your model has {count} parameters; a tied {chain} autoencoder has "
                     f"{expected_count} (each kernel counted once): {hint}")

    # 7. The sharing is real: one kernel variable per pair, trained with the model.
    trainable = {id(variable) for variable in model.trainable_weights}
    for k, layer in enumerate(tied, start=1):
        mirror = encoder_dense[n - k]
        if layer.tied_to.kernel is not mirror.kernel:
            return wrong(
                f"decoder layer {k} does not use the very kernel variable of encoder layer "
                f"{n - k + 1}: tie it to the encoder's layer object, not to a copy"
            )
        if id(mirror.kernel) not in trainable:
            return wrong(f"the shared kernel of encoder layer {n - k + 1} is not among the model's "
                         "trainable weights: do not freeze the encoder (trainable=False) here")
    return correct(f"a tied {chain} autoencoder: decoder layer N-L+1 reuses the kernel of encoder "
                   f"layer L, SELU then sigmoid, {count:,} parameters (each kernel counted once).")


# ---------------------------------------------------------------------------------------------
# Exercise 2.2: count the parameters
# ---------------------------------------------------------------------------------------------

_COUNT_CASES = (
    ((100, 30), True, 784),
    ((100, 30), False, 784),
    ((300, 150), True, 784),
    ((300, 150), False, 784),
    ((64,), True, 784),
    ((64,), False, 784),
    ((500, 200, 50), True, 784),
    ((500, 200, 50), False, 784),
    ((32, 8), True, 100),
    ((32, 8), False, 100),
)


@functools.lru_cache(maxsize=None)
def _real_count(coding_sizes, tied, n_inputs):
    """The parameter count of the real model (built once per configuration)."""
    from genlib.stacked import StackedAutoencoder

    return int(StackedAutoencoder(coding_sizes, image_shape=(n_inputs,), tied=tied).count_params())


def _count_mistake(got, coding_sizes, tied, n_inputs):
    """A sentence naming the usual mistake that gives ``got``, or None."""
    sizes = (n_inputs, *coding_sizes)
    kernels = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    encoder_biases = sum(coding_sizes)
    decoder_biases = n_inputs + sum(coding_sizes[:-1])
    n_kernels = 1 if tied else 2
    if got in (n_kernels * kernels, 2 * kernels, kernels):
        return (
            "you forgot the biases: every Dense layer (and every DenseTranspose layer) adds one "
            "bias per unit it outputs"
        )
    if tied and got == 2 * kernels + encoder_biases + decoder_biases:
        return ("you counted the tied kernels twice: a DenseTranspose layer reuses its encoder "
                "layer's kernel, so a tied autoencoder stores each kernel once")
    if not tied and got == kernels + encoder_biases + decoder_biases:
        return (
            "that is the tied count: without tying, each decoder layer has a kernel of its own, "
            "as large as its mirror encoder layer's"
        )
    if got == n_kernels * kernels + encoder_biases:
        extra = ("a DenseTranspose layer shares the kernel but has a bias vector of its own, "
                 "one value per output" if tied else "each decoder layer has one bias per output")
        return f"you forgot the decoder's biases: {extra}"
    # Off by one when mirroring: decoder layer sizes shifted, one layer too many or too few.
    off_by_one = {
        sum(coding_sizes),  # bias sizes = the mirror layer's units instead of its inputs
        sum(coding_sizes[:-1]),  # no output layer
        n_inputs + sum(coding_sizes),  # one decoder layer too many (the coding size repeated)
        n_inputs,  # only the output layer
    } - {decoder_biases}
    for biases in off_by_one:
        if got == n_kernels * kernels + encoder_biases + biases:
            return _off_by_one_message()
    wrong_kernels = {
        kernels + coding_sizes[-1] ** 2,  # an extra coding → coding decoder layer
        sum(a * b for a, b in zip(sizes[:-2], sizes[1:-1])),  # decoder missing the output layer
    }
    if not tied:
        for decoder_kernels in wrong_kernels:
            for biases in off_by_one | {decoder_biases}:
                if got == kernels + decoder_kernels + encoder_biases + biases:
                    return _off_by_one_message()
    return None


def _off_by_one_message():
    """The hint for a decoder mirrored one layer off."""
    return (
        "your decoder is mirrored one layer off: decoder layer N-L+1 maps encoder layer L's "
        "outputs back to its inputs, so the decoder's output sizes are the coding sizes reversed "
        "without the coding layer, then n_inputs (e.g. 30 → 100 → 784 for (100, 30))"
    )


def check_parameter_count(function) -> Feedback:
    """Check ``function(coding_sizes, tied, n_inputs=784)``, the number of parameters of a
    stacked autoencoder computed without building it (exercise 2.2).

    It is compared with ``StackedAutoencoder(coding_sizes, image_shape=(n_inputs,),
    tied=tied).count_params()`` on several configurations, tied and untied.

    >>> def count_parameters(coding_sizes, tied, n_inputs=784):
    ...     sizes = (n_inputs, *coding_sizes)
    ...     kernels = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    ...     biases = sum(coding_sizes) + n_inputs + sum(coding_sizes[:-1])
    ...     return kernels * (1 if tied else 2) + biases
    >>> check_parameter_count(count_parameters)  # doctest: +ELLIPSIS
    ✔ Correct: your counts match the real models on all 10 configurations...
    """
    for coding_sizes, tied, n_inputs in _COUNT_CASES:
        args = (
            (list(coding_sizes), tied) if n_inputs == 784 else (list(coding_sizes), tied, n_inputs)
        )
        result, error = call_student(function, *args)
        if error is not None:
            if n_inputs != 784 and isinstance(error, Feedback) and "TypeError" in error.message:
                return wrong(f"{error.message}. Give your function a third parameter, "
                             "n_inputs=784, the number of input values")
            return error
        if result is None:
            return wrong("your function returns None: did you forget the `return` statement?")
        try:
            got = np.asarray(result).item() if np.size(result) == 1 else None
        except (TypeError, ValueError):
            got = None
        if not isinstance(got, numbers.Real) or isinstance(got, bool) or got != int(got):
            return wrong(f"for coding_sizes={coding_sizes}, tied={tied} your function returned "
                         f"{result!r}; return a whole number of parameters (an int)")
        got = int(got)
        expected = _real_count(coding_sizes, tied, n_inputs)
        if got == expected:
            continue
        case = f"for coding_sizes={coding_sizes}, tied={tied}, n_inputs={n_inputs}"
        mistake = _count_mistake(got, coding_sizes, tied, n_inputs)
        if mistake:
            return wrong(f"{case}: expected {expected} parameters, got {got}: {mistake}")
        return wrong(f"{case}: expected {expected} parameters, got {got}. Add up, for each "
                     "layer, its kernel (inputs × outputs, once per tied pair) and its biases "
                     "(one per output)")
    return correct(f"your counts match the real models on all {len(_COUNT_CASES)} configurations, "
                   "tied and untied.")
