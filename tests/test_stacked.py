"""Stacked autoencoders (genlib.layers, genlib.stacked), the pretraining experiment
(genlib.pretraining) and the latent map (genlib.plots.plot_latent_map).

Small models and random data only: the whole file runs in seconds.
"""

import math

import keras
import numpy as np
import pandas as pd
import pytest
from matplotlib.offsetbox import AnnotationBbox

import genlib
from genlib.layers import DenseTranspose
from genlib.plots import plot_latent_map
from genlib.pretraining import SETTINGS, linear_probe, pretraining_experiment, summarize
from genlib.stacked import GreedyResult, StackedAutoencoder, train_greedy_layerwise


def expected_params(coding_sizes, n_inputs=784, *, tied):
    """Kernels (once if tied, twice if not) + encoder biases + decoder biases."""
    sizes = (n_inputs, *coding_sizes)
    kernels = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    encoder_biases = sum(coding_sizes)
    decoder_biases = n_inputs + sum(coding_sizes[:-1])  # decoder layers output their mirror's inputs
    return kernels * (1 if tied else 2) + encoder_biases + decoder_biases


def random_images(n, shape=(28, 28), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def tied_pair(n_in=5, n_out=3, activation="sigmoid"):
    dense = keras.layers.Dense(n_out)
    keras.Sequential([keras.Input((n_in,)), dense])
    tied = DenseTranspose(dense, activation=activation)
    keras.Sequential([keras.Input((n_out,)), tied])
    return dense, tied


# --- DenseTranspose shares the kernel --------------------------------------------------------


def test_dense_transpose_computes_with_the_dense_kernel():
    dense, tied = tied_pair()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3)).astype("float32")
    for _ in range(2):  # a new kernel changes the output accordingly
        kernel = rng.normal(size=(5, 3)).astype("float32")
        bias = rng.normal(size=5).astype("float32")
        dense.kernel.assign(kernel)
        tied.bias.assign(bias)
        expected = 1 / (1 + np.exp(-(x @ kernel.T + bias)))
        np.testing.assert_allclose(keras.ops.convert_to_numpy(tied(x)), expected, rtol=1e-5, atol=1e-6)
    assert tied.tied_to is dense
    assert [w.shape for w in tied.weights] == [(5,)]  # only its bias: the kernel is the Dense's


def test_parameter_counts_count_tied_kernels_once():
    tied = StackedAutoencoder((100, 30), tied=True)
    untied = StackedAutoencoder((100, 30), tied=False)
    assert tied.count_params() == 82_414 == expected_params((100, 30), tied=True)
    assert untied.count_params() == 163_814 == expected_params((100, 30), tied=False)
    # The difference is exactly the decoder's kernels.
    assert untied.count_params() - tied.count_params() == 784 * 100 + 100 * 30
    for sizes in [(64,), (32, 16, 8)]:
        for is_tied in (True, False):
            model = StackedAutoencoder(sizes, image_shape=(6, 6), tied=is_tied)
            assert model.count_params() == expected_params(sizes, 36, tied=is_tied)
    # Each variable once among the model's weights.
    assert len({id(w) for w in tied.weights}) == len(tied.weights) == 2 + 2 + 2


def test_training_the_tied_model_updates_the_one_kernel():
    genlib.set_random_seed(0)
    model = StackedAutoencoder((8, 4), image_shape=(4, 4), tied=True)
    encoder_dense = model.encoder.layers[1:]
    before = [layer.kernel.numpy().copy() for layer in encoder_dense]
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.5))
    x = random_images(32, (4, 4))
    model.fit(x, x, epochs=2, batch_size=8, verbose=0)
    for layer, old in zip(encoder_dense, before):
        assert not np.allclose(layer.kernel.numpy(), old)  # it was trained
    for tied, mirror in zip(model.decoder.layers[:-1], reversed(encoder_dense)):
        assert tied.tied_to.kernel is mirror.kernel  # the same variable object...
    assert len(model.trainable_weights) == 2 + 2 + 2  # 2 kernels, 4 biases
    # ...and the decoder's output really uses the trained kernels.
    codings = keras.ops.convert_to_numpy(model.encoder(x[:3]))
    w1, w2 = (layer.kernel.numpy() for layer in encoder_dense)
    b_hidden, b_out = (layer.bias.numpy() for layer in model.decoder.layers[:-1])
    hidden = keras.ops.convert_to_numpy(keras.activations.selu(codings @ w2.T + b_hidden))
    out = 1 / (1 + np.exp(-(hidden @ w1.T + b_out)))
    np.testing.assert_allclose(model.decoder(codings).numpy(), out.reshape(3, 4, 4), atol=1e-5)


@pytest.mark.parametrize("sizes", [(100, 30), (64, 32, 8)])
def test_decoder_layer_n_minus_l_plus_1_is_tied_to_encoder_layer_l(sizes):
    model = StackedAutoencoder(sizes, tied=True)
    encoder_dense = model.encoder.layers[1:]  # after Flatten
    decoder_tied = model.decoder.layers[:-1]  # before Reshape
    n = len(sizes)
    assert [layer.units for layer in encoder_dense] == list(sizes)
    assert len(decoder_tied) == n
    assert all(isinstance(layer, DenseTranspose) for layer in decoder_tied)
    for k, layer in enumerate(decoder_tied, start=1):  # k = N - L + 1
        assert layer.tied_to is encoder_dense[n - k]
    assert model.decoder.layers[0].tied_to is model.encoder.layers[-1]
    assert model.decoder.layers[n - 1].tied_to is model.encoder.layers[1]
    activations = [layer.activation.__name__ for layer in decoder_tied]
    assert activations == ["selu"] * (n - 1) + ["sigmoid"]


# --- Saving and loading ----------------------------------------------------------------------


# Keras' own saving code triggers a NumPy 2 DeprecationWarning about TF tensors' __array__.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("tied", [True, False])
def test_keras_save_and_load_round_trip(tmp_path, tied):
    genlib.set_random_seed(0)
    model = StackedAutoencoder((100, 30), tied=tied)
    x = random_images(5)
    expected = model.predict(x, verbose=0)
    path = tmp_path / "stacked.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, StackedAutoencoder)
    assert loaded.tied == tied and loaded.coding_sizes == (100, 30)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert loaded.count_params() == model.count_params() == expected_params((100, 30), tied=tied)
    if tied:
        decoder = loaded.decoder.layers
        assert decoder[0].tied_to is loaded.encoder.layers[-1]
        assert decoder[1].tied_to is loaded.encoder.layers[1]
        assert decoder[0].tied_to.kernel is loaded.encoder.layers[-1].kernel
        # Still shared: a change to the loaded encoder's kernel reaches the decoder.
        loaded.encoder.layers[1].kernel.assign(np.zeros((784, 100), "float32"))
        assert not np.allclose(loaded.predict(x, verbose=0), expected)


def test_dense_transpose_cannot_be_loaded_on_its_own():
    _, tied = tied_pair()
    with pytest.raises(TypeError, match="Save and load the whole model"):
        DenseTranspose.from_config(tied.get_config())


# --- Shapes and bad input --------------------------------------------------------------------


@pytest.mark.parametrize("tied", [True, False])
def test_output_shape_equals_input_shape(tied):
    model = StackedAutoencoder((16, 4), tied=tied)
    for batch in (1, 7, 32):
        x = random_images(batch)
        assert tuple(model(x).shape) == x.shape
        assert model.predict(x, verbose=0).shape == x.shape
    flat = StackedAutoencoder((16, 4), image_shape=(20,), tied=tied)
    assert tuple(flat(np.zeros((7, 20), "float32")).shape) == (7, 20)


def test_dense_transpose_rejects_bad_layers():
    with pytest.raises(TypeError, match="Conv1D"):
        DenseTranspose(keras.layers.Conv1D(3, 1))
    with pytest.raises(ValueError, match="not built yet.*build it first"):
        DenseTranspose(keras.layers.Dense(3))


def test_dense_transpose_rejects_inputs_of_the_wrong_width():
    dense = keras.layers.Dense(3)
    keras.Sequential([keras.Input((5,)), dense])
    with pytest.raises(ValueError, match="expects inputs with 3 features"):
        DenseTranspose(dense)(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="expects inputs with 3 features"):
        keras.Sequential([keras.Input((4,)), DenseTranspose(dense)])


def test_built_dense_transpose_rejects_inputs_of_the_wrong_width():
    _, tied = tied_pair()
    with pytest.raises(ValueError, match="3"):
        tied(np.zeros((2, 4), "float32"))


@pytest.mark.parametrize("sizes", [(), [], (0,), (10, -1), (10, 2.5)])
def test_stacked_autoencoder_rejects_bad_coding_sizes(sizes):
    with pytest.raises(ValueError, match="coding"):
        StackedAutoencoder(sizes)


# --- Greedy layer-wise training --------------------------------------------------------------


@pytest.fixture
def phase_models(monkeypatch):
    """Records every model that ``fit`` trains (the greedy phases)."""
    trained = []
    original_fit = keras.Model.fit

    def spy(self, *args, **kwargs):
        trained.append(self)
        return original_fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    return trained


@pytest.mark.parametrize("sizes", [(16, 4), (32, 16, 8)])
def test_greedy_layerwise_stacks_the_trained_phases(phase_models, sizes):
    genlib.set_random_seed(0)
    x = random_images(64)
    result = train_greedy_layerwise(x, sizes, epochs=1, batch_size=32)
    assert isinstance(result, GreedyResult)
    model = result.autoencoder
    encoder_dense = model.encoder.layers[1:]
    decoder_dense = model.decoder.layers[:-1]
    assert [layer.units for layer in encoder_dense] == list(sizes)
    assert [layer.units for layer in decoder_dense] == [*reversed(sizes[:-1]), 784]
    assert len(result.histories) == len(sizes) == len(phase_models)
    assert all(len(history.history["loss"]) == 1 for history in result.histories)
    assert model.predict(x[:3], verbose=0).shape == (3, 28, 28)
    # Phase k's layers were copied into encoder layer k and decoder layer N - k + 1.
    n = len(sizes)
    for k, phase in enumerate(phase_models):
        for got, want in zip(encoder_dense[k].get_weights(), phase.layers[0].get_weights()):
            np.testing.assert_array_equal(got, want)
        for got, want in zip(decoder_dense[n - 1 - k].get_weights(), phase.layers[1].get_weights()):
            np.testing.assert_array_equal(got, want)
    # So the stacked model computes the phases' encoders, then their decoders in reverse.
    h = x[:5].reshape(5, -1)
    for phase in phase_models:
        h = phase.layers[0](h)
    for phase in reversed(phase_models):
        h = phase.layers[1](h)
    np.testing.assert_allclose(model(x[:5]).numpy(), np.reshape(h, (5, 28, 28)), atol=1e-5)


def test_greedy_layerwise_weights_are_not_the_fresh_initialization():
    genlib.set_random_seed(3)
    result = train_greedy_layerwise(random_images(64), (16, 4), epochs=1)
    genlib.set_random_seed(3)
    fresh = StackedAutoencoder((16, 4))  # built first in train_greedy_layerwise, same seed
    trained = result.autoencoder.encoder.layers[1].kernel.numpy()
    assert trained.shape == fresh.encoder.layers[1].kernel.shape
    assert not np.allclose(trained, fresh.encoder.layers[1].kernel.numpy())


@pytest.mark.parametrize("x", [np.zeros((0, 28, 28)), np.zeros(5), []])
def test_greedy_layerwise_rejects_empty_data(x):
    with pytest.raises(ValueError, match="non-empty"):
        train_greedy_layerwise(x, (16, 4), epochs=1)


def test_greedy_layerwise_rejects_bad_sizes():
    with pytest.raises(ValueError, match="coding"):
        train_greedy_layerwise(random_images(8), (), epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train_greedy_layerwise(random_images(8), (4,), epochs=0)


# --- The pretraining experiment --------------------------------------------------------------


def tiny_data():
    x = random_images(200, seed=5)
    y = np.repeat(np.arange(10), 20)
    return x, y


@pytest.fixture(scope="module")
def experiment():
    genlib.set_random_seed(0)
    encoder = StackedAutoencoder((8, 4)).encoder
    before = [w.copy() for w in encoder.get_weights()]
    x, y = tiny_data()
    table = pretraining_experiment(encoder, x, y, x[:50], y[:50], label_budgets=[20, 50],
                                   seeds=[0, 1], steps=1)
    return encoder, before, table


def test_pretraining_experiment_has_one_row_per_run(experiment):
    _, _, table = experiment
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["labels", "seed", "setting", "test_accuracy"]
    assert len(table) == 2 * 2 * 3 == 12
    assert not table.duplicated(["labels", "seed", "setting"]).any()
    expected = {(b, s, setting) for b in (20, 50) for s in (0, 1) for setting in SETTINGS}
    assert set(zip(table.labels, table.seed, table.setting)) == expected
    assert table.test_accuracy.between(0, 1).all()


def test_pretraining_experiment_does_not_modify_the_encoder(experiment):
    encoder, before, _ = experiment
    after = encoder.get_weights()
    assert len(after) == len(before)
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)
    assert encoder.trainable


def test_summarize_gives_one_row_per_budget(experiment):
    _, _, table = experiment
    summary = summarize(table)
    assert list(summary.index) == [20, 50]
    assert list(summary.columns) == list(SETTINGS)
    assert all(" % ± " in cell for cell in summary.to_numpy().ravel())


@pytest.mark.parametrize("kwargs, message", [
    (dict(label_budgets=[]), "label_budgets is empty"),
    (dict(seeds=[]), "seeds is empty"),
    (dict(label_budgets=[25]), "multiple of the 10 classes"),
    (dict(label_budgets=[300]), "fewer than the 30 per class"),
    (dict(label_budgets=[0]), "label_budgets"),
    (dict(steps=0), "steps"),
])
def test_pretraining_experiment_rejects_bad_arguments(kwargs, message):
    encoder = StackedAutoencoder((8, 4)).encoder
    x, y = tiny_data()
    arguments = dict(label_budgets=[20], seeds=[0], steps=1) | kwargs
    with pytest.raises(ValueError, match=message):
        pretraining_experiment(encoder, x, y, x, y, **arguments)


def test_pretraining_experiment_rejects_mismatched_data():
    encoder = StackedAutoencoder((8, 4)).encoder
    x, y = tiny_data()
    with pytest.raises(ValueError, match="as many examples"):
        pretraining_experiment(encoder, x, y[:-1], x, y, label_budgets=[20], seeds=[0], steps=1)


# --- The latent map --------------------------------------------------------------------------


def map_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.integers(0, 3, n), rng.random((n, 28, 28))


def annotation_boxes(fig):
    return [artist for artist in fig.axes[0].get_children() if isinstance(artist, AnnotationBbox)]


def test_latent_map_legend_and_thumbnails():
    points, labels, images = map_data()
    names = ["T-shirt", "Trouser", "Pullover"]
    fig = plot_latent_map(points, labels, names, images=images, title="t-SNE")
    legend = fig.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == names
    boxes = annotation_boxes(fig)
    assert 0 < len(boxes) <= len(points)
    assert fig.axes[0].get_title() == "t-SNE"
    assert annotation_boxes(plot_latent_map(points, labels, names)) == []
    # A larger min_distance shows fewer thumbnails.
    sparse = plot_latent_map(points, labels, names, images=images, min_distance=0.5)
    assert 0 < len(annotation_boxes(sparse)) < len(boxes)


@pytest.mark.parametrize("change, argument", [
    (dict(points=np.zeros((40, 3))), "points"),
    (dict(points=np.zeros(40)), "points"),
    (dict(labels=np.full(40, 3)), "labels"),
    (dict(labels=np.full(40, -1)), "labels"),
    (dict(labels=np.zeros(39, int)), "labels"),
    (dict(images=np.zeros((39, 28, 28))), "images"),
])
def test_latent_map_rejects_bad_arguments(change, argument):
    points, labels, images = map_data()
    arguments = dict(points=points, labels=labels, images=images) | change
    with pytest.raises(ValueError, match=argument):
        plot_latent_map(arguments["points"], arguments["labels"], ["a", "b", "c"],
                        images=arguments["images"])


def test_expected_params_formula_by_hand():
    # 784·100 + 100·30 kernels, 100 + 30 encoder biases, 100 + 784 decoder biases.
    assert expected_params((100, 30), tied=True) == 78_400 + 3_000 + 130 + 884
    assert math.prod((28, 28)) == 784


# --- The linear probe ------------------------------------------------------------------------


class ClassPixels(keras.Model):
    """A stand-in encoder whose codings are the image's class written in its pixels."""

    def call(self, images):
        return keras.ops.reshape(images, (-1, 784))[:, :10]


def images_marking_their_class(n, seed):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(10), n // 10)
    x = rng.normal(0, 0.1, (len(y), 28, 28)).astype("float32")
    x.reshape(len(y), 784)[np.arange(len(y)), y] += 1.0  # pixel y lights up for class y
    return x, y


def test_the_linear_probe_finds_separable_codings_and_nothing_in_noise():
    x, y = images_marking_their_class(400, seed=0)
    x_test, y_test = images_marking_their_class(200, seed=1)
    table = linear_probe(ClassPixels(), x, y, x_test, y_test, label_budgets=[50, 100],
                         seeds=[0, 1])
    assert list(table.columns) == ["labels", "seed", "test_accuracy"]
    assert len(table) == 4 and (table.test_accuracy > 0.95).all()
    shuffled = np.random.default_rng(2).permutation(y_test)  # labels the codings cannot know
    chance = linear_probe(ClassPixels(), x, y, x_test, shuffled, label_budgets=[100], seeds=[0])
    assert chance.test_accuracy.iloc[0] < 0.3


def test_the_linear_probe_rejects_bad_arguments():
    x, y = tiny_data()
    with pytest.raises(ValueError, match="multiple of the 10 classes"):
        linear_probe(StackedAutoencoder((8, 4)).encoder, x, y, x, y, label_budgets=[25])
    with pytest.raises(TypeError, match="encoder"):
        linear_probe("encoder", x, y, x, y)
