"""Stacked (deep) autoencoders: dense, optionally with tied weights, and greedy layer-wise training.

>>> from genlib.stacked import StackedAutoencoder
>>> autoencoder = StackedAutoencoder(coding_sizes=(100, 30))
>>> autoencoder.encoder.output_shape, autoencoder.decoder.output_shape
((None, 30), (None, 28, 28))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from genlib._validation import check_positive_int, check_sizes
from genlib.layers import DenseTranspose
from genlib.training import compile_autoencoder


def _check_sizes(coding_sizes, image_shape):
    sizes = check_sizes(coding_sizes, "coding_sizes")
    shape = check_sizes(image_shape, "image_shape", example="(28, 28)")
    return sizes, shape


@keras.saving.register_keras_serializable(package="genlib")
class StackedAutoencoder(keras.Model):
    """A dense autoencoder, symmetric around its coding layer.

    The encoder flattens its input and applies one ``Dense`` layer per entry of
    ``coding_sizes`` (the last one is the coding layer); the decoder mirrors it and ends
    with a sigmoid layer of the input's size, reshaped to the input's shape, for pixels in
    [0, 1]. With ``tied=True`` every decoder layer is a :class:`~genlib.layers.DenseTranspose`
    of its mirror encoder layer: decoder layer ``N - L + 1`` reuses encoder layer ``L``.

    ``encoder`` and ``decoder`` are ``keras.Sequential`` models of their own, so they can
    be used (and reused in a classifier) separately.

    Parameters
    ----------
    coding_sizes : sequence of int
        Units of the encoder's layers, the last being the number of codings.
    image_shape : tuple of int
    activation : str
        Activation of every hidden layer and of the coding layer.
    tied : bool

    Examples
    --------
    >>> untied = StackedAutoencoder((100, 30))
    >>> tied = StackedAutoencoder((100, 30), tied=True)
    >>> untied.count_params(), tied.count_params()
    (163814, 82414)
    """

    def __init__(self, coding_sizes=(100, 30), *, image_shape=(28, 28),
                 activation="selu", tied=False, **kwargs):
        super().__init__(**kwargs)
        sizes, shape = _check_sizes(coding_sizes, image_shape)
        self.coding_sizes, self.image_shape = sizes, shape
        self.activation_name, self.tied = activation, bool(tied)
        dense_layers = [
            keras.layers.Dense(size, activation=activation,
                               name=f"encoder_dense_{i + 1}")
            for i, size in enumerate(sizes)
        ]
        self.encoder = keras.Sequential(
            [keras.Input(shape), keras.layers.Flatten(), *dense_layers], name="encoder")
        # Decoder layer k mirrors encoder layer len(sizes) - k: the hidden sizes in
        # reverse, then the output layer, whose size is the input's.
        output_sizes = [*reversed(sizes[:-1]), math.prod(shape)]
        activations = [activation] * (len(sizes) - 1) + ["sigmoid"]
        if tied:
            decoder_layers = [
                DenseTranspose(dense, activation=act, name=f"decoder_tied_{k + 1}")
                for k, (dense, act) in enumerate(zip(dense_layers[::-1], activations))
            ]
        else:
            decoder_layers = [
                keras.layers.Dense(size, activation=act, name=f"decoder_dense_{k + 1}")
                for k, (size, act) in enumerate(zip(output_sizes, activations))
            ]
        self.decoder = keras.Sequential(
            [keras.Input((sizes[-1],)), *decoder_layers, keras.layers.Reshape(shape)],
            name="decoder")
        self.build((None, *shape))

    def call(self, inputs, training=None):
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), "coding_sizes": list(self.coding_sizes),
                "image_shape": list(self.image_shape), "activation": self.activation_name,
                "tied": self.tied}


@dataclass
class GreedyResult:
    """What :func:`train_greedy_layerwise` returns: the stacked model and each phase's history.

    >>> result = GreedyResult(StackedAutoencoder((8, 2)), histories=[])
    >>> result.autoencoder.coding_sizes
    (8, 2)
    """

    autoencoder: StackedAutoencoder
    histories: list


def train_greedy_layerwise(x, coding_sizes=(100, 30), *, epochs: int = 5, batch_size: int = 256,
                           learning_rate: float = 3e-3, activation: str = "selu",
                           verbose: int = 0) -> GreedyResult:
    """Train a stacked autoencoder one shallow autoencoder at a time, then stack them.

    Phase 1 trains ``inputs → coding_sizes[0] → inputs`` on ``x``; phase ``k`` trains
    ``coding_sizes[k-2] → coding_sizes[k-1] → coding_sizes[k-2]`` on the codings of the
    previous phase. The trained layers are copied into a :class:`StackedAutoencoder`
    (encoders in order, decoders in reverse), ready to be fine-tuned as a whole.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((64, 28, 28)).astype("float32")
    >>> result = train_greedy_layerwise(x, (16, 4), epochs=1)
    >>> [layer.units for layer in result.autoencoder.encoder.layers[1:]]
    [16, 4]
    >>> len(result.histories)
    2
    """
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of examples, got shape {x.shape}")
    sizes, shape = _check_sizes(coding_sizes, x.shape[1:])
    epochs = check_positive_int(epochs, "epochs")
    stacked = StackedAutoencoder(sizes, image_shape=shape, activation=activation)
    inputs = x.reshape(len(x), -1)
    histories, phase_weights = [], []
    for phase, size in enumerate(sizes):
        n_inputs = inputs.shape[1]
        # The first phase reconstructs pixels in [0, 1]; later phases reconstruct codings.
        output_activation = "sigmoid" if phase == 0 else activation
        shallow = keras.Sequential([
            keras.Input((n_inputs,)),
            keras.layers.Dense(size, activation=activation),
            keras.layers.Dense(n_inputs, activation=output_activation),
        ])
        compile_autoencoder(shallow, steps=epochs * math.ceil(len(inputs) / batch_size),
                            learning_rate=learning_rate)
        histories.append(shallow.fit(inputs, inputs, epochs=epochs, batch_size=batch_size,
                                     verbose=verbose))
        phase_weights.append((shallow.layers[0].get_weights(), shallow.layers[1].get_weights()))
        inputs = shallow.layers[0](inputs).numpy()
    encoder_dense = stacked.encoder.layers[1:]
    decoder_dense = stacked.decoder.layers[:-1]
    for phase, (encoder_weights, decoder_weights) in enumerate(phase_weights):
        encoder_dense[phase].set_weights(encoder_weights)
        decoder_dense[len(sizes) - 1 - phase].set_weights(decoder_weights)
    return GreedyResult(stacked, histories)
