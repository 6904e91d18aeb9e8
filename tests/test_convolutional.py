"""Convolutional and recurrent autoencoders (genlib.convolutional) and the transposed
convolution the chapter teaches.

Small models and random data only; the one training test runs 1 epoch on 32 images.
"""

import keras
import numpy as np
import pytest
from scipy.signal import correlate2d

import genlib
from genlib.convolutional import ConvAutoencoder, RecurrentAutoencoder

RECURRENT_VARIANTS = [("lstm", True), ("lstm", False), ("gru", True), ("gru", False)]


def random_images(n, shape=(28, 28), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def outputs(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


# --- Saving and loading ----------------------------------------------------------------------


def round_trip(model, tmp_path, x):
    """Save ``model`` to a .keras file, load it back, and check it predicts the same."""
    expected = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert loaded.count_params() == model.count_params()
    assert loaded.get_config() == model.get_config()
    return loaded


# Keras' own saving code triggers a NumPy 2 DeprecationWarning about TF tensors' __array__.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_conv_autoencoder_save_and_load_round_trip(tmp_path):
    genlib.set_random_seed(0)
    model = ConvAutoencoder(coding_size=12, image_shape=(12, 28), filters=(4, 8, 6), activation="relu")
    loaded = round_trip(model, tmp_path, random_images(5, (12, 28)))
    assert loaded.coding_size == 12 and loaded.image_shape == (12, 28)
    assert loaded.filters == (4, 8, 6) and loaded.activation_name == "relu"
    config = loaded.get_config()
    assert (config["coding_size"], config["image_shape"], config["filters"], config["activation"]) == (
        12, [12, 28], [4, 8, 6], "relu")


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("cell, unroll", RECURRENT_VARIANTS)
def test_recurrent_autoencoder_save_and_load_round_trip(tmp_path, cell, unroll):
    genlib.set_random_seed(0)
    model = RecurrentAutoencoder(coding_size=6, image_shape=(10, 7), units=12, cell=cell, unroll=unroll)
    loaded = round_trip(model, tmp_path, random_images(5, (10, 7)))
    assert (loaded.coding_size, loaded.image_shape, loaded.units) == (6, (10, 7), 12)
    assert (loaded.cell, loaded.unroll) == (cell, unroll)
    recurrent = [layer for layer in loaded.encoder.layers + loaded.decoder.layers
                 if isinstance(layer, keras.layers.RNN)]
    assert len(recurrent) == 3
    assert all(type(layer).__name__ == cell.upper() and layer.unroll == unroll for layer in recurrent)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("make", [
    lambda: ConvAutoencoder(coding_size=10, filters=(4, 8, 8)),
    lambda: RecurrentAutoencoder(coding_size=10, units=16, cell="lstm", unroll=False),
], ids=["conv", "recurrent"])
def test_one_epoch_of_training_then_a_round_trip(tmp_path, make):
    genlib.set_random_seed(0)
    model = make()
    model.compile(loss="mse", optimizer="adam")
    x = random_images(32)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, x, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert any(not np.array_equal(old, new) for old, new in zip(before, model.get_weights()))
    round_trip(model, tmp_path, x[:5])


# --- Shapes ----------------------------------------------------------------------------------


CONV_SHAPES = [((28, 28), (16, 32, 64)), ((32, 32), (16, 32, 64)), ((16, 20), (8, 16)),
               ((12, 28), (4, 8, 8)), ((15, 23), (4, 8, 8))]


@pytest.mark.parametrize("shape, filters", CONV_SHAPES, ids=str)
def test_conv_output_shape_equals_input_shape(shape, filters):
    model = ConvAutoencoder(coding_size=8, image_shape=shape, filters=filters)
    for batch in (1, 5, 32):
        x = random_images(batch, shape)
        assert outputs(model, x).shape == x.shape
        assert outputs(model.encoder, x).shape == (batch, 8)
    assert model.predict(random_images(5, shape), verbose=0).shape == (5, *shape)
    assert model.encoder.output_shape == (None, 8)
    assert model.decoder.input_shape == (None, 8) and model.decoder.output_shape == (None, *shape)


@pytest.mark.parametrize("shape, filters", CONV_SHAPES, ids=str)
def test_conv_decoder_mirrors_the_encoder(shape, filters):
    model = ConvAutoencoder(coding_size=8, image_shape=shape, filters=filters)
    convs = [layer for layer in model.encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    pools = [layer for layer in model.encoder.layers if isinstance(layer, keras.layers.MaxPool2D)]
    transposed = [layer for layer in model.decoder.layers
                  if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [layer.filters for layer in convs] == list(filters)
    assert len(pools) == len(transposed) == len(filters)
    # Each pooling halves the sizes (rounding down); each transposed convolution undoes one.
    pooled = [tuple(layer.output.shape[1:]) for layer in pools]
    height, width = shape
    for h, w, _ in pooled:
        height, width = height // 2, width // 2
        assert (h, w) == (height, width)
    # Transposed convolution k outputs exactly what convolution N - k + 1 takes as input.
    unpooled = [tuple(layer.output.shape[1:]) for layer in transposed]
    conv_inputs = [tuple(layer.input.shape[1:]) for layer in convs]
    assert unpooled == conv_inputs[::-1]
    assert conv_inputs == [(*shape, 1), *pooled[:-1]]
    assert [layer.filters for layer in transposed] == [*reversed(filters[:-1]), 1]
    reshape = next(layer for layer in model.decoder.layers if isinstance(layer, keras.layers.Reshape))
    assert tuple(reshape.output.shape[1:]) == pooled[-1]
    assert transposed[-1].activation.__name__ == "sigmoid"
    assert all(layer.strides == (2, 2) and layer.kernel_size == (3, 3) for layer in transposed)


def test_conv_autoencoder_for_28x28_uses_valid_padding_first_then_same():
    # 28 → 14 → 7 → 3 when pooling: back up, 3 → 7 needs "valid", 7 → 14 → 28 "same".
    model = ConvAutoencoder(coding_size=30)
    transposed = [layer for layer in model.decoder.layers
                  if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [layer.padding for layer in transposed] == ["valid", "same", "same"]
    assert [tuple(layer.output.shape[1:3]) for layer in transposed] == [(7, 7), (14, 14), (28, 28)]


@pytest.mark.parametrize("shape", [(28, 28), (10, 7)], ids=str)
@pytest.mark.parametrize("cell, unroll", [("lstm", True), ("gru", False)])
def test_recurrent_output_shape_equals_input_shape(shape, cell, unroll):
    model = RecurrentAutoencoder(coding_size=8, image_shape=shape, units=16, cell=cell, unroll=unroll)
    for batch in (1, 5, 32):
        x = random_images(batch, shape)
        assert outputs(model, x).shape == x.shape
        codings = outputs(model.encoder, x)
        assert codings.shape == (batch, 8)
    assert model.decoder.output_shape == (None, *shape)
    assert (outputs(model, random_images(5, shape)) > 0).all()  # sigmoid outputs
    assert (outputs(model, random_images(5, shape)) < 1).all()


# --- Bad input -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conv_model():
    return ConvAutoencoder(coding_size=10, filters=(4, 8, 8))


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 28, 27), (3, 28, 28, 3), (3, 784)], ids=str)
def test_conv_autoencoder_rejects_images_of_the_wrong_shape(conv_model, shape):
    x = np.zeros(shape, "float32")
    with pytest.raises(ValueError):
        conv_model(x)
    with pytest.raises(ValueError):
        conv_model.predict(x, verbose=0)


def test_recurrent_autoencoder_rejects_images_with_extra_axes():
    model = RecurrentAutoencoder(coding_size=4, image_shape=(6, 5), units=8)
    for shape in [(3, 6, 5, 3), (3, 30)]:
        x = np.zeros(shape, "float32")
        with pytest.raises(ValueError, match=r"reconstructs images of shape \(6, 5\)"):
            model(x)
        with pytest.raises(ValueError, match=r"reconstructs images of shape \(6, 5\)"):
            model.predict(x, verbose=0)


@pytest.mark.parametrize("shape", [(3, 6, 4), (3, 7, 5), (3, 3, 5)], ids=str)
@pytest.mark.parametrize("call", ["call", "predict"])
def test_recurrent_autoencoder_rejects_images_of_the_wrong_size(shape, call):
    model = RecurrentAutoencoder(coding_size=4, image_shape=(6, 5), units=8, unroll=False)
    x = np.zeros(shape, "float32")
    with pytest.raises(ValueError, match=r"6, 5"):
        model(x) if call == "call" else model.predict(x, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(image_shape=(28, 27)), r"image_shape \(28, 27\) cannot be reconstructed exactly"),
    (dict(image_shape=(16, 20)), "cannot be reconstructed exactly"),  # fine with 2 poolings only
    (dict(coding_size=4, image_shape=(4, 4)), "too small for 3 poolings"),
    (dict(coding_size=4, image_shape=(7, 7), filters=(4, 4, 4)), "too small for 3 poolings"),
    (dict(image_shape=(0, 28)), "image_shape (must|is)|each entry of image_shape"),
    (dict(image_shape=(28,)), "image_shape (must|is)|each entry of image_shape"),
    (dict(image_shape=(28, 28, 1)), "image_shape (must|is)|each entry of image_shape"),
    (dict(image_shape=(28.0, 28)), "image_shape (must|is)|each entry of image_shape"),
    (dict(image_shape=None), "image_shape (must|is)|each entry of image_shape"),
    (dict(coding_size=0), "coding_size must be an integer >= 1"),
    (dict(coding_size=-3), "coding_size must be an integer >= 1"),
    (dict(coding_size=2.5), "coding_size must be an integer >= 1"),
    (dict(coding_size="30"), "coding_size must be an integer >= 1"),
    (dict(coding_size=True), "coding_size must be an integer >= 1"),
    (dict(coding_size=784), "coding_size=784 is not smaller than the 784 input values"),
    (dict(coding_size=1000), "not smaller than the 784 input values"),
    (dict(coding_size=20, image_shape=(4, 4), filters=(4,)), "not smaller than the 16 input values"),
    (dict(filters=()), "filters is empty"),
    (dict(filters=[]), "filters is empty"),
    (dict(filters=(16, 0)), "each entry of filters must be an integer >= 1"),
    (dict(filters=(16, 2.5)), "each entry of filters must be an integer >= 1"),
])
def test_conv_autoencoder_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvAutoencoder(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(cell="rnn"), "cell must be one of 'lstm', 'gru', got 'rnn'"),
    (dict(cell=None), "cell must be one of 'lstm', 'gru', got None"),
    (dict(units=0), "units must be an integer >= 1"),
    (dict(units=10.5), "units must be an integer >= 1"),
    (dict(coding_size=0), "coding_size must be an integer >= 1"),
    (dict(coding_size=2.5), "coding_size must be an integer >= 1"),
    (dict(coding_size=784), "coding_size=784 is not smaller than the 784 input values"),
    (dict(coding_size=35, image_shape=(5, 7)), "not smaller than the 35 input values"),
    (dict(image_shape=(28,)), "image_shape (must|is)|each entry of image_shape"),
    (dict(image_shape=(28, -1)), "image_shape (must|is)|each entry of image_shape"),
])
def test_recurrent_autoencoder_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RecurrentAutoencoder(**kwargs)


def test_integer_like_arguments_are_accepted():
    model = ConvAutoencoder(coding_size=np.int64(8), image_shape=[np.int32(16), 16], filters=[4, 8])
    assert model.coding_size == 8 and type(model.coding_size) is int
    assert model.image_shape == (16, 16) and model.filters == (4, 8)
    assert RecurrentAutoencoder(coding_size=np.int64(3), image_shape=(4, 4), units=np.int16(5)).units == 5


# --- The transposed convolution, three ways ---------------------------------------------------


def test_transposed_convolution_is_stamps_and_zero_insertion_with_a_flipped_kernel():
    kernel = np.arange(1.0, 10.0).reshape(3, 3)  # not symmetric: flipping it matters
    x = np.array([[1.0, 2.0], [3.0, 4.0]])

    def keras_transposed(padding):
        layer = keras.layers.Conv2DTranspose(1, 3, strides=2, padding=padding, use_bias=False)
        layer.build((None, 2, 2, 1))
        layer.set_weights([kernel.reshape(3, 3, 1, 1)])
        return keras.ops.convert_to_numpy(layer(x.reshape(1, 2, 2, 1).astype("float32")))[0, :, :, 0]

    # 1. Each input value stamps the kernel, scaled by the value, 2 pixels after the previous one.
    stamps = np.zeros((5, 5))
    for i in range(2):
        for j in range(2):
            stamps[2 * i:2 * i + 3, 2 * j:2 * j + 3] += x[i, j] * kernel
    # 2. Spread the inputs apart with zeros, pad by kernel_size - 1, correlate with the flipped kernel.
    spread = np.zeros((3, 3))
    spread[::2, ::2] = x
    padded = np.pad(spread, 2)
    convolved = correlate2d(padded, kernel[::-1, ::-1], mode="valid")

    valid = keras_transposed("valid")
    assert valid.shape == stamps.shape == convolved.shape == (5, 5)  # (2 - 1) * 2 + 3
    np.testing.assert_allclose(valid, stamps, rtol=1e-6)
    np.testing.assert_allclose(convolved, stamps, rtol=1e-12)
    assert not np.allclose(correlate2d(padded, kernel, mode="valid"), stamps)  # the flip matters
    # Overlaps add up: the centre pixel gets the corner of all 4 stamps.
    assert stamps[2, 2] == kernel[2, 2] * x[0, 0] + kernel[2, 0] * x[0, 1] + \
        kernel[0, 2] * x[1, 0] + kernel[0, 0] * x[1, 1]
    # "same" padding crops the same stamps to exactly size * strides = 4 pixels.
    np.testing.assert_allclose(keras_transposed("same"), stamps[:4, :4], rtol=1e-6)
