"""Generative adversarial networks (chapter 7): builders, a ``GAN`` model, remedies, callbacks.

A GAN pairs a *generator*, which turns random codings into images, with a *discriminator*,
which tells real images from generated ones. :class:`GAN` trains both with its own
``train_step``: one step updates the discriminator, then the generator, each with its own
optimizer. Images live in [-1, 1] (the generator ends with ``tanh``); :func:`to_gan_range`
and :meth:`GAN.sample` convert from and to the [0, 1] pixels of the rest of the course.

>>> from genlib import gan
>>> generator = gan.build_dense_generator(coding_size=30)
>>> discriminator = gan.build_dense_discriminator()
>>> model = gan.GAN(generator, discriminator)
>>> model.sample(4, seed=0).shape
(4, 28, 28)
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
from genlib.progress import EpochProgress
from genlib.training import TrainingRun

# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def to_gan_range(images):
    """Scale images from [0, 1] to [-1, 1], the range of a ``tanh`` generator.

    >>> to_gan_range(np.array([0.0, 0.5, 1.0]))
    array([-1.,  0.,  1.], dtype=float32)
    """
    return to_signed_range(images, hint=", or pass images that are already in [-1, 1] to "
                                        "the GAN directly")


def check_gan_batch(images, image_shape=IMAGE_SHAPE, name="images"):
    """Check that ``images`` is a batch the GAN can train on; return it as a float32 array.

    The batch must have shape ``(n, *image_shape)`` (a trailing channel axis of 1 is
    accepted) and values in [-1, 1]. Each problem raises a ``ValueError`` saying what to do.

    >>> check_gan_batch(np.zeros((2, 28, 28))).shape
    (2, 28, 28)
    >>> check_gan_batch(np.full((2, 28, 28), 255.0))
    Traceback (most recent call last):
    ...
    ValueError: images has values in [255, 255], outside [-1, 1]: a GAN's generator ends with tanh,
    so scale the real images to [-1, 1] too (genlib.gan.to_gan_range(x) for images in [0, 1], or x /
    127.5 - 1 for 8-bit images)
    """
    return check_signed_batch(
        images, image_shape, name,
        works_on="this GAN trains on", shape_note=" (the shape of its generator's output)",
        range_hint="a GAN's generator ends with tanh, so scale the real images to [-1, 1] "
                   "too (genlib.gan.to_gan_range(x) for images in [0, 1], or x / 127.5 - 1 "
                   "for 8-bit images)")


def gan_dataset(images, labels=None, *, batch_size: int = 128,
                seed: int | None = None):
    """A ``tf.data`` pipeline of real images for a GAN: shuffle, batch, prefetch.

    ``images`` must already be in [-1, 1] (see :func:`to_gan_range`); they are checked
    once, here. The last incomplete batch is dropped, so that every step sees
    ``batch_size`` real images (and a compiled step is traced only once). With ``labels``
    (for a conditional GAN) the dataset yields ``(images, labels)`` pairs.

    Examples
    --------
    >>> x = np.zeros((300, 28, 28), dtype="float32")
    >>> dataset = gan_dataset(x, batch_size=128, seed=42)
    >>> [tuple(batch.shape) for batch in dataset]
    [(128, 28, 28), (128, 28, 28)]
    """
    images = check_gan_batch(images)
    if labels is not None:
        labels = _check_labels(labels, None, "labels", n=len(images))
    return make_dataset(images, labels, batch_size=batch_size, shuffle=True,
                        seed=seed, drop_remainder=True)


# ---------------------------------------------------------------------------------------------
# Layers and builders
# ---------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="genlib")
class MinibatchStdDev(keras.layers.Layer):
    """Append the batch's average standard deviation to every example, as one more feature.

    A remedy against mode collapse (Karras et al. 2018): a generator that produces the
    same image over and over makes batches with a small spread, which real batches do not
    have. With this feature the discriminator can *see* the spread of a whole batch, so a
    collapsed generator is easy to catch. Real and generated images must then be passed to
    the discriminator in separate batches (as :class:`GAN` does).

    Examples
    --------
    >>> layer = MinibatchStdDev()
    >>> x = np.array([[0.0, 2.0], [2.0, 2.0]], dtype="float32")
    >>> np.asarray(layer(x)).round(3)   # standard deviations 1 and 0: average 0.5
    array([[0. , 2. , 0.5],
           [2. , 2. , 0.5]], dtype=float32)
    """

    def call(self, inputs):
        mean = ops.mean(inputs, axis=0, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(inputs - mean), axis=0) + 1e-8)
        feature = ops.ones_like(inputs[..., :1]) * ops.mean(std)
        return ops.concatenate([inputs, feature], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)


def build_dense_generator(coding_size: int = 30, *, hidden_sizes=(100, 150),
                          activation="selu", batch_norm: bool = False):
    """A dense generator: codings → hidden ``Dense`` layers → a 28 × 28 image in [-1, 1].

    ``batch_norm=True`` normalizes each hidden layer's outputs before its activation, as
    the DCGAN's generator does (Radford et al. 2015).

    Examples
    --------
    >>> generator = build_dense_generator(coding_size=30)
    >>> generator.input_shape, generator.output_shape
    ((None, 30), (None, 28, 28))
    """
    coding_size = check_positive_int(coding_size, "coding_size")
    hidden_sizes = check_sizes(hidden_sizes, "hidden_sizes", example="(100, 150)")
    hidden = []
    for units in hidden_sizes:
        if batch_norm:  # the normalization's shift replaces the bias
            hidden += [keras.layers.Dense(units, use_bias=False),
                       keras.layers.BatchNormalization(),
                       keras.layers.Activation(activation)]
        else:
            hidden.append(keras.layers.Dense(units, activation=activation))
    return keras.Sequential([
        keras.Input((coding_size,)),
        *hidden,
        keras.layers.Dense(math.prod(IMAGE_SHAPE), activation="tanh"),
        keras.layers.Reshape(IMAGE_SHAPE),
    ], name="dense_generator")


def build_dense_discriminator(hidden_sizes=(150, 100), *, activation="selu",
                              dropout: float = 0.0, batch_norm: bool = False,
                              minibatch_stddev=False):
    """A dense discriminator: a 28 × 28 image → hidden ``Dense`` layers → one logit.

    The output is a logit (no sigmoid): the loss applies the sigmoid itself, which is
    numerically safer when the discriminator is very sure. ``dropout`` adds a dropout
    layer after each hidden layer; ``batch_norm=True`` normalizes every hidden layer but
    the first before its activation, as the DCGAN's discriminator does (the GAN judges
    real and fake images in separate batches, so each batch's statistics tell them
    apart); ``minibatch_stddev=True`` adds a :class:`MinibatchStdDev` feature before the
    output layer.

    Examples
    --------
    >>> build_dense_discriminator().output_shape
    (None, 1)
    """
    hidden_sizes = check_sizes(hidden_sizes, "hidden_sizes", example="(150, 100)")
    dropout = check_real(dropout, "dropout", low=0, high=1, high_open=True)
    layers = []
    for k, units in enumerate(hidden_sizes):
        if batch_norm and k > 0:
            layers += [keras.layers.Dense(units, use_bias=False),
                       keras.layers.BatchNormalization(),
                       keras.layers.Activation(activation)]
        else:
            layers.append(keras.layers.Dense(units, activation=activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    extra = [MinibatchStdDev()] if minibatch_stddev else []
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE),
        keras.layers.Flatten(),
        *layers,
        *extra,
        keras.layers.Dense(1),
    ], name="dense_discriminator")


def build_dcgan_generator(coding_size: int = 100, *, filters=(128, 64),
                          kernel_size: int = 5):
    """A DCGAN generator (Radford et al. 2015), sized for 28 × 28 images.

    A ``Dense`` layer makes ``filters[0]`` feature maps of 7 × 7; two stride-2 transposed
    convolutions (``kernel_size`` × ``kernel_size``) double their size to 14 × 14 with
    ``filters[1]`` maps, then to 28 × 28 with one. Batch normalization and ReLU after every
    layer but the last, whose ``tanh`` outputs pixels in [-1, 1].

    Examples
    --------
    >>> generator = build_dcgan_generator(coding_size=64, filters=(64, 32))
    >>> [tuple(layer.output.shape[1:]) for layer in generator.layers
    ...  if "transpose" in layer.name]
    [(14, 14, 32), (28, 28, 1)]
    """
    coding_size = check_positive_int(coding_size, "coding_size")
    first, second = check_sizes(filters, "filters", length=2, example="(64, 128)")
    kernel_size = check_positive_int(kernel_size, "kernel_size")
    return keras.Sequential([
        keras.Input((coding_size,)),
        keras.layers.Dense(7 * 7 * first, use_bias=False),
        keras.layers.Reshape((7, 7, first)),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Conv2DTranspose(second, kernel_size, strides=2, padding="same",
                                     use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Conv2DTranspose(1, kernel_size, strides=2, padding="same",
                                     activation="tanh"),
        keras.layers.Reshape(IMAGE_SHAPE),
    ], name="dcgan_generator")


def build_dcgan_discriminator(filters=(64, 128), *, kernel_size: int = 5,
                              dropout: float = 0.3, batch_norm: bool = False,
                              minibatch_stddev=False):
    """A DCGAN discriminator: two stride-2 convolutions with leaky ReLU, then one logit.

    Strided convolutions (``filters[0]`` then ``filters[1]`` maps of ``kernel_size`` ×
    ``kernel_size``) instead of pooling let the network learn its own downsampling; leaky
    ReLU keeps gradients flowing to the generator even for inputs the discriminator
    rejects; dropout after each convolution regularizes it. The output is a logit.
    ``batch_norm=True`` normalizes the second convolution's outputs, as the DCGAN paper
    does after every layer but the input one; the GAN judges real and fake images in
    separate batches, so each batch is normalized with its own statistics.
    ``minibatch_stddev=True`` adds a :class:`MinibatchStdDev` feature map before the
    second convolution.

    Examples
    --------
    >>> discriminator = build_dcgan_discriminator(filters=(32, 64), batch_norm=True)
    >>> discriminator.output_shape
    (None, 1)
    """
    first, second = check_sizes(filters, "filters", length=2, example="(64, 128)")
    kernel_size = check_positive_int(kernel_size, "kernel_size")
    dropout = check_real(dropout, "dropout", low=0, high=1, high_open=True)
    extra = [MinibatchStdDev()] if minibatch_stddev else []
    normalization = [keras.layers.BatchNormalization()] if batch_norm else []
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE),
        keras.layers.Reshape((*IMAGE_SHAPE, 1)),
        keras.layers.Conv2D(first, kernel_size, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Dropout(dropout),
        *extra,
        keras.layers.Conv2D(second, kernel_size, strides=2, padding="same"),
        *normalization,
        keras.layers.LeakyReLU(0.2),
        keras.layers.Dropout(dropout),
        keras.layers.Flatten(),
        keras.layers.Dense(1),
    ], name="dcgan_discriminator")


def build_conditional_generator(coding_size: int = 100, n_classes: int = 10, *,
                                filters=(64, 32), kernel_size: int = 5):
    """A DCGAN generator told which class to draw: inputs ``[codings, labels]``.

    The label (an integer class index) becomes a one-hot vector that is concatenated with
    the codings; the rest is :func:`build_dcgan_generator`'s network.

    Examples
    --------
    >>> generator = build_conditional_generator(coding_size=16, n_classes=10)
    >>> [tuple(shape) for shape in generator.input_shape], generator.output_shape
    ([(None, 16), (None,)], (None, 28, 28))
    """
    coding_size = check_positive_int(coding_size, "coding_size")
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    first, second = check_sizes(filters, "filters", length=2, example="(64, 32)")
    kernel_size = check_positive_int(kernel_size, "kernel_size")
    codings = keras.Input((coding_size,), name="codings")
    labels = keras.Input((), dtype="int32", name="labels")
    one_hot = keras.layers.CategoryEncoding(n_classes, output_mode="one_hot")
    z = keras.layers.Concatenate()([codings, one_hot(labels)])
    z = keras.layers.Dense(7 * 7 * first, use_bias=False)(z)
    z = keras.layers.Reshape((7, 7, first))(z)
    z = keras.layers.ReLU()(keras.layers.BatchNormalization()(z))
    z = keras.layers.Conv2DTranspose(second, kernel_size, strides=2, padding="same",
                                     use_bias=False)(z)
    z = keras.layers.ReLU()(keras.layers.BatchNormalization()(z))
    z = keras.layers.Conv2DTranspose(1, kernel_size, strides=2, padding="same",
                                     activation="tanh")(z)
    images = keras.layers.Reshape(IMAGE_SHAPE)(z)
    return keras.Model([codings, labels], images, name="conditional_generator")


def build_conditional_discriminator(n_classes: int = 10, *, filters=(32, 64),
                                    kernel_size: int = 5, class_head: bool = False):
    """A projection discriminator (Miyato & Koyama 2018): inputs ``[images, labels]``.

    Two stride-2 convolutions (the second batch-normalized) turn the image into features
    ``φ(x)``; the logit is ``ψ(φ(x)) + e_yᵀ φ(x)``, where ``e_y`` is a learned vector per
    class (a ``Dense`` layer without bias applied to the one-hot label): the second term
    asks "do these features match class y?". ``class_head=True`` adds a second output, the
    logits of a classifier of ``φ(x)`` over the ``n_classes`` classes, for an
    :class:`AuxiliaryClassifierGAN`.

    Examples
    --------
    >>> discriminator = build_conditional_discriminator(10, class_head=True)
    >>> discriminator.output_shape
    [(None, 1), (None, 10)]
    """
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    first, second = check_sizes(filters, "filters", length=2, example="(32, 64)")
    kernel_size = check_positive_int(kernel_size, "kernel_size")
    images = keras.Input(IMAGE_SHAPE, name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    z = keras.layers.Reshape((*IMAGE_SHAPE, 1))(images)
    z = keras.layers.Conv2D(first, kernel_size, strides=2, padding="same")(z)
    z = keras.layers.LeakyReLU(0.2)(z)
    z = keras.layers.Conv2D(second, kernel_size, strides=2, padding="same")(z)
    z = keras.layers.LeakyReLU(0.2)(keras.layers.BatchNormalization()(z))
    features = keras.layers.Flatten()(z)
    one_hot = keras.layers.CategoryEncoding(n_classes, output_mode="one_hot")
    class_vector = keras.layers.Dense(features.shape[-1], use_bias=False)
    match = keras.layers.Dot(axes=1)([class_vector(one_hot(labels)), features])
    logit = keras.layers.Add(name="logit")([keras.layers.Dense(1)(features), match])
    outputs = logit
    if class_head:
        class_logits = keras.layers.Dense(n_classes, name="class_logits")(features)
        outputs = [logit, class_logits]
    return keras.Model([images, labels], outputs, name="conditional_discriminator")


# ---------------------------------------------------------------------------------------------
# The GAN
# ---------------------------------------------------------------------------------------------


def _first(shape):
    """The first input's shape of a model with one or several inputs."""
    return shape[0] if isinstance(shape, list) else shape


def _n_inputs(model):
    return len(model.inputs)


def _check_networks(generator, discriminator, n_classes):
    """``n_classes`` (or ``None``) once both networks fit a GAN of that kind."""
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        check_instance(model, name, keras.Model, what="a keras.Model",
                       example="build_dcgan_generator()" if name == "generator"
                       else "build_dcgan_discriminator()")
        if not model.built:
            raise ValueError(f"the {name} is not built: start it with keras.Input(...)")
    if n_classes is not None:
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    expected = 2 if n_classes else 1
    for name, model, inputs in (("generator", generator, "[codings, labels]"),
                                ("discriminator", discriminator, "[images, labels]")):
        if _n_inputs(model) != expected:
            count = "one input" if _n_inputs(model) == 1 else f"{_n_inputs(model)} inputs"
            raise ValueError(
                f"the {name} has {count}; " + (
                    f"a conditional GAN (n_classes={n_classes}) needs two: {inputs}"
                    if n_classes else
                    "an unconditional GAN needs one (pass n_classes=... for a conditional "
                    "GAN)"))
    return n_classes


def _pairing_error(n_classes):
    if n_classes:
        return ("this conditional GAN trains on (images, labels) batches: "
                "gan_dataset(images, labels, ...) or fit_gan(..., labels=y)")
    return ("this GAN trains on batches of images only, not (images, labels) pairs: "
            "pass n_classes=... to GAN for a conditional GAN")


def _rows(inputs, start, stop):
    """Rows ``start:stop`` of one input array or of each of several."""
    if isinstance(inputs, list):
        return [x[start:stop] for x in inputs]
    return inputs[start:stop]


def _check_labels(labels, n_classes, name, *, n=None):
    """``labels`` as an int32 array of class indices below ``n_classes`` (if given), ``n``
    of them (if given)."""
    if labels is None:
        raise ValueError(f"{name} is missing: a conditional GAN needs one class index per "
                         "image")
    labels = np.asarray(labels)
    if labels.ndim != 1 or (n is not None and len(labels) != n):
        raise ValueError(f"{name} must be a 1-D array of {n or 'n'} class indices, got shape "
                         f"{labels.shape}")
    high = np.inf if n_classes is None else n_classes
    if labels.size and (not np.issubdtype(labels.dtype, np.integer)
                        or labels.min() < 0 or labels.max() >= high):
        raise ValueError(f"{name} must be integer class indices in [0, {n_classes or 'n'}), "
                         f"got {labels.dtype} values in [{labels.min()}, {labels.max()}]")
    return labels.astype("int32")


@keras.saving.register_keras_serializable(package="genlib")
class GAN(keras.Model):
    """A generator and a discriminator, trained against each other by ``fit``.

    Each training step has two phases (:meth:`discriminator_step`, then
    :meth:`generator_step`):

    1. the generator makes a batch of fake images, and the discriminator is updated to
       output "real" (target 1) for the real batch and "fake" (target 0) for the fakes.
       Only the discriminator's weights change;
    2. the generator makes new fakes, and is updated so that the discriminator outputs
       "real" for them. Only the generator's weights change; its only signal is the
       gradient that flows back through the discriminator.

    Both phases use the binary cross-entropy on the discriminator's logits; ``compile``
    takes one optimizer per network. Real images must be in [-1, 1] (see
    :func:`gan_dataset`).

    Parameters
    ----------
    generator : keras.Model
        Codings of shape (coding_size,) → images of shape (28, 28) in [-1, 1].
    discriminator : keras.Model
        Images → one logit per image (no sigmoid).
    label_smoothing : float
        One-sided label smoothing (Salimans et al. 2016): the discriminator's target for
        real images is ``1 - label_smoothing`` instead of 1; fakes keep 0.
    instance_noise : float
        Standard deviation of Gaussian noise added to every image the discriminator sees,
        real or fake, in both phases (Sønderby et al. 2017): it blurs both distributions so
        that they overlap, which keeps the discriminator from becoming perfectly sure.
    n_classes : int, optional
        Makes a *conditional* GAN (Mirza & Osindero 2014): the generator takes
        ``[codings, labels]`` and the discriminator ``[images, labels]`` (integer class
        indices below ``n_classes``); real images come with their own labels, fakes with
        random ones, and :meth:`sample` accepts the labels to draw.
    seed : int, optional
        Seed of the codings, labels and noise drawn during training.

    Examples
    --------
    >>> x = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28)).astype("float32")
    >>> gan = GAN(build_dense_generator(8, hidden_sizes=(16,)), build_dense_discriminator((16,)))
    >>> gan.compile(keras.optimizers.Adam(2e-4), keras.optimizers.Adam(2e-4))
    >>> history = gan.fit(gan_dataset(x, batch_size=32, seed=0), epochs=2, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss']
    """

    def __init__(self, generator, discriminator, *, label_smoothing: float = 0.0,
                 instance_noise: float = 0.0, n_classes: int | None = None,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_classes = _check_networks(generator, discriminator, n_classes)
        if self.n_classes and type(self).discriminator_fakes is not GAN.discriminator_fakes:
            raise ValueError("discriminator_fakes cannot be overridden in a conditional GAN: "
                             "the fakes it returns would lose their labels")
        label_smoothing = check_real(label_smoothing, "label_smoothing", low=0, high=0.5,
                                     high_open=True, hint=" (0.1 is usual)")
        instance_noise = check_real(instance_noise, "instance_noise", low=0)
        self.generator, self.discriminator = generator, discriminator
        self.label_smoothing, self.instance_noise = float(label_smoothing), float(instance_noise)
        self.coding_size = int(_first(generator.input_shape)[-1])
        self.image_shape = tuple(int(side) for side in generator.output_shape[1:])
        if tuple(_first(discriminator.input_shape)[1:]) != self.image_shape:
            raise ValueError(f"the generator makes images of shape {self.image_shape} but the "
                             f"discriminator reads "
                             f"{tuple(_first(discriminator.input_shape)[1:])}")
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_optimizer = self.g_optimizer = None
        self.built = True  # both networks are built

    # -- compiling and fitting ----------------------------------------------------------------

    def compile(self, d_optimizer, g_optimizer, *, jit_compile="auto", **kwargs):
        """Set one optimizer per network (``jit_compile=True`` compiles the step with XLA).

        >>> gan = GAN(build_dense_generator(), build_dense_discriminator())
        >>> gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4))
        """
        for name, optimizer in (("d_optimizer", d_optimizer), ("g_optimizer", g_optimizer)):
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise TypeError(f"{name} must be a keras optimizer instance, e.g. "
                                f"keras.optimizers.Adam(2e-4, beta_1=0.5), got {optimizer!r}")
        if d_optimizer is g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two optimizer instances: "
                             "each keeps its own state (moments, step count) for its network")
        super().compile(jit_compile=jit_compile, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # Built now, outside the compiled step, so that no variable is created while tracing.
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``, after checking the real images (shape and range) first."""
        if self.d_optimizer is None:
            raise RuntimeError("call gan.compile(d_optimizer, g_optimizer) before fit")
        if isinstance(x, tf.data.Dataset):
            self._check_element_spec(x.element_spec)
            first = next(iter(x.take(1)))
            images, labels = first if self.n_classes else (first, None)
            check_gan_batch(images, self.image_shape, "the dataset's first batch")
            if labels is not None:
                _check_labels(labels, self.n_classes, "the dataset's first labels")
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself (gan_dataset does)
        elif x is not None:
            x = check_gan_batch(x, self.image_shape, "x")
            if self.n_classes:
                _check_labels(args[0] if args else kwargs.get("y"), self.n_classes, "y")
        return super().fit(x, *args, **kwargs)

    def _check_element_spec(self, spec):
        if (isinstance(spec, tuple) and len(spec) == 2) != bool(self.n_classes):
            raise ValueError(f"the dataset yields {spec}: {_pairing_error(self.n_classes)}")
        images = spec[0] if isinstance(spec, tuple) else spec
        shape = tuple(images.shape[1:]) if hasattr(images, "shape") else None
        if shape not in (self.image_shape, (*self.image_shape, 1)):
            raise ValueError(
                f"the dataset yields {spec}; this GAN trains on batches of images of shape "
                f"(n, {', '.join(map(str, self.image_shape))}): use gan_dataset(images, "
                "batch_size=...)")

    # -- the training step --------------------------------------------------------------------

    def train_step(self, data):
        real_images, real_labels = self._real_batch(data)
        d_loss = self.discriminator_step(real_images, real_labels)
        g_loss = self.generator_step(ops.shape(real_images)[0])
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result()}

    def discriminator_step(self, real_images, real_labels=None):
        """Phase 1: one update of the discriminator on real images and fresh fakes.

        Returns the discriminator's loss. The generator only makes the fakes; no gradient
        is computed for it, so its weights do not change. ``real_labels`` (and the labels
        of the fakes) are ``None`` except in a conditional GAN.
        """
        fake_images, fake_labels = self.fakes(ops.shape(real_images)[0])
        fake_images = self.discriminator_fakes(fake_images)
        with tf.GradientTape() as tape:
            # Two separate calls, so that a MinibatchStdDev layer sees pure batches.
            real_logits = self.judge(real_images, real_labels)
            fake_logits = self.judge(fake_images, fake_labels)
            d_loss = self.discriminator_loss(real_logits, fake_logits)
        weights = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, weights), weights))
        return d_loss

    def generator_step(self, batch_size):
        """Phase 2: one update of the generator, through the discriminator.

        Returns the generator's loss. The gradient flows back through the discriminator,
        but only the generator's weights are updated.
        """
        with tf.GradientTape() as tape:
            fake_images, fake_labels = self.fakes(batch_size)
            fake_logits = self.judge(fake_images, fake_labels)
            g_loss = self.generator_loss(fake_logits)
        weights = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, weights), weights))
        return g_loss

    def fakes(self, batch_size):
        """The generator's images (in training mode) from fresh random codings, and their
        labels: random classes for a conditional GAN, else ``None``.

        >>> gan = GAN(build_dense_generator(), build_dense_discriminator())
        >>> images, labels = gan.fakes(3)
        >>> tuple(images.shape), labels
        ((3, 28, 28), None)
        """
        codings = self.codings(batch_size)
        if not self.n_classes:
            return self.generator(codings, training=True), None
        labels = keras.random.randint((batch_size,), 0, self.n_classes,
                                      seed=self.seed_generator)
        return self.generator([codings, labels], training=True), labels

    def judge(self, images, labels=None):
        """The discriminator's logits (in training mode) for ``images``, seen through the
        instance noise (if any) and, in a conditional GAN, with their ``labels``."""
        images = self._noisy(images)
        inputs = images if labels is None else [images, labels]
        return self.discriminator(inputs, training=True)

    def codings(self, batch_size):
        """A batch of random codings from the standard normal distribution.

        >>> gan = GAN(build_dense_generator(coding_size=30), build_dense_discriminator())
        >>> tuple(gan.codings(5).shape)
        (5, 30)
        """
        return keras.random.normal((batch_size, self.coding_size), seed=self.seed_generator)

    def _real_batch(self, data):
        """The real images, without a channel axis, and their labels (``None`` unless the
        GAN is conditional); checked while tracing."""
        real_images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(real_images, (tuple, list)) and len(real_images) == 2 and labels is None:
            real_images, labels = real_images  # train_on_batch((images, labels))
        if isinstance(real_images, (tuple, list)):
            raise ValueError("a GAN trains on batches of images (or of (images, labels) "
                             f"pairs), got a batch of {len(real_images)} inputs")
        if (labels is None) == bool(self.n_classes):
            raise ValueError(_pairing_error(self.n_classes))
        shape = tuple(real_images.shape[1:])
        if shape == (*self.image_shape, 1):
            real_images = ops.squeeze(real_images, axis=-1)
        elif shape != self.image_shape:
            raise ValueError(f"this GAN trains on batches of shape (n, "
                             f"{', '.join(map(str, self.image_shape))}), got "
                             f"{tuple(real_images.shape)}")
        return real_images, labels

    def _noisy(self, images):
        if self.instance_noise == 0.0:
            return images
        noise = keras.random.normal(ops.shape(images), stddev=self.instance_noise,
                                    seed=self.seed_generator)
        return images + noise

    def discriminator_fakes(self, fake_images):
        """The fakes the discriminator trains on in phase 1; override to change them.

        The default returns the generator's current fakes unchanged. A subclass can, for
        example, mix in fakes from earlier steps (experience replay).

        >>> gan = GAN(build_dense_generator(), build_dense_discriminator())
        >>> images = np.zeros((2, 28, 28), dtype="float32")
        >>> gan.discriminator_fakes(images) is images
        True
        """
        return fake_images

    def discriminator_loss(self, real_logits, fake_logits):
        """Binary cross-entropy with targets 1 for real images (or ``1 - label_smoothing``)
        and 0 for fakes, averaged over both halves of the batch.

        >>> gan = GAN(build_dense_generator(), build_dense_discriminator())
        >>> round(float(gan.discriminator_loss(np.zeros((4, 1)), np.zeros((4, 1)))), 4)
        0.6931
        """
        real_targets = ops.full_like(real_logits, 1.0 - self.label_smoothing)
        fake_targets = ops.zeros_like(fake_logits)
        return 0.5 * (self.bce(real_targets, real_logits) + self.bce(fake_targets, fake_logits))

    def generator_loss(self, fake_logits):
        """Binary cross-entropy with target 1 ("real") for the generator's fakes.

        >>> gan = GAN(build_dense_generator(), build_dense_discriminator())
        >>> round(float(gan.generator_loss(np.zeros((4, 1)))), 4)
        0.6931
        """
        return self.bce(ops.ones_like(fake_logits), fake_logits)

    @property
    def metrics(self):
        # Listed here so that Keras resets them at the start of every epoch.
        return [self.d_loss_tracker, self.g_loss_tracker]

    # -- using the generator ------------------------------------------------------------------

    def call(self, codings, training=False):
        return self.generator(codings, training=training)

    def sample(self, n: int, *, seed: int | None = None, labels=None,
               batch_size: int = 1000):
        """``n`` generated images as a NumPy array in [0, 1] (for plots and metrics).

        The same ``seed`` gives the same codings: useful to watch a generator evolve. A
        conditional GAN draws the images of ``labels`` (one class index per image; random
        classes if omitted).

        >>> gan = GAN(build_dense_generator(), build_dense_discriminator())
        >>> images = gan.sample(3, seed=1)
        >>> images.shape, bool(images.min() >= 0 and images.max() <= 1)
        ((3, 28, 28), True)
        """
        n = check_positive_int(n, "n")
        rng = np.random.default_rng(check_seed(seed))
        codings = rng.standard_normal((n, self.coding_size)).astype("float32")
        inputs = codings
        if self.n_classes:
            if labels is None:
                labels = rng.integers(self.n_classes, size=n)
            inputs = [codings, _check_labels(labels, self.n_classes, "labels", n=n)]
        elif labels is not None:
            raise ValueError("labels are for a conditional GAN (GAN(..., n_classes=...)); "
                             "this GAN draws images of every class: omit labels")
        images = np.concatenate([
            np.asarray(self.generator(_rows(inputs, start, start + batch_size), training=False))
            for start in range(0, n, batch_size)
        ])
        # tanh outputs lie in [-1, 1]; the clip only removes float rounding at the ends.
        return np.clip((images + 1.0) / 2.0, 0.0, 1.0)

    # -- saving -------------------------------------------------------------------------------

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "label_smoothing": self.label_smoothing,
            "instance_noise": self.instance_noise,
            "n_classes": self.n_classes,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("generator", "discriminator"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)


@keras.saving.register_keras_serializable(package="genlib")
class AuxiliaryClassifierGAN(GAN):
    """A conditional GAN whose discriminator also names the class (AC-GAN, Odena et al. 2017).

    The discriminator has two outputs: the real/fake logit and the logits of a classifier
    over the ``n_classes`` classes (``build_conditional_discriminator(class_head=True)``).
    Both phases add ``class_loss_weight`` times a cross-entropy to their loss: in phase 1
    the classifier learns the real images' classes (only theirs: fakes could teach it
    wrong ones); in phase 2 the generator is pushed to make fakes that the classifier
    assigns to the requested class. Other parameters as :class:`GAN`'s.

    Parameters
    ----------
    class_loss_weight : float, default=1.0
        Weight of the classification term in both losses (positive).

    Examples
    --------
    >>> gan = AuxiliaryClassifierGAN(build_conditional_generator(16),
    ...                              build_conditional_discriminator(class_head=True),
    ...                              n_classes=10)
    >>> gan.sample(3, labels=[0, 1, 9], seed=0).shape
    (3, 28, 28)

    A discriminator with one output is a ``ValueError`` that suggests ``class_head=True``.
    """

    def __init__(self, generator, discriminator, *, n_classes: int,
                 class_loss_weight: float = 1.0, **kwargs):
        super().__init__(generator, discriminator, n_classes=n_classes, **kwargs)
        shapes = discriminator.output_shape
        if not (isinstance(shapes, list) and len(shapes) == 2
                and tuple(shapes[1][1:]) == (self.n_classes,)):
            raise ValueError(
                f"an AuxiliaryClassifierGAN's discriminator needs two outputs, a logit and "
                f"{self.n_classes} class logits, got output shape {shapes}: build it with "
                "build_conditional_discriminator(n_classes, class_head=True)")
        self.class_loss_weight = float(check_real(class_loss_weight, "class_loss_weight",
                                                  low=0, low_open=True, hint=" (1.0 is usual)"))
        self.class_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def discriminator_step(self, real_images, real_labels=None):
        fake_images, fake_labels = self.fakes(ops.shape(real_images)[0])
        with tf.GradientTape() as tape:
            real_logits, real_classes = self.judge(real_images, real_labels)
            fake_logits, _ = self.judge(fake_images, fake_labels)
            class_loss = self.class_loss(real_labels, real_classes)
            d_loss = (self.discriminator_loss(real_logits, fake_logits)
                      + self.class_loss_weight * class_loss)
        weights = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, weights), weights))
        return d_loss

    def generator_step(self, batch_size):
        with tf.GradientTape() as tape:
            fake_images, fake_labels = self.fakes(batch_size)
            fake_logits, fake_classes = self.judge(fake_images, fake_labels)
            class_loss = self.class_loss(fake_labels, fake_classes)
            g_loss = (self.generator_loss(fake_logits)
                      + self.class_loss_weight * class_loss)
        weights = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, weights), weights))
        return g_loss

    def get_config(self):
        return {**super().get_config(), "class_loss_weight": self.class_loss_weight}


def fit_gan(gan, images, *, epochs: int, steps_per_epoch: int = 100,
            batch_size: int = 128, learning_rate: float = 2e-4,
            generator_learning_rate: float | None = None, labels=None,
            callbacks=(), seed: int | None = 42, jit_compile="auto") -> TrainingRun:
    """Compile and train a GAN with the course's settings; return the history and time.

    Two Adam optimizers with ``learning_rate`` and ``beta_1=0.5``, the DCGAN paper's
    settings (Radford et al. 2015): the smaller momentum makes each network react faster
    to the other's moves. ``generator_learning_rate`` (default: ``learning_rate``) gives
    the generator its own rate. The real images (in [-1, 1]) come from :func:`gan_dataset`,
    repeated, so an *epoch* is ``steps_per_epoch`` steps of ``batch_size`` images, not a
    pass over the data: it only sets how often the callbacks report. A conditional GAN
    (``GAN(..., n_classes=...)``) also needs ``labels``, one class index per image.

    Examples
    --------
    >>> x = np.random.default_rng(0).uniform(-1, 1, (256, 28, 28)).astype("float32")
    >>> gan = GAN(build_dense_generator(8, hidden_sizes=(16,)), build_dense_discriminator((16,)))
    >>> result = fit_gan(gan, x, epochs=2, steps_per_epoch=3, batch_size=32)
    >>> len(result.history.history["d_loss"]), int(gan.g_optimizer.iterations)
    (2, 6)
    """
    check_instance(gan, "gan", GAN, what="a GAN",
                   example="GAN(generator, discriminator)")
    epochs = check_positive_int(epochs, "epochs")
    steps_per_epoch = check_positive_int(steps_per_epoch, "steps_per_epoch")
    learning_rate = check_real(learning_rate, "learning_rate", low=0, low_open=True)
    if generator_learning_rate is None:
        generator_learning_rate = learning_rate
    generator_learning_rate = check_real(
        generator_learning_rate, "generator_learning_rate", low=0, low_open=True)
    if (labels is None) == bool(gan.n_classes):
        raise ValueError(_pairing_error(gan.n_classes))
    dataset = gan_dataset(images, labels, batch_size=batch_size, seed=seed).repeat()
    gan.compile(keras.optimizers.Adam(learning_rate, beta_1=0.5),
                keras.optimizers.Adam(generator_learning_rate, beta_1=0.5),
                jit_compile=jit_compile)
    start = time.perf_counter()
    history = gan.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch,
                      verbose=0, callbacks=list(callbacks))
    return TrainingRun(history, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# Callbacks: progress, samples, metrics over training
# ---------------------------------------------------------------------------------------------


class GANProgress(EpochProgress):
    """:class:`genlib.progress.EpochProgress` for a GAN: the bar shows its two losses.

    A progress bar over the epochs and, every ``every`` epochs, a row of images generated
    from the same fixed codings, so that the rows show how the generator evolves.

    >>> progress = GANProgress(every=5, n_images=8)
    >>> progress.bar(3, 10, {"d_loss": 0.61, "g_loss": 0.93}, seconds=4.2)
    'epoch  3/10 ━━━━━━━━━━────────────────────── d_loss 0.610 · g_loss 0.930 · 4 s'
    """

    shown_logs = ("d_loss", "g_loss")


class SampleMetrics(keras.callbacks.Callback):
    """Measure generated images every few epochs (e.g. Fréchet distance, class coverage).

    Every ``every`` epochs (and after the last one) it generates ``n_images`` images in
    [0, 1] from fixed codings and records ``{"epoch": e, name: metric(images), ...}`` in
    :attr:`records`. The metrics are functions of a batch of images returning a number
    (or an array, e.g. the share of each class).

    Examples
    --------
    >>> gan = GAN(build_dense_generator(8, hidden_sizes=(16,)), build_dense_discriminator((16,)))
    >>> gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    >>> metrics = SampleMetrics({"mean pixel": lambda images: images.mean()}, every=1,
    ...                         n_images=10)
    >>> x = np.zeros((64, 28, 28), dtype="float32")
    >>> _ = gan.fit(gan_dataset(x, batch_size=32), epochs=2, verbose=0, callbacks=[metrics])
    >>> [record["epoch"] for record in metrics.records]
    [1, 2]
    """

    def __init__(self, metrics: dict, every: int = 1, n_images: int = 2000, seed: int = 0):
        super().__init__()
        if not isinstance(metrics, dict) or not metrics or not all(map(callable, metrics.values())):
            raise ValueError("metrics must be a non-empty dict: name -> function(images) -> number")
        self.metrics_to_measure = metrics
        self.every = check_positive_int(every, "every")
        self.n_images = check_positive_int(n_images, "n_images")
        self.seed = seed
        self.records = []

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self.params.get("epochs"):
            return
        images = self.model.sample(self.n_images, seed=self.seed)
        record = {"epoch": done}
        for name, metric in self.metrics_to_measure.items():
            value = np.asarray(metric(images), dtype=float)
            record[name] = float(value) if value.ndim == 0 else value
        self.records.append(record)
