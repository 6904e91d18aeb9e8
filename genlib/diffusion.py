"""Denoising diffusion probabilistic models (chapter 8): schedules, noising, U-Net, samplers.

A diffusion model learns to undo a fixed *forward process* that destroys images by adding a
little Gaussian noise at each of ``T`` steps, until nothing but noise is left. The amount
of noise added at step ``t`` is ``β_t`` (a :class:`NoiseSchedule`); thanks to a closed form,
the noisy image at any step can be drawn in one go from the clean one (:func:`add_noise`).
A network (:func:`build_noise_predictor`, a small U-Net told ``t`` through a
:class:`SinusoidalEmbedding`) is trained to predict the noise that was added
(:class:`DiffusionModel`, :func:`fit_diffusion`); generating then starts from pure noise and
removes a little predicted noise at a time, either through all ``T`` steps
(:meth:`DiffusionModel.sample_ddpm`, Ho et al. 2020) or through a few strided steps
(:meth:`DiffusionModel.sample`, DDIM, Song et al. 2021).

Images live in [-1, 1] here, like a GAN's (:func:`to_diffusion_range`): the noise has unit
variance, so the data should be on the same scale. Step indices ``t`` run from 0 (a little
noise) to ``T - 1`` (almost pure noise).

>>> from genlib import diffusion
>>> schedule = diffusion.cosine_schedule(100)
>>> network = diffusion.build_noise_predictor(filters=(8, 16))
>>> model = diffusion.DiffusionModel(network, schedule)
>>> model.sample(2, steps=5, seed=0).shape
(2, 28, 28)
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from genlib._validation import (
    check_instance,
    check_positive_int,
    check_real,
    check_seed,
    check_sizes,
)
from genlib.data import IMAGE_SHAPE, make_dataset
from genlib.generative import check_signed_batch, to_signed_range
from genlib.progress import EpochProgress, StepProgress
from genlib.training import TrainingRun, warmup_cosine_adam

# ---------------------------------------------------------------------------------------------
# Variance schedules
# ---------------------------------------------------------------------------------------------


class NoiseSchedule:
    """The variances ``β_t`` of the forward process, and the quantities derived from them.

    For ``t = 0 … T - 1``: ``α_t = 1 - β_t`` and ``ᾱ_t = α_0 α_1 … α_t``. The noisy image at
    step ``t`` is ``√ᾱ_t x_0 + √(1 - ᾱ_t) ε`` (:func:`add_noise`): ``ᾱ_t`` is the share of
    the clean image's variance that is left, ``1 - ᾱ_t`` the share of the noise.

    Parameters
    ----------
    betas : 1-D array of floats in (0, 1)
        One variance per step; ``T = len(betas)``.
    name : str
        A label for plots and printouts.

    Examples
    --------
    >>> schedule = NoiseSchedule([0.1, 0.2, 0.5])
    >>> schedule.alphas.round(2), schedule.alpha_bars.round(2)
    (array([0.9, 0.8, 0.5]), array([0.9 , 0.72, 0.36]))
    >>> schedule.n_steps
    3
    """

    def __init__(self, betas, name: str = "custom"):
        try:
            betas = np.asarray(betas, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a 1-D array of numbers, got {betas!r}") from None
        if betas.ndim != 1 or betas.size == 0:
            raise ValueError(f"betas must be a non-empty 1-D array (one variance per step), "
                             f"got shape {betas.shape}")
        if not np.all(np.isfinite(betas)) or betas.min() <= 0 or betas.max() >= 1:
            raise ValueError(
                f"every beta must lie in (0, 1), got values in [{np.nanmin(betas):.3g}, "
                f"{np.nanmax(betas):.3g}]: beta_t = 0 adds no noise, and beta_t = 1 erases the "
                "image and makes the reverse step divide by zero (cap it, e.g. at 0.999)")
        self.betas = betas
        self.name = str(name)
        self.alphas = 1.0 - betas
        self.alpha_bars = np.cumprod(self.alphas)

    @property
    def n_steps(self) -> int:
        """The number of steps ``T``.

        >>> linear_schedule(1000).n_steps
        1000
        """
        return len(self.betas)

    def check_steps(self, t, name: str = "t") -> np.ndarray:
        """``t`` as an int32 array of step indices, or a ValueError if any is outside [0, T).

        >>> cosine_schedule(10).check_steps([0, 9])
        array([0, 9], dtype=int32)
        >>> cosine_schedule(10).check_steps(10)
        Traceback (most recent call last):
        ...
        ValueError: t must hold step indices in [0, 10) (0 is the first, least noisy step; T - 1 = 9
        the last), got values in [10, 10]
        """
        array = np.asarray(keras.ops.convert_to_numpy(t) if _is_tensor(t) else t)
        if array.dtype.kind not in "iu":
            if array.dtype.kind == "f" and np.all(array == np.round(array)):
                array = array.astype(np.int64)
            else:
                raise ValueError(f"{name} must hold integer step indices, got {array.dtype} "
                                 f"values")
        if array.size and (array.min() < 0 or array.max() >= self.n_steps):
            raise ValueError(
                f"{name} must hold step indices in [0, {self.n_steps}) (0 is the first, least "
                f"noisy step; T - 1 = {self.n_steps - 1} the last), got values in "
                f"[{array.min()}, {array.max()}]")
        return array.astype(np.int32)

    def get_config(self) -> dict:
        """What :meth:`from_config` needs (saved with a :class:`DiffusionModel`).

        >>> NoiseSchedule.from_config(linear_schedule(5).get_config()).name
        'linear'
        """
        return {"betas": self.betas.tolist(), "name": self.name}

    @classmethod
    def from_config(cls, config) -> "NoiseSchedule":
        """The schedule described by ``config`` (see :meth:`get_config`)."""
        return cls(**config)

    def __repr__(self) -> str:
        return (f"NoiseSchedule({self.name!r}, T={self.n_steps}, beta in "
                f"[{self.betas.min():.3g}, {self.betas.max():.3g}], last alpha_bar "
                f"{self.alpha_bars[-1]:.3g})")


def _is_tensor(value) -> bool:
    return isinstance(value, (tf.Tensor, tf.Variable)) or keras.ops.is_tensor(value)


def _check_n_steps(n_steps):
    return check_positive_int(n_steps, "n_steps", minimum=2)


def linear_schedule(n_steps: int = 1000, beta_start: float = 1e-4,
                    beta_end: float = 0.02) -> NoiseSchedule:
    """Variances growing linearly from ``beta_start`` to ``beta_end`` (Ho et al. 2020).

    The defaults are the DDPM paper's for ``T = 1000``. For another ``T`` both ends are
    scaled by ``1000 / T``, so that the total amount of noise stays about the same
    (Nichol & Dhariwal 2021 do the same); they are capped at 0.999.

    Examples
    --------
    >>> schedule = linear_schedule(1000)
    >>> schedule.betas[[0, -1]].tolist()
    [0.0001, 0.02]
    >>> float(schedule.alpha_bars[-1]) < 1e-4     # almost nothing of the image is left
    True
    """
    n_steps = _check_n_steps(n_steps)
    beta_start = check_real(beta_start, "beta_start", low=0, high=1, low_open=True,
                            high_open=True)
    beta_end = check_real(beta_end, "beta_end", low=0, high=1, low_open=True, high_open=True)
    if not beta_start < beta_end:
        raise ValueError(f"need 0 < beta_start < beta_end < 1, got beta_start={beta_start!r}, "
                         f"beta_end={beta_end!r}")
    scale = 1000 / n_steps
    betas = np.linspace(beta_start * scale, beta_end * scale, n_steps)
    return NoiseSchedule(np.minimum(betas, 0.999), name="linear")


def cosine_schedule(n_steps: int = 1000, offset: float = 0.008,
                    max_beta: float = 0.999) -> NoiseSchedule:
    """The cosine schedule of Nichol & Dhariwal (2021), with ``β_t`` capped at ``max_beta``.

    It sets ``ᾱ`` directly, ``ᾱ(t) = f(t) / f(0)`` with
    ``f(t) = cos²((t / T + offset) / (1 + offset) · π / 2)``, so that the image fades
    slowly at both ends instead of being almost gone halfway (as with the linear
    schedule), and derives ``β_t = 1 - ᾱ(t + 1) / ᾱ(t)``. The last ``β`` would be 1 (all
    of the image erased in one step, and a division by zero in the reverse step): the cap
    keeps it finite.

    Examples
    --------
    >>> schedule = cosine_schedule(1000)
    >>> float(schedule.betas.max())
    0.999
    >>> round(float(schedule.alpha_bars[499]), 2)      # halfway, half the variance is noise
    0.49
    """
    n_steps, offset, max_beta = _check_cosine(n_steps, offset, max_beta)

    def f(step):
        return np.cos((step / n_steps + offset) / (1 + offset) * np.pi / 2) ** 2

    steps = np.arange(n_steps + 1, dtype=np.float64)
    betas = 1.0 - f(steps[1:]) / f(steps[:-1])
    return NoiseSchedule(np.clip(betas, 1e-8, max_beta), name="cosine")


def _check_cosine(n_steps, offset, max_beta):
    n_steps = _check_n_steps(n_steps)
    offset = check_real(offset, "offset", low=0, high=1, high_open=True,
                        hint=" (0.008 in the paper)")
    max_beta = check_real(max_beta, "max_beta", low=0, high=1, low_open=True,
                          high_open=True, hint=" (0.999 is usual): beta = 1 would make the "
                          "reverse step divide by zero")
    return n_steps, offset, max_beta


# ---------------------------------------------------------------------------------------------
# The forward process
# ---------------------------------------------------------------------------------------------


def _steps_and_shape(schedule, images, t, noise):
    """Validate (eagerly, when the values are known) the arguments of :func:`add_noise`."""
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule (e.g. cosine_schedule(1000)), got "
                        f"{type(schedule).__name__}")
    shape = tuple(images.shape)
    if len(shape) < 2:
        raise ValueError(f"images must be a batch (n, height, width), got shape {shape}")
    if tuple(noise.shape) != shape:
        raise ValueError(f"noise must have the shape of the images, {shape}, got "
                         f"{tuple(noise.shape)}: draw it with np.random.standard_normal"
                         f"(images.shape)")
    if not _is_tensor(t):
        t = np.asarray(t)
    t_shape = tuple(t.shape)
    if t_shape not in ((), (shape[0],)) and shape[0] is not None:
        raise ValueError(f"t must be one step index, or one per image (shape ({shape[0]},)), "
                         f"got shape {t_shape}")
    if not _is_tensor(t) or tf.executing_eagerly():
        t = schedule.check_steps(t)
    return t


def add_noise(schedule: NoiseSchedule, images, t, noise):
    """Noisy images at step ``t``, in one go: ``√ᾱ_t x_0 + √(1 - ᾱ_t) ε``.

    The closed form of the forward process ``q(x_t | x_0)``: adding ``t + 1`` rounds of
    independent Gaussian noise is the same as adding one Gaussian noise of the combined
    variance, so the noisy image of any step can be drawn directly from the clean one.

    Parameters
    ----------
    schedule : NoiseSchedule
    images : array or tensor of shape (n, ...)
        Clean images ``x_0``, in [-1, 1].
    t : int or array of n ints in [0, T)
        The step, one for all images or one per image.
    noise : array or tensor of the images' shape
        Standard normal noise ``ε``.

    Returns
    -------
    A float32 tensor of the images' shape (``np.asarray`` turns it into an array).

    Examples
    --------
    >>> schedule = NoiseSchedule([0.1, 0.2, 0.5])          # ᾱ = 0.9, 0.72, 0.36
    >>> x0, noise = np.ones((2, 1, 1)), np.full((2, 1, 1), 0.5)
    >>> np.asarray(add_noise(schedule, x0, [0, 2], noise)).ravel().round(4)
    array([1.1068, 1.    ], dtype=float32)

    A step outside ``[0, T)``, or noise of another shape than the images, is a
    ``ValueError`` that says what was expected (see :meth:`NoiseSchedule.check_steps`).
    """
    images = images if _is_tensor(images) else np.asarray(images, dtype="float32")
    noise = noise if _is_tensor(noise) else np.asarray(noise, dtype="float32")
    t = _steps_and_shape(schedule, images, t, noise)
    images, noise = ops.cast(images, "float32"), ops.cast(noise, "float32")
    alpha_bars = ops.convert_to_tensor(schedule.alpha_bars, dtype="float32")
    alpha_bar = ops.take(alpha_bars, ops.cast(t, "int32"))
    # One step index for all images, or one per image broadcast over its pixels.
    if len(alpha_bar.shape) == 1:
        alpha_bar = ops.reshape(alpha_bar, (-1,) + (1,) * (len(images.shape) - 1))
    return ops.sqrt(alpha_bar) * images + ops.sqrt(1.0 - alpha_bar) * noise


def to_diffusion_range(images):
    """Scale images from [0, 1] to [-1, 1], the scale of the unit-variance noise.

    >>> to_diffusion_range(np.array([0.0, 0.5, 1.0]))
    array([-1.,  0.,  1.], dtype=float32)
    """
    return to_signed_range(images)


def check_diffusion_batch(images, image_shape=IMAGE_SHAPE, name="images"):
    """``images`` as a float32 array of shape (n, *image_shape) in [-1, 1], or a ValueError.

    A trailing channel axis of 1 is accepted (and dropped).

    >>> check_diffusion_batch(np.zeros((2, 28, 28, 1))).shape
    (2, 28, 28)
    >>> check_diffusion_batch(np.zeros((2, 784)))
    Traceback (most recent call last):
    ...
    ValueError: images has shape (2, 784); the model works on batches of shape (n, 28, 28): reshape
    flat images with x.reshape(-1, 28, 28)
    """
    return check_signed_batch(
        images, image_shape, name, works_on="the model works on",
        range_hint="scale images in [0, 1] with genlib.diffusion.to_diffusion_range(x) "
                   "(x * 2 - 1)")


# ---------------------------------------------------------------------------------------------
# The noise predictor
# ---------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="genlib")
class SinusoidalEmbedding(keras.layers.Layer):
    """Step indices ``t`` → vectors of sines and cosines of ``t`` at many frequencies.

    The positional encoding of the Transformer (Vaswani et al. 2017), applied to the
    diffusion step: ``[sin(t ω_0), …, sin(t ω_{d/2-1}), cos(t ω_0), …]`` with frequencies
    ``ω_i = max_period^(-i / (d/2))`` from 1 down to about ``1 / max_period``. Nearby steps
    get similar vectors, far-apart steps different ones, and every vector has the same
    norm, which makes them easy inputs for the dense layers that follow. No weights.

    Parameters
    ----------
    dim : int
        Length of each vector (even).
    max_period : float
        The slowest wave's period, in steps.

    Examples
    --------
    >>> embedding = SinusoidalEmbedding(dim=4)
    >>> np.asarray(embedding(np.array([0, 1]))).round(3)
    array([[0.   , 0.   , 1.   , 1.   ],
           [0.841, 0.01 , 0.54 , 1.   ]], dtype=float32)
    """

    def __init__(self, dim: int = 32, max_period: float = 10_000.0, **kwargs):
        super().__init__(**kwargs)
        dim = check_positive_int(dim, "dim", minimum=2)
        if dim % 2:
            raise ValueError(f"dim must be even (one sine and one cosine per frequency), "
                             f"got {dim}")
        if not max_period > 1:
            raise ValueError(f"max_period must be > 1 (10,000 is usual), got {max_period!r}")
        self.dim, self.max_period = dim, float(max_period)

    def call(self, t):
        half = self.dim // 2
        exponents = ops.arange(half, dtype="float32") / half
        frequencies = ops.exp(-math.log(self.max_period) * exponents)
        angles = ops.reshape(ops.cast(t, "float32"), (-1, 1)) * frequencies[None, :]
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0] if input_shape else None, self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period}


def _residual_block(x, time_features, filters, name):
    """Two 3 × 3 convolutions with the step's features added in between, plus a shortcut."""
    h = keras.layers.Activation("swish", name=f"{name}_act1")(x)
    h = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(h)
    # The step tells each block how much noise to expect: one learned shift per channel.
    shift = keras.layers.Dense(filters, name=f"{name}_time")(time_features)
    h = keras.layers.Add(name=f"{name}_add_time")(
        [h, keras.layers.Reshape((1, 1, filters), name=f"{name}_time_map")(shift)])
    h = keras.layers.Activation("swish", name=f"{name}_act2")(h)
    h = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(h)
    if x.shape[-1] != filters:
        x = keras.layers.Conv2D(filters, 1, name=f"{name}_shortcut")(x)
    return keras.layers.Add(name=f"{name}_out")([x, h])


def build_noise_predictor(image_shape=IMAGE_SHAPE, *, filters=(32, 64, 64),
                          time_dim: int = 128, time: str = "index") -> keras.Model:
    """A small U-Net that predicts the noise in ``x_t``, told the step ``t``.

    Inputs ``[x_t, t]``: noisy images of shape ``image_shape`` and one step index per
    image. The step goes through a :class:`SinusoidalEmbedding` and two dense layers; every
    residual block adds a learned projection of it to its feature maps. The encoder path
    has one residual block per resolution and halves the resolution (stride-2 convolution)
    between them, with ``filters[i]`` channels at the ``i``-th resolution; a block works at
    the lowest resolution; the decoder path doubles the resolution back (upsampling and a
    convolution) and concatenates the encoder's feature maps of the same resolution (the
    U-Net's skip connections, Ronneberger et al. 2015), so that fine details need not pass
    through the bottleneck. The last convolution starts at zero, so the untrained network
    predicts no noise. No normalization layers: at this size they cost more time than they
    bring (see chapter 8).

    Parameters
    ----------
    image_shape : (height, width), default (28, 28)
        Both must be divisible by ``2 ** (len(filters) - 1)``.
    filters : sequence of int, default (32, 64, 64)
        Channels at each resolution, from the finest to the coarsest.
    time_dim : int, default 128
        Size of the step's features.
    time : {"index", "fraction"}, default "index"
        What the second input holds: step indices (int32, as here), or times in [0, 1]
        (float32, for chapter 9's flow matching), scaled by 1,000 before the embedding so
        that the same network sees the same range of values.

    Examples
    --------
    >>> network = build_noise_predictor(filters=(8, 16))
    >>> [tuple(shape) for shape in network.input_shape], network.output_shape
    ([(None, 28, 28), (None,)], (None, 28, 28))

    Image sides that the resolutions cannot halve evenly (e.g. four resolutions for
    28 × 28 images) are a ``ValueError`` that suggests fewer entries in ``filters``.
    """
    image_shape, filters, time_dim = _check_unet(image_shape, filters, time_dim,
                                                 time)

    images = keras.Input(image_shape, name="x_t")
    if time == "index":
        steps = scaled = keras.Input((), dtype="int32", name="t")
    else:  # a time in [0, 1], on the scale of 1,000 step indices
        steps = keras.Input((), dtype="float32", name="t")
        scaled = keras.layers.Rescaling(1000.0)(steps)
    embedding_dim = filters[0] + filters[0] % 2  # sines and cosines: an even size
    time_features = SinusoidalEmbedding(embedding_dim,
                                        name="time_embedding")(scaled)
    time_features = keras.layers.Dense(time_dim, activation="swish",
                                       name="time_dense1")(time_features)
    time_features = keras.layers.Dense(time_dim, activation="swish",
                                       name="time_dense2")(time_features)

    x = keras.layers.Reshape((*image_shape, 1), name="add_channel")(images)
    x = keras.layers.Conv2D(filters[0], 3, padding="same", name="stem")(x)
    skips = []
    for level, channels in enumerate(filters):
        x = _residual_block(x, time_features, channels, f"down{level}")
        skips.append(x)
        if level + 1 < len(filters):
            x = keras.layers.Conv2D(filters[level + 1], 3, strides=2,
                                    padding="same", name=f"downsample{level}")(x)
    x = _residual_block(x, time_features, filters[-1], "middle")
    for level in reversed(range(len(filters))):
        x = keras.layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = _residual_block(x, time_features, filters[level], f"up{level}")
        if level > 0:
            x = keras.layers.UpSampling2D(2, name=f"upsample{level}")(x)
            x = keras.layers.Conv2D(filters[level - 1], 3, padding="same",
                                    name=f"upsample{level}_conv")(x)
    x = keras.layers.Activation("swish", name="head_act")(x)
    x = keras.layers.Conv2D(1, 3, padding="same", kernel_initializer="zeros",
                            name="head")(x)
    noise = keras.layers.Reshape(image_shape, name="predicted_noise")(x)
    return keras.Model([images, steps], noise, name="noise_predictor")


def _check_unet(image_shape, filters, time_dim, time="index"):
    if time not in ("index", "fraction"):
        raise ValueError(f"time must be 'index' (step indices) or 'fraction' (times in "
                         f"[0, 1]), got {time!r}")
    image_shape = check_sizes(image_shape, "image_shape", length=2, example="(28, 28)")
    filters = check_sizes(filters, "filters", example="(32, 64, 64)")
    factor = 2 ** (len(filters) - 1)
    if any(side % factor for side in image_shape):
        raise ValueError(
            f"with {len(filters)} resolutions the image's sides must be divisible by 2 ** "
            f"{len(filters) - 1} = {factor}, got image_shape {image_shape}: use fewer "
            f"filters (e.g. 3 entries for 28 x 28 images)")
    return image_shape, filters, check_positive_int(time_dim, "time_dim")


# ---------------------------------------------------------------------------------------------
# The model: training and sampling
# ---------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="genlib")
class DiffusionModel(keras.Model):
    """A noise-predicting network and its noise schedule: a DDPM, trained by ``fit``.

    Each training step (:meth:`train_step`, the "simple" objective of Ho et al. 2020)
    draws a random step ``t`` and standard normal noise ``ε`` for every image of the batch,
    makes the noisy images ``x_t`` in one go (:func:`add_noise`), and minimizes the mean
    squared error between ``ε`` and the network's prediction ``ε_θ(x_t, t)`` (optionally
    weighted per step, see :meth:`loss_weights`). Real
    images must be in [-1, 1] (:func:`to_diffusion_range`).

    Generating reverses the process: :meth:`sample_ddpm` takes all ``T`` steps of the DDPM
    sampler, :meth:`sample` a few strided steps of the DDIM family (Song et al. 2021).
    Both run each step as a compiled ``tf.function`` and return images in [0, 1].

    Parameters
    ----------
    network : keras.Model
        ``[x_t, t] → predicted noise``, e.g. :func:`build_noise_predictor`.
    schedule : NoiseSchedule
    sampling_steps : int, optional
        The default number of steps of :meth:`sample` (50, or ``T`` if smaller).
    sampling_eta : float, default 0.0
        The default ``eta`` of :meth:`sample`, in [0, 1]: 0 samples deterministically,
        1 adds as much fresh noise at each step as the DDPM sampler.
    sampling_spacing : float, default 1.0
        The default ``spacing`` of :meth:`sample`, a positive power: the ``i``-th of ``S``
        steps is at ``t = (T - 1) (i / (S - 1))^spacing``. 1 spaces them evenly, less than 1
        puts more of them where the noise is high, more than 1 where it is low.
    min_snr_gamma : float, optional
        Weigh each image's squared error by ``min(SNR_t, γ) / SNR_t``
        (:meth:`loss_weights`); ``None``, the default, is the plain mean of Ho et al.
    seed : int, optional
        Seed of the steps and noise drawn during training.

    Examples
    --------
    >>> x = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28)).astype("float32")
    >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(50))
    >>> model.compile(keras.optimizers.Adam(1e-3))
    >>> history = model.fit(diffusion_dataset(x, batch_size=32), epochs=2, verbose=0)
    >>> sorted(history.history)
    ['loss']
    """

    def __init__(self, network, schedule: NoiseSchedule, *, sampling_steps: int | None = None,
                 sampling_eta: float = 0.0, sampling_spacing: float = 1.0,
                 min_snr_gamma: float | None = None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(network, keras.Model):
            raise TypeError(f"network must be a keras.Model, got {type(network).__name__}")
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a NoiseSchedule (e.g. cosine_schedule(1000)), "
                            f"got {type(schedule).__name__}")
        inputs = network.inputs if network.built else None
        if not inputs or len(inputs) != 2:
            raise ValueError("network must be a built model with two inputs, [x_t, t] "
                             "(e.g. build_noise_predictor())")
        self.network, self.schedule = network, schedule
        self.image_shape = tuple(int(side) for side in inputs[0].shape[1:])
        if tuple(network.output_shape[1:]) != self.image_shape:
            raise ValueError(f"the network must output the noise, with the shape of its "
                             f"input images {self.image_shape}, got "
                             f"{tuple(network.output_shape[1:])}")
        if sampling_steps is None:
            sampling_steps = min(50, schedule.n_steps)
        self.sampling_steps = self._check_sampling_steps(sampling_steps)
        self.sampling_eta = self._check_eta(sampling_eta, "sampling_eta")
        self.sampling_spacing = self._check_spacing(sampling_spacing, "sampling_spacing")
        if min_snr_gamma is not None:
            min_snr_gamma = check_real(min_snr_gamma, "min_snr_gamma", low=0, low_open=True,
                                       hint=" (5 in Hang et al. 2023), or None for the "
                                       "plain mean squared error")
        self.min_snr_gamma = min_snr_gamma
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._compiled_steps = {}
        self.built = True  # the network is built

    def _check_sampling_steps(self, steps):
        steps = check_positive_int(steps, "steps")
        if steps > self.schedule.n_steps:
            raise ValueError(f"steps must be at most T = {self.schedule.n_steps} (the steps "
                             f"of the schedule), got {steps}")
        return steps

    @staticmethod
    def _check_eta(eta, name="eta"):
        return check_real(eta, name, low=0, high=1, hint=" (0: deterministic DDIM, 1: as "
                          "much noise as the DDPM sampler)")

    @staticmethod
    def _check_spacing(spacing, name="spacing"):
        return check_real(spacing, name, low=0, low_open=True,
                          hint=" (1: evenly spaced steps, below 1: more steps at high noise)")

    # -- training -----------------------------------------------------------------------------

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``, after checking the images (shape and range) first."""
        if isinstance(x, tf.data.Dataset):
            first = next(iter(x.take(1)))
            check_diffusion_batch(first, self.image_shape, "the dataset's first batch")
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself
        elif x is not None:
            x = check_diffusion_batch(x, self.image_shape, "x")
        return super().fit(x, *args, **kwargs)

    def train_step(self, data):
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if tuple(images.shape[1:]) == (*self.image_shape, 1):
            images = ops.squeeze(images, axis=-1)
        elif tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"this model trains on batches of shape (n, "
                             f"{', '.join(map(str, self.image_shape))}), got "
                             f"{tuple(images.shape)}")
        batch_size = ops.shape(images)[0]
        t = keras.random.randint((batch_size,), 0, self.schedule.n_steps,
                                 seed=self.seed_generator)
        noise = keras.random.normal(ops.shape(images), seed=self.seed_generator)
        noisy_images = add_noise(self.schedule, images, t, noise)
        with tf.GradientTape() as tape:
            predicted_noise = self.network([noisy_images, t], training=True)
            errors = ops.mean(ops.square(noise - predicted_noise), axis=(1, 2))
            loss = ops.mean(self.loss_weights(t) * errors)
        weights = self.network.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def loss_weights(self, t):
        """The weight of each image's squared error: 1, or ``min(SNR_t, γ) / SNR_t``.

        With ``min_snr_gamma = γ`` (Hang et al. 2023), the steps with little noise, whose
        signal-to-noise ratio ``SNR_t = ᾱ_t / (1 - ᾱ_t)`` exceeds ``γ``, weigh less: their
        noise is nearly impossible to tell from fine details of the image, and their
        large gradients would otherwise slow down learning the coarse structure.

        >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(10),
        ...                        min_snr_gamma=5.0)
        >>> [round(float(w), 2) for w in model.loss_weights(np.arange(10))]
        [0.14, 0.56, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
        """
        if self.min_snr_gamma is None:
            return ops.ones(ops.shape(t), dtype="float32")
        snr = self.schedule.alpha_bars / (1.0 - self.schedule.alpha_bars)
        weights = np.minimum(snr, self.min_snr_gamma) / snr
        return ops.take(ops.convert_to_tensor(weights, dtype="float32"), t)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def predict_noise(self, noisy_images, t):
        """The network's estimate of the noise in ``noisy_images`` at step(s) ``t``.

        Checks the arguments first; returns a NumPy array of the images' shape.

        >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(10))
        >>> model.predict_noise(np.zeros((2, 28, 28)), [0, 9]).shape   # zero-initialized head
        (2, 28, 28)
        >>> model.predict_noise(np.zeros((2, 32, 32)), 0)
        Traceback (most recent call last):
        ...
        ValueError: noisy_images has shape (2, 32, 32); the model works on batches of shape (n, 28,
        28)
        """
        images = np.asarray(noisy_images, dtype="float32")
        if images.shape[1:] not in (self.image_shape, (*self.image_shape, 1)):
            raise ValueError(f"noisy_images has shape {images.shape}; the model works on "
                             f"batches of shape (n, {', '.join(map(str, self.image_shape))})")
        images = images.reshape((len(images), *self.image_shape))
        t = self.schedule.check_steps(t)
        if t.ndim == 0:
            t = np.full(len(images), t, dtype="int32")
        elif t.shape != (len(images),):
            raise ValueError(f"t must be one step index, or one per image (shape "
                             f"({len(images)},)), got shape {t.shape}")
        return np.asarray(self.network([images, t], training=False))

    # -- sampling -----------------------------------------------------------------------------

    def _predict(self, x, t):
        x = ops.convert_to_tensor(x, dtype="float32")
        steps = ops.full((ops.shape(x)[0],), ops.cast(t, "int32"))
        return x, self.network([x, steps], training=False)

    def ddpm_step(self, x, t, alpha, alpha_bar, sigma, z):
        """One reverse step of the DDPM sampler, from step index ``t`` to the one before.

        ``(x - (1 - α_t) / √(1 - ᾱ_t) ε_θ(x, t)) / √α_t + σ z``: remove the scaled
        predicted noise, undo the forward step's shrinking, then add fresh noise ``z`` of
        standard deviation ``σ`` (0 at the last step). :meth:`sample_ddpm` calls it,
        compiled, once per step.

        >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(10))
        >>> x = np.ones((1, 28, 28), "float32")     # the untrained network predicts ε = 0
        >>> float(model.ddpm_step(x, 5, 0.81, 0.5, 0.0, x)[0, 0, 0])     # 1 / √0.81
        1.1111111640930176
        """
        x, eps = self._predict(x, t)
        mean = (x - (1.0 - alpha) / ops.sqrt(1.0 - alpha_bar) * eps) / ops.sqrt(alpha)
        return mean + sigma * z

    def ddim_step(self, x, t, alpha_bar, alpha_bar_prev, sigma, z):
        """One strided reverse step (DDIM): from step index ``t`` to an earlier one.

        Estimate the clean image ``x̂_0`` from the predicted noise, clip it to the data's
        range [-1, 1], recompute the noise that goes with it, and rebuild the image at the
        earlier step (whose ``ᾱ`` is ``alpha_bar_prev``) along that same noise, plus fresh
        noise ``σ z``. :meth:`sample` calls it, compiled, once per step.

        >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(10))
        >>> x = np.full((1, 28, 28), 0.5, "float32")   # the untrained network: ε = 0
        >>> float(model.ddim_step(x, 5, 0.25, 1.0, 0.0, x)[0, 0, 0])   # x̂_0 = 0.5 / √0.25
        1.0
        """
        x, eps = self._predict(x, t)
        x0 = (x - ops.sqrt(1.0 - alpha_bar) * eps) / ops.sqrt(alpha_bar)
        x0 = ops.clip(x0, -1.0, 1.0)
        eps = (x - ops.sqrt(alpha_bar) * x0) / ops.sqrt(1.0 - alpha_bar)
        direction = ops.sqrt(ops.maximum(1.0 - alpha_bar_prev - sigma**2, 0.0)) * eps
        return ops.sqrt(alpha_bar_prev) * x0 + direction + sigma * z

    def _step_function(self, kind):
        """The compiled reverse step (one graph per kind, traced once for any batch size)."""
        if kind not in self._compiled_steps:
            scalar = tf.TensorSpec([], tf.float32)
            batch = tf.TensorSpec([None, *self.image_shape], tf.float32)
            signature = [batch, tf.TensorSpec([], tf.int32), scalar, scalar, scalar, batch]
            step = {"ddpm": self.ddpm_step, "ddim": self.ddim_step}[kind]
            self._compiled_steps[kind] = tf.function(step, input_signature=signature,
                                                     jit_compile=self.jit_sampling)
        return self._compiled_steps[kind]

    #: Compile the reverse step with XLA too. Off: on a CPU, XLA made the step slower (and
    #: recompiles for every new batch size); chapter 8 measures it.
    jit_sampling = False

    def _run(self, kind, plan, n, seed, progress, keep):
        """Run the reverse steps of ``plan`` (t, coefficients) on ``n`` images of noise."""
        rng = np.random.default_rng(check_seed(seed))
        x = rng.standard_normal((n, *self.image_shape)).astype("float32")
        step = self._step_function(kind)
        kept = [x] if keep else None
        bar = StepProgress(len(plan), f"{kind} step") if progress else None
        for i, (t, a, b, sigma) in enumerate(plan):
            z = (rng.standard_normal(x.shape).astype("float32") if sigma > 0
                 else np.zeros_like(x))
            x = step(x, np.int32(t), np.float32(a), np.float32(b), np.float32(sigma),
                     z).numpy()
            if keep:
                kept.append(x)
            if bar is not None:
                bar.update(i + 1)
        images = np.clip((x + 1.0) / 2.0, 0.0, 1.0)
        if keep:
            return images, np.stack(kept, axis=1)
        return images

    def sample_ddpm(self, n: int, *, seed: int | None = None, progress: bool = False,
                    trajectory: bool = False):
        """``n`` images through all ``T`` reverse steps of the DDPM sampler, in [0, 1].

        From ``x_{T-1}`` drawn from ``N(0, I)``, each step ``t = T-1 … 0`` computes
        ``x_{t-1} = (x_t - β_t / √(1 - ᾱ_t) ε_θ(x_t, t)) / √α_t + σ_t z`` with fresh noise
        ``z`` and ``σ_t² = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)``, the variance of the forward
        process' posterior; the last step adds no noise. ``trajectory=True`` also returns
        every intermediate batch, of shape (n, T + 1, height, width), in [-1, 1] and beyond.

        >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(10))
        >>> images, path = model.sample_ddpm(2, seed=0, trajectory=True)
        >>> images.shape, path.shape
        ((2, 28, 28), (2, 11, 28, 28))
        """
        n = check_positive_int(n, "n")
        s = self.schedule
        plan = []
        for t in range(s.n_steps - 1, -1, -1):
            previous = s.alpha_bars[t - 1] if t > 0 else 1.0
            variance = s.betas[t] * (1.0 - previous) / (1.0 - s.alpha_bars[t])
            plan.append((t, s.alphas[t], s.alpha_bars[t], math.sqrt(variance)))
        return self._run("ddpm", plan, n, seed, progress, trajectory)

    def sampling_plan(self, steps: int | None = None, eta: float | None = None,
                      spacing: float | None = None):
        """The steps of :meth:`sample`: ``(t, ᾱ_t, ᾱ_prev, σ)`` for each, from noisy to clean.

        ``steps`` indices ``t = (T - 1) (i / (steps - 1))^spacing`` (rounded, duplicates
        dropped), in decreasing order; ``σ`` is the DDIM noise scale
        ``η √((1 - ᾱ_prev) / (1 - ᾱ_t)) √(1 - ᾱ_t / ᾱ_prev)``. ``steps``, ``eta`` and
        ``spacing`` default to :attr:`sampling_steps`, :attr:`sampling_eta` and
        :attr:`sampling_spacing`.

        >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(100))
        >>> [t for t, *_ in model.sampling_plan(5)]
        [99, 74, 50, 25, 0]
        >>> [t for t, *_ in model.sampling_plan(5, spacing=0.5)]   # more steps at high noise
        [99, 86, 70, 50, 0]
        """
        steps = self._check_sampling_steps(self.sampling_steps if steps is None else steps)
        eta = self._check_eta(self.sampling_eta if eta is None else eta)
        spacing = self._check_spacing(self.sampling_spacing if spacing is None else spacing)
        s = self.schedule
        fractions = np.linspace(0, 1, steps) ** spacing
        times = np.unique((fractions * (s.n_steps - 1)).round().astype(int))[::-1]
        plan = []
        for i, t in enumerate(times):
            a = s.alpha_bars[t]
            previous = s.alpha_bars[times[i + 1]] if i + 1 < len(times) else 1.0
            sigma = eta * math.sqrt((1 - previous) / (1 - a) * (1 - a / previous))
            plan.append((int(t), a, previous, sigma))
        return plan

    def sample(self, n: int, *, steps: int | None = None, eta: float | None = None,
               spacing: float | None = None, seed: int | None = None,
               progress: bool = False, trajectory: bool = False):
        """``n`` images in [0, 1] through ``steps`` strided reverse steps (DDIM).

        Song et al. (2021) showed that a network trained for the DDPM also defines samplers
        that skip steps: at each step, estimate the clean image
        ``x̂_0 = (x_t - √(1 - ᾱ_t) ε_θ) / √ᾱ_t`` (clipped to [-1, 1]), then move to an
        earlier step ``s``: ``x_s = √ᾱ_s x̂_0 + √(1 - ᾱ_s - σ²) ε_θ + σ z``. With
        ``eta = 0`` (``σ = 0``) the sampler is deterministic; ``eta = 1`` adds as much noise
        as the DDPM sampler. ``spacing`` places the steps (:meth:`sampling_plan`). ``steps``,
        ``eta`` and ``spacing`` default to the model's :attr:`sampling_steps`,
        :attr:`sampling_eta` and :attr:`sampling_spacing`.

        >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(20))
        >>> images = model.sample(3, steps=4, seed=1)
        >>> images.shape, bool(images.min() >= 0 and images.max() <= 1)
        ((3, 28, 28), True)
        """
        n = check_positive_int(n, "n")
        plan = self.sampling_plan(steps, eta, spacing)
        return self._run("ddim", plan, n, seed, progress, trajectory)

    # -- saving -------------------------------------------------------------------------------

    def get_config(self):
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "schedule": self.schedule.get_config(),
            "sampling_steps": self.sampling_steps,
            "sampling_eta": self.sampling_eta,
            "sampling_spacing": self.sampling_spacing,
            "min_snr_gamma": self.min_snr_gamma,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        config["schedule"] = NoiseSchedule.from_config(config["schedule"])
        return cls(**config)


# ---------------------------------------------------------------------------------------------
# Training with the course's settings
# ---------------------------------------------------------------------------------------------


def diffusion_dataset(images, *, batch_size: int = 128, seed: int | None = None,
                      image_shape=IMAGE_SHAPE):
    """A ``tf.data`` pipeline of images in [-1, 1]: shuffle, batch (full batches), prefetch.

    The images must have shape (n, *image_shape); the last incomplete batch is dropped.

    >>> x = np.zeros((300, 28, 28), dtype="float32")
    >>> [tuple(batch.shape) for batch in diffusion_dataset(x, batch_size=128, seed=0)]
    [(128, 28, 28), (128, 28, 28)]
    """
    images = check_diffusion_batch(images, image_shape)
    return make_dataset(images, batch_size=batch_size, shuffle=True, seed=seed,
                        drop_remainder=True)


def fit_diffusion(model: DiffusionModel, images, *, epochs: int,
                  steps_per_epoch: int = 100, batch_size: int = 128,
                  learning_rate: float = 2e-3, warmup_steps: int | None = None,
                  ema_momentum: float | None = 0.99, callbacks=(),
                  seed: int | None = 42) -> TrainingRun:
    """Compile and train a diffusion model with the course's settings; return history, time.

    Adam with a learning rate that rises linearly from 0 to ``learning_rate`` over
    ``warmup_steps`` steps (by default 100, or a tenth of the steps if that is fewer),
    then decays to 0 along a cosine until the last step: a high
    rate learns fast, and the decay settles the weights. With ``ema_momentum``, the
    optimizer also keeps an exponential moving average of the weights
    (``w_ema ← m w_ema + (1 - m) w`` after each step), which replaces the weights at the
    end of training: it spans about the last ``1 / (1 - m)`` steps (100 for the default
    0.99) and smooths out the noise of single steps. An *epoch* is ``steps_per_epoch``
    steps of ``batch_size`` images from :func:`diffusion_dataset`, repeated; it only sets
    how often callbacks report.

    Examples
    --------
    >>> x = np.random.default_rng(0).uniform(-1, 1, (256, 28, 28)).astype("float32")
    >>> model = DiffusionModel(build_noise_predictor(filters=(8, 16)), cosine_schedule(50))
    >>> result = fit_diffusion(model, x, epochs=2, steps_per_epoch=3, batch_size=32,
    ...                        warmup_steps=2)
    >>> len(result.history.history["loss"]), int(model.optimizer.iterations)
    (2, 6)
    """
    check_instance(model, "model", DiffusionModel, what="a DiffusionModel",
                   example="DiffusionModel(build_noise_predictor(), "
                           "cosine_schedule(1000))")
    optimizer = warmup_cosine_adam(
        epochs=epochs, steps_per_epoch=steps_per_epoch, learning_rate=learning_rate,
        warmup_steps=warmup_steps, ema_momentum=ema_momentum)
    model.compile(optimizer)
    dataset = diffusion_dataset(images, batch_size=batch_size, seed=seed,
                                image_shape=model.image_shape).repeat()
    start = time.perf_counter()
    # With use_ema, fit swaps the averaged weights in at the end of training.
    history = model.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        verbose=0, callbacks=list(callbacks))
    return TrainingRun(history, time.perf_counter() - start)


class DiffusionProgress(EpochProgress):
    """A progress bar over the epochs, and a row of samples every few epochs.

    The same display as :class:`genlib.gan.GANProgress`: one line updated in place (epoch,
    loss, elapsed time) and, every ``every`` epochs, ``n_images`` images generated from the
    same noise with a cheap ``sample_steps``-step sampler (with the current weights, not
    their moving average). Pass ``verbose=0`` to ``fit`` (:func:`fit_diffusion` does).

    Examples
    --------
    >>> progress = DiffusionProgress(every=5)
    >>> progress.bar(3, 10, {"loss": 0.061}, seconds=4.2)
    'epoch  3/10 ━━━━━━━━━━────────────────────── loss 0.061 · 4 s'
    """

    shown_logs = ("loss",)

    def __init__(self, every: int = 5, n_images: int = 8, sample_steps: int = 20,
                 show_images=True, seed: int = 0):
        super().__init__(every=every, n_images=n_images, show_images=show_images, seed=seed)
        self.sample_steps = check_positive_int(sample_steps, "sample_steps")

    def sample(self, n_images):
        steps = min(self.sample_steps, self.model.schedule.n_steps)
        return self.model.sample(n_images, steps=steps, seed=self.seed)
