"""Sparse autoencoders: a KL sparsity penalty, sparsity measurements, a builder.

A sparse autoencoder has a large coding layer (here 300 sigmoid units for 784
pixels) and a penalty that keeps most coding neurons near zero for any given input.
Chapter 5 compares two penalties, L1 activity regularization
(:class:`PerImageL1L2`, Keras' ``L1`` made to mean the same on every supported
Keras) and the KL-divergence sparsity loss of
:class:`KLSparsityRegularizer`, and measures the sparsity each produces.

>>> from genlib.sparse import KLSparsityRegularizer, build_sparse_autoencoder
>>> regularizer = KLSparsityRegularizer(target=0.1, weight=5e-3)
>>> autoencoder = build_sparse_autoencoder(regularizer)
>>> autoencoder.get_layer("encoder").output_shape
(None, 300)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from genlib._validation import as_array, check_positive_int, check_real, check_sizes
from genlib.compat import activity_loss

#: Mean activations are clipped to ``[CLIP_EPSILON, 1 - CLIP_EPSILON]`` before the
#: logarithms of the KL divergence, so that a neuron whose activations are all
#: exactly 0 or all exactly 1 costs a large but finite penalty instead of infinity
#: (and NaN gradients). 1e-7 is Keras' default fuzz factor; in float32,
#: ``1 - 1e-7`` is still distinct from 1, while ``1 - 1e-8`` rounds to exactly 1.
CLIP_EPSILON = 1e-7


def _is_real(value) -> bool:
    is_bool = isinstance(value, (bool, np.bool_))
    return isinstance(value, numbers.Real) and not is_bool


def _check_target(target) -> float:
    if not _is_real(target) or not 0 < target < 1:
        raise ValueError(
            "target is the mean activation wanted for each coding neuron, a "
            "number strictly between 0 and 1 (e.g. 0.1 for neurons active about "
            f"10% of the time); got {target!r}"
        )
    return float(target)


def _check_weight(weight, name: str = "weight") -> float:
    if not _is_real(weight) or not math.isfinite(weight) or weight < 0:
        raise ValueError(
            f"{name} scales the sparsity penalty against the reconstruction loss: "
            "a finite number >= 0 (0 turns the penalty off, 5e-3 is a typical "
            f"value); got {weight!r}"
        )
    return float(weight)


@keras.saving.register_keras_serializable(package="genlib")
class KLSparsityRegularizer(keras.regularizers.Regularizer):
    """Penalize coding neurons whose mean activation differs from ``target``.

    For each neuron ``j`` of the layer, ``q_j`` is its mean activation over the
    batch (over every axis but the last), and the penalty is

    ``weight * sum_j [p log(p / q_j) + (1 - p) log((1 - p) / (1 - q_j))]``

    with ``p = target``: the Kullback-Leibler divergence between a neuron active
    with probability ``p`` and one active with probability ``q_j``, summed over the
    neurons. It is zero when every ``q_j`` equals ``p`` and grows steeply as
    ``q_j`` approaches 0 or 1. The ``q_j`` are first clipped to
    ``[CLIP_EPSILON, 1 - CLIP_EPSILON]`` (1e-7), so that activations of exactly 0
    or 1 give a finite penalty.

    Use it as the ``activity_regularizer=`` of a layer whose activations lie in
    [0, 1] (a sigmoid layer). Keras 3.14 and later divide every activity-
    regularization loss by the batch size: right for penalties summed over the
    examples of a batch (such as L1), wrong for this one, computed from batch means.
    So ``__call__`` returns the penalty through :func:`genlib.compat.activity_loss`
    (times the batch size where Keras divides, as it is where Keras does not), and
    the loss Keras adds to the cost is exactly the formula above, whatever the batch
    size and the Keras version. :meth:`penalty` returns the formula itself.

    Parameters
    ----------
    target : float
        ``p``, the mean activation wanted for each neuron, strictly between 0 and 1.
    weight : float
        The sparsity weight, >= 0: how much the penalty counts against the
        reconstruction loss.

    Examples
    --------
    >>> import numpy as np
    >>> regularizer = KLSparsityRegularizer(target=0.1, weight=1.0)
    >>> at_target = np.full((4, 3), 0.1, dtype="float32")
    >>> round(float(regularizer.penalty(at_target)), 6)
    0.0
    >>> too_active = np.full((4, 3), 0.3, dtype="float32")  # 3 neurons at q = 0.3
    >>> round(float(regularizer.penalty(too_active)), 4)
    0.349
    >>> layer = keras.layers.Dense(300, activation="sigmoid",
    ...                            activity_regularizer=regularizer)
    """

    def __init__(self, target: float = 0.1, weight: float = 5e-3):
        self.target = _check_target(target)
        self.weight = _check_weight(weight)

    def penalty(self, activations):
        """``weight * sum_j KL(target || q_j)``, ``q_j`` the mean of neuron ``j``.

        >>> import numpy as np
        >>> regularizer = KLSparsityRegularizer(target=0.5, weight=2.0)
        >>> activations = np.array([[0.0], [0.5]], "float32")  # q = 0.25
        >>> round(float(regularizer.penalty(activations)), 4)
        0.2877
        """
        activations = ops.convert_to_tensor(activations)
        if "float" not in str(activations.dtype):
            activations = ops.cast(activations, "float32")
        batch_axes = tuple(range(len(activations.shape) - 1))
        q = ops.mean(activations, axis=batch_axes)
        q = ops.clip(q, CLIP_EPSILON, 1.0 - CLIP_EPSILON)
        p = ops.cast(self.target, q.dtype)
        kl = p * ops.log(p / q) + (1.0 - p) * ops.log((1.0 - p) / (1.0 - q))
        return ops.cast(self.weight, q.dtype) * ops.sum(kl)

    def __call__(self, activations):
        activations = ops.convert_to_tensor(activations)
        # Added as it is: Keras 3.14+ would otherwise divide it by the batch size.
        return activity_loss(self.penalty(activations), activations)

    def get_config(self):
        return {"target": self.target, "weight": self.weight}

    def __repr__(self):
        return (f"KLSparsityRegularizer(target={self.target:g}, "
                f"weight={self.weight:g})")


@keras.saving.register_keras_serializable(package="genlib")
class PerImageL1L2(keras.regularizers.Regularizer):
    """L1 and L2 activity penalties per image, averaged over the batch, on every Keras.

    The loss added to the cost is ``l1 * sum_j |a_ij| + l2 * sum_j a_ij**2`` for
    each image ``i``, averaged over the images of the batch: what Keras' own
    ``keras.regularizers.L1L2(l1, l2)`` adds as an activity regularizer in Keras
    3.14 and later. Older versions (Colab's 3.10 among them) add the *sum* over the
    batch instead, so the same weights are ``batch_size`` times stronger there; this
    regularizer gives the per-image penalty on every version
    (:func:`genlib.compat.activity_loss`).

    Parameters
    ----------
    l1 : float, default 0.0
        ``λ``, the weight of the L1 norm of each image's activations, >= 0.
    l2 : float, default 0.0
        The weight of the squared L2 norm of each image's activations, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> layer = keras.layers.Identity(activity_regularizer=PerImageL1L2(l1=0.5))
    >>> _ = layer(np.array([[1.0, -1.0], [0.0, 2.0]], dtype="float32"))
    >>> float(layer.losses[0])  # 0.5 * (2 + 2) / 2 images
    1.0
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = _check_weight(l1, "l1"), _check_weight(l2, "l2")

    def __call__(self, activations):
        activations = ops.convert_to_tensor(activations)
        flat = ops.reshape(activations, (ops.shape(activations)[0], -1))
        per_image = (ops.cast(self.l1, flat.dtype) * ops.sum(ops.abs(flat), axis=1)
                     + ops.cast(self.l2, flat.dtype) * ops.sum(ops.square(flat), axis=1))
        return activity_loss(ops.mean(per_image), activations)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"PerImageL1L2(l1={self.l1:g}, l2={self.l2:g})"


def build_sparse_autoencoder(activity_regularizer=None, *, coding_size: int = 300,
                             hidden_sizes=(100,),
                             image_shape=(28, 28)) -> keras.Sequential:
    """The chapter's sparse autoencoder: 784-100-300 encoder, mirrored decoder.

    The encoder flattens the image, then applies a SELU layer per entry of
    ``hidden_sizes`` and the sigmoid coding layer of ``coding_size`` units, which carries
    ``activity_regularizer`` (None for a plain autoencoder). The decoder mirrors it
    and ends with a sigmoid layer, reshaped to ``image_shape``. The result is
    ``keras.Sequential([encoder, decoder])``; the encoder is named ``"encoder"`` and
    its coding layer ``"codings"``.

    Examples
    --------
    >>> autoencoder = build_sparse_autoencoder(keras.regularizers.L1(1e-4))
    >>> encoder = autoencoder.get_layer("encoder")
    >>> type(encoder.get_layer("codings").activity_regularizer).__name__
    'L1'
    >>> autoencoder.output_shape, autoencoder.count_params()
    ((None, 28, 28), 218084)
    """
    coding_size = check_positive_int(coding_size, "coding_size")
    hidden_sizes = check_sizes(hidden_sizes, "hidden_sizes", example="(100,)")
    shape = check_sizes(image_shape, "image_shape", example="(28, 28)")
    if activity_regularizer is not None and not callable(activity_regularizer):
        raise ValueError(
            "activity_regularizer must be a Keras regularizer (e.g. "
            "keras.regularizers.L1(1e-4) or KLSparsityRegularizer(0.1, 5e-3)) or "
            f"None, got {activity_regularizer!r}"
        )
    encoder = keras.Sequential([
        keras.Input(shape),
        keras.layers.Flatten(),
        *[keras.layers.Dense(units, activation="selu") for units in hidden_sizes],
        keras.layers.Dense(coding_size, activation="sigmoid", name="codings",
                           activity_regularizer=activity_regularizer),
    ], name="encoder")
    decoder = keras.Sequential([
        keras.Input((coding_size,)),
        *[keras.layers.Dense(units, activation="selu")
          for units in hidden_sizes[::-1]],
        keras.layers.Dense(math.prod(shape), activation="sigmoid"),
        keras.layers.Reshape(shape),
    ], name="decoder")
    return keras.Sequential([encoder, decoder], name="sparse_autoencoder")


def _as_codings(codings) -> np.ndarray:
    array = as_array(codings, "codings", ndim=2)
    if array.min() < 0 or array.max() > 1:
        raise ValueError(
            "codings must be activations in [0, 1] (the output of a sigmoid coding "
            f"layer), got values from {array.min():.3g} to {array.max():.3g}"
        )
    return array


def mean_activation_per_neuron(codings) -> np.ndarray:
    """The mean activation of each coding neuron over a set of images: each ``q_j``.

    Parameters
    ----------
    codings : array of shape (n_images, n_neurons), values in [0, 1]

    Examples
    --------
    >>> mean_activation_per_neuron([[0.0, 1.0, 0.2], [0.0, 0.0, 0.4]])
    array([0. , 0.5, 0.3])
    """
    return _as_codings(codings).mean(axis=0)


def active_neurons_per_image(codings, *, threshold: float = 0.5) -> np.ndarray:
    """How many coding neurons each image activates above ``threshold``.

    Parameters
    ----------
    codings : array of shape (n_images, n_neurons), values in [0, 1]
    threshold : float
        An activation counts as "active" when it exceeds this value (in [0, 1)).

    Examples
    --------
    >>> active_neurons_per_image([[0.9, 0.1, 0.7], [0.0, 0.2, 0.3]])
    array([2, 0])
    >>> active_neurons_per_image([[0.9, 0.1, 0.7], [0.0, 0.2, 0.3]], threshold=0.15)
    array([2, 2])
    """
    if not _is_real(threshold) or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a number in [0, 1), got {threshold!r}")
    return (_as_codings(codings) > threshold).sum(axis=1)


def most_activating(codings, neurons, *, k: int = 8) -> np.ndarray:
    """Indices of the ``k`` images that activate each of ``neurons`` most.

    Parameters
    ----------
    codings : array of shape (n_images, n_neurons)
    neurons : sequence of int
        Which coding neurons to look at.
    k : int
        Images per neuron.

    Returns
    -------
    array of shape (len(neurons), k)
        Row ``i`` indexes the images (rows of ``codings``) for ``neurons[i]``,
        strongest activation first.

    Examples
    --------
    >>> codings = [[0.1, 0.9], [0.8, 0.2], [0.5, 0.6]]
    >>> most_activating(codings, [0, 1], k=2)
    array([[1, 2],
           [0, 2]])
    """
    codings = _as_codings(codings)
    k = check_positive_int(k, "k")
    if k > len(codings):
        raise ValueError(f"k={k} is more than the {len(codings)} images in codings")
    neurons = np.asarray(neurons)
    if (neurons.ndim != 1 or len(neurons) == 0
            or not np.issubdtype(neurons.dtype, np.integer)):
        raise ValueError(
            f"neurons must be a non-empty list of neuron indices, got {neurons!r}")
    if neurons.min() < 0 or neurons.max() >= codings.shape[1]:
        raise ValueError(
            f"neurons must be indices in [0, {codings.shape[1] - 1}], "
            f"got values from {neurons.min()} to {neurons.max()}")
    # A stable sort of the negated activations: ties keep the images' order.
    return np.argsort(-codings[:, neurons].T, axis=1, kind="stable")[:, :k]


@dataclass
class SparsityEvaluation:
    """What :func:`evaluate_sparsity` measures on one set of images.

    Attributes
    ----------
    loss : float
        The loss as Keras reports it (``model.evaluate`` with ``loss="mse"``):
        reconstruction MSE plus the regularization term, averaged over the batches.
    mse : float
        The reconstruction mean squared error alone.
    codings : array of shape (n_images, n_neurons)
        The activations of the coding layer.

    Examples
    --------
    >>> codings = np.array([[0.0, 0.6], [0.2, 0.0]])
    >>> evaluation = SparsityEvaluation(0.0110, 0.0102, codings)
    >>> round(evaluation.regularization, 4), evaluation.mean_activation
    (0.0008, 0.2)
    >>> evaluation.dead_neurons(), evaluation.median_active(0.1), evaluation.median_near_zero()
    (0, 1.0, 1.0)
    """

    loss: float
    mse: float
    codings: np.ndarray

    @property
    def regularization(self) -> float:
        """The part of :attr:`loss` that is not reconstruction error."""
        return self.loss - self.mse

    @property
    def mean_per_neuron(self) -> np.ndarray:
        """:func:`mean_activation_per_neuron` of the codings."""
        return mean_activation_per_neuron(self.codings)

    @property
    def mean_activation(self) -> float:
        """The mean of all activations: the average of :attr:`mean_per_neuron`."""
        return float(self.codings.mean())

    def active_per_image(self, threshold: float = 0.5) -> np.ndarray:
        """:func:`active_neurons_per_image` of the codings."""
        return active_neurons_per_image(self.codings, threshold=threshold)

    def median_active(self, threshold: float = 0.5) -> float:
        """The median over the images of their number of activations above ``threshold``."""
        return float(np.median(self.active_per_image(threshold)))

    def median_near_zero(self, threshold: float = 0.01) -> float:
        """The median over the images of their number of activations below ``threshold``
        (in (0, 1])."""
        threshold = check_real(threshold, "threshold", low=0, high=1, low_open=True)
        return float(np.median(np.sum(self.codings < threshold, axis=1)))

    def dead_neurons(self, threshold: float = 0.01) -> int:
        """How many neurons have a mean activation below ``threshold`` (in (0, 1]) over the
        images: neurons that hardly ever fire."""
        threshold = check_real(threshold, "threshold", low=0, high=1, low_open=True)
        return int(np.sum(self.mean_per_neuron < threshold))


def evaluate_sparsity(autoencoder, x, *,
                      batch_size: int = 256) -> SparsityEvaluation:
    """Measure a sparse autoencoder on images ``x``: loss, MSE and codings.

    ``autoencoder`` must be ``keras.Sequential([encoder, decoder])``, as
    :func:`build_sparse_autoencoder` returns, or have ``encoder`` and ``decoder``
    attributes. The images go through in batches of ``batch_size``; the loss is the
    MSE plus the activity-regularization losses of each batch, averaged over the
    batches as Keras does: what ``evaluate`` reports for the model compiled with
    ``loss="mse"``. A KL sparsity penalty depends on the batch size, since it uses
    batch means. The models are called directly, without compiling a prediction
    function: this is fast for the small models of the course.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((64, 28, 28)).astype("float32")
    >>> regularizer = KLSparsityRegularizer(0.1, 5e-3)
    >>> autoencoder = build_sparse_autoencoder(regularizer, coding_size=20)
    >>> evaluation = evaluate_sparsity(autoencoder, x, batch_size=32)
    >>> evaluation.codings.shape, evaluation.loss > evaluation.mse
    ((64, 20), True)
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    encoder = getattr(autoencoder, "encoder", None)
    decoder = getattr(autoencoder, "decoder", None)
    if (encoder is None and isinstance(autoencoder, keras.Sequential)
            and len(autoencoder.layers) == 2):
        encoder, decoder = autoencoder.layers
    if not (isinstance(encoder, keras.Model) and isinstance(decoder, keras.Model)):
        raise ValueError(
            "autoencoder must be keras.Sequential([encoder, decoder]) (as "
            "build_sparse_autoencoder returns) or have .encoder and .decoder "
            f"attributes; got {type(autoencoder).__name__}")
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"x must be a non-empty batch of images, got shape {x.shape}")
    codings, squared_errors, penalties = [], [], []
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size]
        batch_codings = encoder(batch, training=False)
        # The encoder's losses are those of this call: its activity regularization.
        penalty = sum(float(ops.convert_to_numpy(loss)) for loss in encoder.losses)
        reconstructions = decoder(batch_codings, training=False)
        reconstructions = ops.convert_to_numpy(reconstructions)
        codings.append(ops.convert_to_numpy(batch_codings))
        squared_errors.append(np.mean((reconstructions - batch) ** 2))
        penalties.append(penalty)
    # Keras weights each batch's loss by its number of images.
    sizes = [len(c) for c in codings]
    mse = float(np.average(squared_errors, weights=sizes))
    loss = mse + float(np.average(penalties, weights=sizes))
    return SparsityEvaluation(loss, mse, np.concatenate(codings))
