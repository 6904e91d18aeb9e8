"""Convolutional and recurrent autoencoders (chapter 3), each registered for ``.keras`` files.

>>> from genlib.convolutional import ConvAutoencoder, RecurrentAutoencoder
>>> ConvAutoencoder(coding_size=30).decoder.output_shape
(None, 28, 28)
>>> RecurrentAutoencoder(coding_size=30).encoder.output_shape
(None, 30)
"""

from __future__ import annotations

import keras

from genlib._validation import check_positive_int, check_sizes


def _check_image_shape(image_shape) -> tuple[int, int]:
    return check_sizes(image_shape, "image_shape", length=2,
                       example="(28, 28), the height and width of grayscale images")


def _check_coding_size(coding_size, n_inputs: int) -> int:
    coding_size = check_positive_int(coding_size, "coding_size")
    if coding_size >= n_inputs:
        raise ValueError(
            f"coding_size={coding_size} is not smaller than the {n_inputs} input values: this "
            "undercomplete architecture would have nothing to compress (overcomplete autoencoders "
            "need another constraint, see the chapters on denoising and sparse autoencoders)"
        )
    return coding_size


def _check_inputs(inputs, image_shape):
    """A clear error for images of the wrong shape (Keras' own would name a MatMul or Reshape)."""
    shape = tuple(inputs.shape[1:])
    if shape != tuple(image_shape):
        raise ValueError(f"this autoencoder reconstructs images of shape {tuple(image_shape)}, "
                         f"got a batch of shape {tuple(inputs.shape)}")


def _transposed_padding(small: int, target: int) -> str:
    """The padding that takes a stride-2, size-3 transposed convolution from ``small`` to
    ``target`` (the size before a 2x2 max pooling, so 2*small or 2*small + 1).

    "same" doubles the size, "valid" gives (small - 1) * 2 + 3 = 2*small + 1. No output
    padding is needed (Keras 3.10, Colab's, refuses ``output_padding=0``)."""
    return "same" if target == 2 * small else "valid"


@keras.saving.register_keras_serializable(package="genlib")
class ConvAutoencoder(keras.Model):
    """A convolutional autoencoder: the encoder halves height and width while adding feature
    maps, the decoder does the reverse with transposed convolutions.

    Encoder: for each entry of ``filters``, a 3x3 convolution then a 2x2 max pooling; then
    the feature maps are flattened into a ``Dense`` coding layer of ``coding_size`` units.
    Decoder: a ``Dense`` layer back to the smallest feature maps, then one stride-2
    transposed convolution per pooling, the last with one filter and a sigmoid.

    Examples
    --------
    >>> model = ConvAutoencoder(coding_size=30, filters=(16, 32, 64))
    >>> [tuple(layer.output.shape[1:]) for layer in model.encoder.layers if "pool" in layer.name]
    [(14, 14, 16), (7, 7, 32), (3, 3, 64)]
    >>> ConvAutoencoder(image_shape=(28, 27))
    Traceback (most recent call last):
    ...
    ValueError: image_shape (28, 27) cannot be reconstructed exactly: after pooling, height and
    width must stay both even or both odd at every step (sizes: [(28, 27), (14, 13), (7, 6), (3,
    3)])
    """

    def __init__(self, coding_size=30, *, image_shape=(28, 28), filters=(16, 32, 64),
                 activation="selu", **kwargs):
        super().__init__(**kwargs)
        height, width = _check_image_shape(image_shape)
        self.coding_size = _check_coding_size(coding_size, height * width)
        self.filters = check_sizes(filters, "filters", example="(16, 32, 64)")
        self.image_shape, self.activation_name = (height, width), activation
        # The map sizes after each pooling, and the padding that undoes each pooling.
        sizes, paddings = _pooling_plan((height, width), self.filters)

        encoder_layers = [keras.Input((height, width)),
                          keras.layers.Reshape((height, width, 1))]
        for n_filters in self.filters:
            encoder_layers += [
                keras.layers.Conv2D(n_filters, 3, padding="same",
                                    activation=activation),
                keras.layers.MaxPool2D(2),
            ]
        encoder_layers += [
            keras.layers.Flatten(),
            keras.layers.Dense(self.coding_size, name="codings"),
        ]
        self.encoder = keras.Sequential(encoder_layers, name="encoder")

        small_h, small_w = sizes[-1]
        decoder_layers = [
            keras.Input((self.coding_size,)),
            keras.layers.Dense(small_h * small_w * self.filters[-1],
                               activation=activation),
            keras.layers.Reshape((small_h, small_w, self.filters[-1])),
        ]
        # Undo the poolings from the last to the first; each transposed convolution
        # outputs the number of filters of the convolution it mirrors, the last one a
        # single map.
        out_filters = [*reversed(self.filters[:-1]), 1]
        activations = [activation] * (len(out_filters) - 1) + ["sigmoid"]
        for n_filters, act, padding in zip(out_filters, activations, paddings[::-1]):
            decoder_layers.append(keras.layers.Conv2DTranspose(
                n_filters, 3, strides=2, padding=padding, activation=act))
        decoder_layers.append(keras.layers.Reshape((height, width)))
        self.decoder = keras.Sequential(decoder_layers, name="decoder")
        self.build((None, height, width))

    def call(self, inputs, training=None):
        _check_inputs(inputs, self.image_shape)
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), "coding_size": self.coding_size,
                "image_shape": list(self.image_shape), "filters": list(self.filters),
                "activation": self.activation_name}


def _pooling_plan(image_shape, filters):
    """The map sizes after each 2x2 pooling, and the padding of each transposed
    convolution that undoes one ("same" doubles a side, "valid" gives 2n + 1)."""
    sizes = [tuple(image_shape)]
    for _ in filters:
        sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
    if min(sizes[-1]) < 1:
        raise ValueError(f"image_shape {tuple(image_shape)!r} is too small for "
                         f"{len(filters)} poolings (sizes: {sizes})")
    paddings = []
    for (big_h, big_w), (small_h, small_w) in zip(sizes[:-1], sizes[1:]):
        padding = _transposed_padding(small_h, big_h)
        if padding != _transposed_padding(small_w, big_w):
            raise ValueError(
                f"image_shape {tuple(image_shape)} cannot be reconstructed exactly: after "
                "pooling, height and width must stay both even or both odd at every step "
                f"(sizes: {sizes})")
        paddings.append(padding)
    return sizes, paddings


_CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def _check_cell(cell):
    if cell not in _CELLS:
        raise ValueError(f"cell must be one of {', '.join(map(repr, _CELLS))}, "
                         f"got {cell!r}")
    return cell


@keras.saving.register_keras_serializable(package="genlib")
class RecurrentAutoencoder(keras.Model):
    """A sequence-to-sequence autoencoder that reads an image as a sequence of rows.

    Encoder: a recurrent layer of ``units`` returning its whole output sequence, then one of
    ``coding_size`` units whose last output is the coding vector. Decoder: the coding vector
    repeated once per time step, a recurrent layer of ``units``, and a time-distributed
    sigmoid ``Dense`` layer that outputs each row.

    ``unroll=True`` replaces the recurrent loop by one copy of the cell per time step: more
    memory, but far less per-step overhead on a CPU for short sequences such as 28 rows.

    Examples
    --------
    >>> model = RecurrentAutoencoder(coding_size=30, units=100, cell="gru")
    >>> model.decoder.output_shape
    (None, 28, 28)
    >>> RecurrentAutoencoder(cell="rnn")
    Traceback (most recent call last):
    ...
    ValueError: cell must be one of 'lstm', 'gru', got 'rnn'
    """

    def __init__(self, coding_size=30, *, image_shape=(28, 28), units=100, cell="gru",
                 unroll=True, **kwargs):
        super().__init__(**kwargs)
        n_steps, n_features = _check_image_shape(image_shape)
        self.coding_size = _check_coding_size(coding_size, n_steps * n_features)
        self.units = check_positive_int(units, "units")
        self.cell, self.unroll = _check_cell(cell), bool(unroll)
        self.image_shape = (n_steps, n_features)
        Cell = _CELLS[cell]
        self.encoder = keras.Sequential([
            keras.Input((n_steps, n_features)),
            Cell(self.units, return_sequences=True, unroll=self.unroll),
            Cell(self.coding_size, unroll=self.unroll, name="codings"),
        ], name="encoder")
        self.decoder = keras.Sequential([
            keras.Input((self.coding_size,)),
            keras.layers.RepeatVector(n_steps),
            Cell(self.units, return_sequences=True, unroll=self.unroll),
            keras.layers.TimeDistributed(
                keras.layers.Dense(n_features, activation="sigmoid")),
        ], name="decoder")
        self.build((None, n_steps, n_features))

    def call(self, inputs, training=None):
        _check_inputs(inputs, self.image_shape)
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), "coding_size": self.coding_size,
                "image_shape": list(self.image_shape), "units": self.units, "cell": self.cell,
                "unroll": self.unroll}
