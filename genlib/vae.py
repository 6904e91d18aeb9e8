"""Variational autoencoders: the sampling layer, the latent loss and the model.

A variational autoencoder's encoder outputs, for each input, the mean ``μ`` and the
log-variance ``γ = log σ²`` of a Gaussian distribution over the codings. A coding is
sampled from it with the *reparameterization trick*, ``z = μ + exp(γ / 2) · ε`` with
``ε ~ N(0, I)`` (:class:`Sampling`), and decoded. The loss adds to the
reconstruction error the *latent loss* (:func:`latent_loss`), the KL divergence from
``N(μ, σ²)`` to ``N(0, I)``, which pulls the codings towards the standard normal
distribution, so that decoding samples of ``N(0, I)`` generates new data.

>>> from genlib.vae import VariationalAutoencoder
>>> vae = VariationalAutoencoder()   # the classic 784-150-100 encoder, 10-D codings
>>> vae.encoder.output_shape, vae.decoder.output_shape
([(None, 10), (None, 10)], (None, 28, 28))
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from genlib._validation import check_positive_int, check_real, check_seed, check_sizes


def _same_shapes(shape_a, shape_b):
    """Whether two static shapes agree (an unknown dimension agrees with any)."""
    return len(shape_a) == len(shape_b) and all(
        a is None or b is None or a == b for a, b in zip(shape_a, shape_b))


def _static_shape(tensor, name):
    shape = getattr(tensor, "shape", None)
    if shape is None:
        raise TypeError(
            f"{name} must be a tensor or an array, got {type(tensor).__name__}")
    return tuple(shape)


@keras.saving.register_keras_serializable(package="genlib")
class Sampling(keras.layers.Layer):
    """Sample codings from ``N(mean, exp(log_var))``: the reparameterization trick.

    Called on ``[mean, log_var]``, it draws ``ε`` from the standard normal
    distribution and returns ``mean + exp(log_var / 2) * ε``, where
    ``exp(log_var / 2)`` is the standard deviation ``σ``. The randomness enters as
    an *input* ``ε`` of a differentiable function of ``mean`` and ``log_var``, so
    gradients flow back through both to the encoder.

    It samples in training and in inference alike: a variational autoencoder is a
    probabilistic model. Its random numbers come from its own
    ``keras.random.SeedGenerator``: two layers built with the same ``seed`` draw the
    same sequence of samples.

    Parameters
    ----------
    seed : int, optional
        Seed of the layer's random generator; ``None`` draws one from Python's
        global random state (which ``keras.utils.set_random_seed`` sets).

    Examples
    --------
    >>> import numpy as np
    >>> mean = np.zeros((10_000, 2), "float32")
    >>> log_var = np.full((10_000, 2), np.log(4.0), "float32")   # σ = 2
    >>> codings = keras.ops.convert_to_numpy(Sampling(seed=42)([mean, log_var]))
    >>> codings.shape, np.round(codings.std(axis=0), 1).tolist()
    ((10000, 2), [2.0, 2.0])
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        if not (isinstance(input_shape, (list, tuple)) and len(input_shape) == 2
                and all(isinstance(shape, (list, tuple)) for shape in input_shape)):
            raise ValueError("Sampling is called on a list of two tensors, "
                             f"[mean, log_var]; got inputs of shape {input_shape}")
        mean_shape, log_var_shape = (tuple(shape) for shape in input_shape)
        if not _same_shapes(mean_shape, log_var_shape):
            raise ValueError(f"Sampling needs mean and log_var of the same shape, "
                             f"got {mean_shape} and {log_var_shape}")

    def call(self, inputs):
        mean, log_var = inputs
        epsilon = keras.random.normal(ops.shape(log_var), dtype=log_var.dtype,
                                      seed=self.seed_generator)
        return mean + ops.exp(log_var / 2) * epsilon

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def latent_loss(mean, log_var):
    """The latent loss of a batch: the KL divergence from N(μ, σ²) to N(0, I).

    For one input with coding means ``μ_i`` and log-variances ``γ_i = log σ_i²``::

        L = -1/2 Σ_i (1 + γ_i - exp(γ_i) - μ_i²)

    summed over the codings ``i`` (the last axis); the result is the mean of ``L``
    over the batch. It is zero exactly when every ``μ_i = 0`` and ``σ_i = 1``, and
    positive otherwise.

    Parameters
    ----------
    mean, log_var : tensors or arrays of the same shape (batch, codings)

    Returns
    -------
    A scalar tensor, in nats.

    Examples
    --------
    >>> import numpy as np
    >>> float(latent_loss(np.zeros((4, 10)), np.zeros((4, 10))))   # already N(0, I)
    0.0
    >>> float(latent_loss(np.array([[3.0, 4.0]]), np.zeros((1, 2))))   # |μ|² / 2
    12.5
    """
    mean_shape = _static_shape(mean, "mean")
    log_var_shape = _static_shape(log_var, "log_var")
    if len(mean_shape) < 1:
        raise ValueError("mean must have at least one axis (the codings), "
                         f"got shape {mean_shape}")
    if not _same_shapes(mean_shape, log_var_shape):
        raise ValueError(
            "mean and log_var must have the same shape (one mean and one "
            f"log-variance per coding), got {mean_shape} and {log_var_shape}")
    mean = ops.convert_to_tensor(mean)
    log_var = ops.convert_to_tensor(log_var, dtype=mean.dtype)
    per_input = -0.5 * ops.sum(1 + log_var - ops.exp(log_var) - ops.square(mean),
                               axis=-1)
    return ops.mean(per_input)


def build_encoder(coding_size=10, *, hidden_sizes=(150, 100), image_shape=(28, 28),
                  activation="relu"):
    """A dense probabilistic encoder: inputs → hidden layers → (mean, log_var).

    Examples
    --------
    >>> encoder = build_encoder(coding_size=2, hidden_sizes=(16,),
    ...                         image_shape=(8, 8))
    >>> encoder.output_shape
    [(None, 2), (None, 2)]
    """
    coding_size = check_positive_int(coding_size, "coding_size")
    hidden = check_sizes(hidden_sizes, "hidden_sizes", example="(150, 100)")
    shape = check_sizes(image_shape, "image_shape", example="(28, 28)")
    inputs = keras.Input(shape)
    z = keras.layers.Flatten()(inputs)
    for size in hidden:
        z = keras.layers.Dense(size, activation=activation)(z)
    # Two heads on the same hidden layer, without activation: a mean and a
    # log-variance can be any real number.
    mean = keras.layers.Dense(coding_size, name="coding_mean")(z)
    log_var = keras.layers.Dense(coding_size, name="coding_log_var")(z)
    return keras.Model(inputs, [mean, log_var], name="encoder")


def build_decoder(coding_size=10, *, hidden_sizes=(100, 150), image_shape=(28, 28),
                  activation="relu"):
    """A dense decoder: codings → hidden layers → a sigmoid layer, reshaped.

    Examples
    --------
    >>> decoder = build_decoder(coding_size=2, hidden_sizes=(16,),
    ...                         image_shape=(8, 8))
    >>> decoder.output_shape
    (None, 8, 8)
    """
    coding_size = check_positive_int(coding_size, "coding_size")
    hidden = check_sizes(hidden_sizes, "hidden_sizes", example="(100, 150)")
    shape = check_sizes(image_shape, "image_shape", example="(28, 28)")
    return keras.Sequential([
        keras.Input((coding_size,)),
        *[keras.layers.Dense(size, activation=activation) for size in hidden],
        # Pixels lie in [0, 1].
        keras.layers.Dense(math.prod(shape), activation="sigmoid"),
        keras.layers.Reshape(shape),
    ], name="decoder")


@keras.saving.register_keras_serializable(package="genlib")
class VariationalAutoencoder(keras.Model):
    """A dense variational autoencoder, by default the classic 784-150-100 one.

    ``encoder`` maps inputs to ``(mean, log_var)`` (:func:`build_encoder`),
    :class:`Sampling` draws codings from ``N(mean, exp(log_var))``, and ``decoder``
    (:func:`build_decoder`, the encoder's hidden layers in reverse) maps codings to
    outputs; the default codings have 10 dimensions. Calling the model samples, so
    two calls on the same inputs give slightly different reconstructions.

    Compile it with a reconstruction loss (``loss="mse"``): the model adds
    ``latent_weight`` times the :func:`latent_loss`. The latent loss is added with
    ``add_loss`` inside ``call``, where the batch's means and log-variances exist
    (Keras 3 adds such losses to the compiled one); :meth:`compute_loss` reports
    the two parts as the metrics ``reconstruction_loss`` and ``latent_loss`` (the
    weighted term, so that ``loss = reconstruction_loss + latent_loss``), in training
    and validation.

    The default ``latent_weight``, 1 over the number of input values (1/784 for
    28x28 images), keeps the classic balance between the two terms: the variational
    bound sums the squared errors over the pixels, while Keras' MSE averages them.

    Parameters
    ----------
    coding_size : int
    hidden_sizes : sequence of int
        The encoder's hidden layers; the decoder uses them in reverse.
    image_shape : tuple of int
    activation : str
        Activation of the hidden layers.
    latent_weight : float or None
        Weight of the latent loss; ``None`` means ``1 / number of input values``.
    seed : int, optional
        Seed of the :class:`Sampling` layer.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((64, 8, 8)).astype("float32")
    >>> vae = VariationalAutoencoder(coding_size=2, hidden_sizes=(16,),
    ...                              image_shape=(8, 8))
    >>> vae.latent_weight == 1 / 64
    True
    >>> vae.compile(loss="mse", optimizer="adam")
    >>> history = vae.fit(x, x, epochs=1, validation_data=(x, x), verbose=0)
    >>> sorted(name for name in history.history if not name.startswith("val_"))
    ['latent_loss', 'loss', 'reconstruction_loss']
    """

    def __init__(self, coding_size=10, *, hidden_sizes=(150, 100),
                 image_shape=(28, 28), activation="relu", latent_weight=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.coding_size = check_positive_int(coding_size, "coding_size")
        self.hidden_sizes = check_sizes(hidden_sizes, "hidden_sizes", example="(150, 100)")
        self.image_shape = check_sizes(image_shape, "image_shape", example="(28, 28)")
        if latent_weight is None:
            latent_weight = 1 / math.prod(self.image_shape)
        self.latent_weight = check_real(latent_weight, "latent_weight", low=0,
                                        hint=" (None for 1 / number of input values)")
        self.activation_name = activation
        self.seed = check_seed(seed)
        self.encoder = build_encoder(self.coding_size, hidden_sizes=self.hidden_sizes,
                                     image_shape=self.image_shape, activation=activation)
        self.sampling = Sampling(seed=self.seed, name="sampling")
        self.decoder = build_decoder(self.coding_size, hidden_sizes=self.hidden_sizes[::-1],
                                     image_shape=self.image_shape, activation=activation)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.latent_tracker = keras.metrics.Mean(name="latent_loss")
        self.sampling.build([(None, self.coding_size)] * 2)
        self.build((None, *self.image_shape))

    def call(self, inputs, training=None):
        mean, log_var = self.encoder(inputs, training=training)
        codings = self.sampling([mean, log_var])
        # Keras adds a loss added during call to the compiled loss.
        self.add_loss(self.latent_weight * latent_loss(mean, log_var))
        return self.decoder(codings, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """The compiled reconstruction loss plus the weighted latent loss.

        Records each part in its metric (``reconstruction_loss``, ``latent_loss``).

        >>> import numpy as np
        >>> vae = VariationalAutoencoder(coding_size=2, hidden_sizes=(8,),
        ...                              image_shape=(4, 4))
        >>> vae.compile(loss="mse")
        >>> x = np.random.default_rng(0).random((3, 4, 4)).astype("float32")
        >>> total = vae.compute_loss(x, x, vae(x))
        >>> float(total) > float(vae.reconstruction_tracker.result()) > 0
        True
        """
        if self.loss is None:
            raise ValueError(
                "compile the variational autoencoder with a reconstruction loss, "
                "e.g. vae.compile(loss=\"mse\", optimizer=\"nadam\"): the latent "
                "loss alone would teach it nothing about the images")
        # Keras' own: the compiled loss plus the losses added during call.
        total = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        latent = ops.sum(self.losses) if self.losses else ops.zeros(())
        self.reconstruction_tracker.update_state(total - latent)
        self.latent_tracker.update_state(latent)
        return total

    def sample(self, n: int, *, seed: int | None = None, batch_size: int = 1000):
        """``n`` new images, decoded from codings drawn from the prior N(0, I).

        The generative models' common call (:mod:`genlib.generative`): images in [0, 1]
        (the decoder ends with a sigmoid) of shape ``(n, *image_shape)``, a NumPy array;
        the same ``seed`` gives the same codings, hence the same images.

        >>> vae = VariationalAutoencoder(coding_size=2, hidden_sizes=(8,),
        ...                              image_shape=(4, 4))
        >>> images = vae.sample(3, seed=1)
        >>> images.shape, bool((images == vae.sample(3, seed=1)).all())
        ((3, 4, 4), True)
        """
        n = check_positive_int(n, "n")
        rng = np.random.default_rng(check_seed(seed))
        codings = rng.standard_normal((n, self.coding_size)).astype("float32")
        return self.decoder.predict(codings, batch_size=check_positive_int(
            batch_size, "batch_size"), verbose=0)

    def get_config(self):
        return {**super().get_config(), "coding_size": self.coding_size,
                "hidden_sizes": list(self.hidden_sizes),
                "image_shape": list(self.image_shape),
                "activation": self.activation_name,
                "latent_weight": self.latent_weight, "seed": self.seed}
