"""Custom Keras layers of the course, each registered for ``.keras`` serialization."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="genlib")
class DenseTranspose(keras.layers.Layer):
    """A dense layer that reuses the *transposed* kernel of another ``Dense`` layer.

    Tying a decoder layer to an encoder layer this way halves the number of weights of a
    symmetric autoencoder: the decoder's layer ``N - L + 1`` reuses the kernel of the
    encoder's layer ``L``, transposed, and only adds its own bias vector.

    The tied kernel is *not* a weight of this layer (it belongs to the ``Dense`` layer), so
    a model counts it once, and training either layer updates the one shared matrix.
    Because it refers to another layer, a ``DenseTranspose`` is saved and loaded as part of
    the model that creates both layers (see :class:`genlib.stacked.StackedAutoencoder`).

    Parameters
    ----------
    dense : keras.layers.Dense
        The layer to tie to; it must already be built (its kernel must exist).
    activation : str or callable, optional

    Examples
    --------
    >>> import keras, numpy as np
    >>> dense = keras.layers.Dense(3)
    >>> encoder = keras.Sequential([keras.Input((5,)), dense])
    >>> tied = DenseTranspose(dense)
    >>> decoder = keras.Sequential([keras.Input((3,)), tied])
    >>> decoder.output_shape, decoder.count_params()   # only its own bias: 5 values
    ((None, 5), 5)
    """

    def __init__(self, dense, activation=None, **kwargs):
        super().__init__(**kwargs)
        _check_dense(dense)
        # Stored without Keras' attribute tracking, so that the tied Dense layer's
        # weights are not counted (or saved) a second time as weights of this layer.
        object.__setattr__(self, "_tied_dense", dense)
        self.activation = keras.activations.get(activation)

    @property
    def tied_to(self) -> keras.layers.Dense:
        """The ``Dense`` layer whose transposed kernel this layer uses."""
        return self._tied_dense

    def build(self, input_shape):
        n_inputs, n_outputs = self._tied_dense.kernel.shape
        _check_input_features(self._tied_dense, input_shape)
        # Checked by Keras at every later call too, with a clear message.
        self.input_spec = keras.InputSpec(axes={-1: n_outputs})
        self.bias = self.add_weight(name="bias", shape=(n_inputs,),
                                    initializer="zeros")

    def call(self, inputs):
        kernel = ops.transpose(self._tied_dense.kernel)
        return self.activation(ops.matmul(inputs, kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self._tied_dense.kernel.shape[0])

    def get_config(self):
        config = super().get_config()
        config["activation"] = keras.activations.serialize(self.activation)
        return config

    @classmethod
    def from_config(cls, config):
        raise TypeError(
            "A DenseTranspose cannot be rebuilt on its own: it refers to another "
            "layer. Save and load the whole model that creates both layers "
            "(e.g. genlib.stacked.StackedAutoencoder).")


def _check_dense(dense):
    if not isinstance(dense, keras.layers.Dense):
        raise TypeError(f"DenseTranspose ties to a keras.layers.Dense layer, got "
                        f"{type(dense).__name__}")
    if not dense.built:
        raise ValueError(
            f"the Dense layer {dense.name!r} is not built yet, so it has no kernel to "
            "share: build it first (put it in a model that starts with keras.Input, or call "
            "it once)")


def _check_input_features(dense, input_shape):
    n_inputs, n_outputs = dense.kernel.shape
    if input_shape[-1] is not None and input_shape[-1] != n_outputs:
        raise ValueError(
            f"DenseTranspose tied to {dense.name!r} (kernel {n_inputs}x{n_outputs}) "
            f"expects inputs with {n_outputs} features, got shape {tuple(input_shape)}. In "
            "a tied decoder, layer N-L+1 reuses encoder layer L: the first decoder layer "
            "ties to the coding layer, the output layer to the first encoder layer.")
