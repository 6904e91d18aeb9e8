"""Checker for the exercises of chapter 4 (denoising autoencoders).

>>> import keras
>>> check_salt_and_pepper(keras.layers.Dropout)  # doctest: +ELLIPSIS
✘ Not yet: ...
"""

from __future__ import annotations

import contextlib
import inspect
import random
import re

import keras
import numpy as np

from genlib.exercises.feedback import Feedback, correct, wrong

# ---------------------------------------------------------------------------------------------
# Exercise 4.1: a salt-and-pepper corruption layer
# ---------------------------------------------------------------------------------------------

_RATE = 0.2
_SHAPE = (64, 28, 28)  # 50,176 pixels: a measured fraction is within ±0.01 of the truth
_TOLERANCE = 0.02


@contextlib.contextmanager
def _random_state_kept():
    """Leave Python's and NumPy's random generators as the notebook had them.

    Layers created without a seed draw their seed from Python's generator, so checking
    an answer must not shift the random numbers of the cells that follow.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def _error_text(error):
    """The gist of an error, without the context Keras wraps around errors raised in ``call``."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line and not line.startswith("Exception encountered when")]
    return f"{type(error).__name__}: {lines[0] if lines else repr(error)}"


def _numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _inputs(seed=0):
    """Pixels strictly inside (0, 1), all different: any change to one is visible."""
    return np.random.default_rng(seed).uniform(0.1, 0.9, _SHAPE).astype("float32")


def _make(layer_class, rate, seed):
    try:
        return layer_class(rate, seed=seed), None
    except Exception as error:  # the student's constructor may raise anything
        return None, error


def _corruption_problem(x, y, rate):
    """The first problem with ``y``, the output of a layer of ``rate`` in training, or None."""
    if y.shape != x.shape:
        return (f"in training, your layer turned inputs of shape {x.shape} into shape {y.shape}; "
                "it must return an array of the same shape")
    changed = y != x
    fraction = float(changed.mean())
    values = y[changed]
    if fraction < 0.001 and rate > 0:
        return (f"with rate={rate} and training=True your layer changed no pixel: in call(), "
                "corrupt the inputs when training is True (call(self, inputs, training=False))")
    if not np.all(np.isin(values, (0.0, 1.0))):
        survivors = ~np.isin(y, (0.0, 1.0))
        ratio = np.median(y[survivors] / x[survivors]) if survivors.any() else np.nan
        if rate < 1 and np.isclose(ratio, 1 / (1 - rate), rtol=1e-3):
            return (f"the pixels you did not replace are multiplied by 1 / (1 - rate) = "
                    f"{1 / (1 - rate):.3g}, as Dropout does: salt-and-pepper noise leaves them "
                    "exactly as they are")
        if np.isclose(ratio, 1 - rate, rtol=1e-3):
            return (f"the pixels you did not replace are multiplied by 1 - rate = {1 - rate:.3g}: "
                    "leave them exactly as they are")
        example = values[~np.isin(values, (0.0, 1.0))][0]
        return (f"some changed pixels are neither 0 nor 1 (e.g. {example:.3g}): salt-and-pepper "
                "noise *replaces* a pixel by 1 (salt) or 0 (pepper); it adds nothing to the "
                "others, which stay exactly as they are")
    if abs(fraction - (1 - rate)) < _TOLERANCE and abs(fraction - rate) > _TOLERANCE:
        return (f"with rate={rate} your layer replaced {fraction:.0%} of the pixels, about "
                f"1 - rate: rate is the probability that a pixel is *replaced*, not kept")
    if abs(fraction - rate) > _TOLERANCE:
        return (f"with rate={rate} your layer replaced {fraction:.1%} of the pixels; expected "
                f"about {rate:.0%}: each pixel must be replaced with probability rate, "
                "independently of the others")
    salt = float(np.mean(values == 1.0))
    if salt > 0.99:
        return ("your layer only sets pixels to 1 (salt): half of the replaced pixels must be "
                "0 (pepper)")
    if salt < 0.01:
        return ("your layer only sets pixels to 0 (pepper): half of the replaced pixels must be "
                "1 (salt)")
    if abs(salt - 0.5) > 0.05:
        return (f"{salt:.0%} of the replaced pixels are 1 (salt) and {1 - salt:.0%} are 0 "
                "(pepper); each replaced pixel must be salt or pepper with equal probability")
    per_image = changed.reshape(len(changed), -1)
    if rate < 1 and np.all(per_image == per_image[:1]):
        return ("every image of the batch got the very same pixels replaced: draw the random "
                "numbers with the shape of the whole batch, keras.ops.shape(inputs)")
    return None


def check_salt_and_pepper(layer_class) -> Feedback:
    """Check a salt-and-pepper corruption layer (exercise 4.1).

    Expected: a subclass of ``keras.layers.Layer`` created as ``layer_class(rate, seed=None)``.
    In training (``training=True``), it replaces each input value, independently and with
    probability ``rate``, by 1 (salt) or 0 (pepper) with equal probability, and leaves the
    others unchanged; it draws new noise at every call, the same noise for the same seed,
    and works inside a model trained with ``fit``. At inference it returns its inputs
    unchanged. ``rate`` outside [0, 1] raises a ``ValueError``, and ``get_config()``
    contains ``rate``. The checker leaves the notebook's random generators as they were.

    Examples
    --------
    >>> class SaltAndPepper(keras.layers.Layer):
    ...     def __init__(self, rate, seed=None, **kwargs):
    ...         super().__init__(**kwargs)
    ...         if not 0 <= rate <= 1:
    ...             raise ValueError(f"rate must be in [0, 1], got {rate}")
    ...         self.rate, self.seed = rate, seed
    ...         self.seed_generator = keras.random.SeedGenerator(seed)
    ...     def call(self, inputs, training=False):
    ...         if not training:
    ...             return inputs
    ...         draws = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
    ...         salt_or_pepper = keras.ops.cast(draws < self.rate / 2, inputs.dtype)
    ...         return keras.ops.where(draws < self.rate, salt_or_pepper, inputs)
    ...     def get_config(self):
    ...         return {**super().get_config(), "rate": self.rate, "seed": self.seed}
    >>> check_salt_and_pepper(SaltAndPepper)  # doctest: +ELLIPSIS
    ✔ Correct: ...
    """
    with _random_state_kept():
        return _check_salt_and_pepper(layer_class)


def _check_salt_and_pepper(layer_class):
    if isinstance(layer_class, keras.layers.Layer):
        return wrong("you passed a layer object; pass the class itself (e.g. SaltAndPepper, "
                     "without parentheses): the checker creates layers with several rates")
    if not (inspect.isclass(layer_class) and issubclass(layer_class, keras.layers.Layer)):
        return wrong(f"expected a subclass of keras.layers.Layer, got {layer_class!r}: define "
                     "class SaltAndPepper(keras.layers.Layer) and pass the class")
    layer, error = _make(layer_class, _RATE, 0)
    if error is not None:
        signature = isinstance(error, TypeError) or "keyword argument" in str(error)
        hint = (" Give __init__ the parameters (self, rate, seed=None, **kwargs) and call "
                "super().__init__(**kwargs)" if signature else "")
        return wrong(f"creating {layer_class.__name__}({_RATE}, seed=0) raised "
                     f"{_error_text(error)}.{hint}")
    x = _inputs()

    # 1. Inference: the inputs pass through unchanged.
    for kwargs, how in [({}, "called without a training argument"),
                        ({"training": False}, "called with training=False")]:
        try:
            y = _numpy(layer(x, **kwargs))
        except Exception as error:
            return wrong(f"your layer {how} raised {_error_text(error)}")
        if y.shape != x.shape or not np.array_equal(y, x):
            return wrong(f"your layer {how} changed its inputs: at inference it must return them "
                         "unchanged (corrupt them only when training is True)")

    # 2. Training: the right fraction replaced by 0 or 1, the rest untouched.
    try:
        first = _numpy(layer(x, training=True))
        second = _numpy(layer(x, training=True))
    except Exception as error:
        return wrong(f"your layer called with training=True raised {_error_text(error)}")
    problem = _corruption_problem(x, first, _RATE)
    if problem:
        return wrong(problem)
    if np.array_equal(first, second):
        return wrong("two calls in training replaced the very same pixels: the noise must be "
                     "new at every call. Create keras.random.SeedGenerator(seed) in __init__ "
                     "and pass it as seed= to keras.random.uniform (an integer seed gives the "
                     "same numbers every time)")
    for rate in (0.0, 0.5, 1.0):
        other, error = _make(layer_class, rate, 1)
        if error is not None:
            return wrong(f"creating {layer_class.__name__}({rate}, seed=1) raised "
                         f"{_error_text(error)}; every rate in [0, 1] is valid")
        try:
            y = _numpy(other(x, training=True))
        except Exception as error:
            return wrong(f"with rate={rate}, your layer called with training=True raised "
                         f"{_error_text(error)}")
        if rate == 0.0 and not np.array_equal(y, x):
            return wrong("with rate=0 your layer changed pixels in training; rate 0 means no "
                         "noise at all")
        if rate > 0:
            problem = _corruption_problem(x, y, rate)
            if problem:
                return wrong(problem)

    # 3. The same seed gives the same noise.
    twins = [_make(layer_class, _RATE, 7)[0] for _ in range(2)]
    outputs = [_numpy(twin(x, training=True)) for twin in twins]
    if not np.array_equal(*outputs):
        return wrong("two layers created with the same seed drew different noise: pass the "
                     "seed to keras.random.SeedGenerator(seed) in __init__ and use that "
                     "generator in call (keras.random.uniform(..., seed=self.seed_generator))")

    # 4. Inside a model: compiled prediction and training with fit.
    try:
        layer, _ = _make(layer_class, _RATE, 3)
        passthrough = keras.Sequential([keras.Input(_SHAPE[1:]), layer])
        predicted = passthrough.predict(x, batch_size=32, verbose=0)
    except Exception as error:
        return wrong(f"in a keras.Sequential model, predict() raised {_error_text(error)}. "
                     "Inside call, use keras.ops and keras.random functions (not NumPy), "
                     "which work on the symbolic tensors of a compiled model")
    if not np.allclose(predicted, x):
        return wrong("in a model, predict() returned corrupted images: at inference your layer "
                     "must return its inputs unchanged")
    try:
        model = keras.Sequential([
            keras.Input(_SHAPE[1:]), _make(layer_class, _RATE, 4)[0], keras.layers.Flatten(),
            keras.layers.Dense(1, kernel_initializer="zeros"),
        ])
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x[:32], np.zeros((32, 1)), epochs=1, batch_size=16, shuffle=False, verbose=0)
    except Exception as error:
        return wrong(f"training a model that contains your layer with fit() raised "
                     f"{_error_text(error)}. Inside call, use keras.ops and keras.random "
                     "functions (not NumPy or Python conditions on tensor values)")

    # 5. Bad rates are refused, and the layer can be saved.
    for rate in (1.5, -0.1):
        _, error = _make(layer_class, rate, 0)
        if error is None:
            return wrong(f"{layer_class.__name__}({rate}) was accepted: a rate is a probability; "
                         "raise a ValueError that says it must lie in [0, 1]")
        if not isinstance(error, ValueError):
            return wrong(f"{layer_class.__name__}({rate}) raised {type(error).__name__}; raise a "
                         "ValueError (the rate has the right type but a wrong value)")
    try:
        config = layer.get_config()
    except Exception as error:
        return wrong(f"get_config() raised {_error_text(error)}")
    if config.get("rate") != _RATE:
        return wrong(f"get_config() returns {config!r}, without rate={_RATE}: add the rate (and "
                     "the seed) to the dictionary returned by super().get_config(), so that a "
                     "model saved with your layer can be loaded")
    return correct("in training your layer replaces a fraction rate of the pixels by 0 or 1, "
                   "half each, with new noise at every call and the same noise for the same "
                   "seed; at inference it changes nothing; it works in a model trained with "
                   "fit, refuses rates outside [0, 1] and saves its rate.")
