"""Denoising autoencoders (genlib.denoising): corruption in training only, validated
strengths, saving and loading, the noise sweep and the restoration figure.

Small models and random data only: the whole file runs in seconds.
"""

import keras
import numpy as np
import pandas as pd
import pytest

import genlib
from genlib.denoising import (
    NOISE_KINDS,
    DenoisingAutoencoder,
    check_noise,
    corrupt,
    corruption_layer,
    invented_pixels,
    noise_sweep,
    plot_restorations,
)
from genlib.stacked import StackedAutoencoder

STRENGTHS = {"gaussian": 0.3, "dropout": 0.5}


def random_images(n, shape=(28, 28), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


# --- The corruption is active in training, and only in training -------------------------------


@pytest.mark.parametrize("noise", NOISE_KINDS)
def test_corruption_layer_changes_inputs_in_training_only(noise):
    layer = corruption_layer(noise, STRENGTHS[noise], seed=0)
    x = random_images(8)
    np.testing.assert_array_equal(numpy(layer(x)), x)
    np.testing.assert_array_equal(numpy(layer(x, training=False)), x)
    first, second = numpy(layer(x, training=True)), numpy(layer(x, training=True))
    assert not np.allclose(first, x)
    assert not np.allclose(first, second)  # new noise at every call


def test_dropout_zeroes_a_fraction_rate_and_scales_the_survivors():
    x = np.full((100, 28, 28), 0.4, dtype="float32")
    noisy = corrupt(x, "dropout", 0.25, seed=3)
    assert abs(np.mean(noisy == 0) - 0.25) < 0.01
    np.testing.assert_allclose(noisy[noisy != 0], 0.4 / 0.75, rtol=1e-6)
    assert abs(noisy.mean() - 0.4) < 0.01  # the expected value is unchanged


def test_gaussian_noise_has_the_requested_standard_deviation():
    x = np.full((100, 28, 28), 0.5, dtype="float32")
    noise = corrupt(x, "gaussian", 0.2, seed=3) - x
    assert abs(noise.mean()) < 0.005
    assert abs(noise.std() - 0.2) < 0.005


def test_corrupt_is_deterministic_per_seed():
    x = random_images(4)
    for noise in NOISE_KINDS:
        np.testing.assert_array_equal(corrupt(x, noise, 0.2, seed=1), corrupt(x, noise, 0.2, seed=1))
        assert not np.array_equal(corrupt(x, noise, 0.2, seed=1), corrupt(x, noise, 0.2, seed=2))
        np.testing.assert_array_equal(corrupt(x, noise, 0.0), x)  # strength 0: no noise


@pytest.mark.parametrize("noise", NOISE_KINDS)
def test_denoising_autoencoder_corrupts_in_training_only(noise):
    genlib.set_random_seed(0)
    model = DenoisingAutoencoder(noise, STRENGTHS[noise], coding_sizes=(16, 4))
    x = random_images(6)
    inference = numpy(model(x))
    # At inference the model *is* its stacked autoencoder, and deterministic.
    np.testing.assert_allclose(inference, numpy(model.autoencoder(x)), atol=1e-6)
    np.testing.assert_allclose(numpy(model(x, training=False)), inference, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), inference, atol=1e-6)
    # In training it sees corrupted inputs: the outputs change from call to call.
    training = [numpy(model(x, training=True)) for _ in range(2)]
    assert not np.allclose(training[0], inference, atol=1e-4)
    assert not np.allclose(training[0], training[1], atol=1e-4)
    # evaluate() runs in inference mode too: the loss on clean inputs is deterministic.
    model.compile(loss="mse")
    losses = [model.evaluate(x, x, verbose=0) for _ in range(2)]
    assert losses[0] == pytest.approx(losses[1], abs=1e-7)
    assert losses[0] == pytest.approx(np.mean((inference - x) ** 2), rel=1e-4)


def test_fit_trains_on_corrupted_inputs(monkeypatch):
    """fit() calls the corruption layer with training=True, every batch."""
    model = DenoisingAutoencoder("dropout", 0.5, coding_sizes=(8, 4))
    seen = []
    original_call = type(model.corruption).call

    def spy(self, inputs, training=False):
        seen.append(training)
        return original_call(self, inputs, training=training)

    monkeypatch.setattr(type(model.corruption), "call", spy)
    model.compile(loss="mse", optimizer="sgd", run_eagerly=True)
    x = random_images(16)
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert seen and all(flag is True for flag in seen)
    seen.clear()
    model.predict(x, verbose=0)
    assert seen and not any(seen)


def test_encoder_and_decoder_are_the_stacked_autoencoders_without_the_corruption():
    model = DenoisingAutoencoder("gaussian", 0.2, coding_sizes=(32, 8))
    assert isinstance(model.autoencoder, StackedAutoencoder)
    assert model.encoder is model.autoencoder.encoder
    assert model.decoder is model.autoencoder.decoder
    assert not any(isinstance(layer, (keras.layers.GaussianNoise, keras.layers.Dropout))
                   for layer in model.encoder.layers)
    assert model.encoder.output_shape == (None, 8)
    # The corruption layer has no weights: the same parameters as the stacked autoencoder.
    assert model.count_params() == StackedAutoencoder((32, 8)).count_params()


def test_initial_weights_depend_on_the_seed_only():
    """Models that differ only in their corruption start from the same weights, so that a
    sweep over noise strengths compares the noise and nothing else."""
    weights = []
    for noise, strength in [("dropout", 0.0), ("dropout", 0.5), ("gaussian", 0.0), ("gaussian", 0.2)]:
        genlib.set_random_seed(3)
        weights.append(DenoisingAutoencoder(noise, strength, coding_sizes=(8, 4)).get_weights())
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)


# --- Saving and loading ------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("noise, tied", [("gaussian", False), ("dropout", True)])
def test_keras_save_and_load_round_trip(tmp_path, noise, tied):
    genlib.set_random_seed(0)
    model = DenoisingAutoencoder(noise, STRENGTHS[noise], coding_sizes=(16, 4), tied=tied)
    x = random_images(5)
    model.compile(loss="mse", optimizer="nadam")
    model.fit(x, x, epochs=1, verbose=0)  # weights that differ from a fresh model's
    expected = model.predict(x, verbose=0)
    path = tmp_path / "dae.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, DenoisingAutoencoder)
    assert (loaded.noise, loaded.strength) == (noise, STRENGTHS[noise])
    assert loaded.autoencoder.coding_sizes == (16, 4) and loaded.autoencoder.tied == tied
    assert type(loaded.corruption) is type(model.corruption)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    # Still a denoising autoencoder: the loaded corruption layer works in training.
    assert not np.allclose(numpy(loaded(x, training=True)), expected, atol=1e-4)


# --- Invalid strengths and kinds: clear errors --------------------------------------------------


@pytest.mark.parametrize("rate, phrase", [
    (1.0, r"must lie in \[0, 1\), got 1.0: a rate of 1 would switch off every input"),
    (1.5, r"must lie in \[0, 1\), got 1.5"),
    (-0.1, r"must lie in \[0, 1\), got -0.1"),
    (float("nan"), r"must lie in \[0, 1\), got nan"),
])
def test_dropout_rate_outside_its_range_is_refused(rate, phrase):
    for build in (lambda: check_noise("dropout", rate), lambda: corruption_layer("dropout", rate),
                  lambda: DenoisingAutoencoder("dropout", rate),
                  lambda: corrupt(np.zeros((1, 2)), "dropout", rate)):
        with pytest.raises(ValueError, match=phrase):
            build()


@pytest.mark.parametrize("stddev", [-0.1, 1.5, float("nan"), float("inf")])
def test_gaussian_stddev_outside_its_range_is_refused(stddev):
    with pytest.raises(ValueError, match=r"standard deviation must lie in \[0, 1\].*Try 0.2"):
        DenoisingAutoencoder("gaussian", stddev)


@pytest.mark.parametrize("strength", ["0.5", None, True, [0.5]])
def test_strength_must_be_a_number(strength):
    with pytest.raises(ValueError, match="strength must be a number"):
        check_noise("dropout", strength)


@pytest.mark.parametrize("noise", ["Gaussian", "salt", None, "masking"])
def test_unknown_noise_kind_is_refused(noise):
    with pytest.raises(ValueError, match="noise must be 'gaussian'.* or 'dropout'"):
        DenoisingAutoencoder(noise, 0.2)


def test_valid_limits_are_accepted():
    assert check_noise("dropout", 0) == ("dropout", 0.0)
    assert check_noise("dropout", 0.99) == ("dropout", 0.99)
    assert check_noise("gaussian", 0) == ("gaussian", 0.0)
    assert check_noise("gaussian", 1) == ("gaussian", 1.0)
    assert check_noise("gaussian", np.float32(0.5)) == ("gaussian", 0.5)


# --- The noise sweep ---------------------------------------------------------------------------


@pytest.fixture
def untrained_fit(monkeypatch):
    """Replaces training in noise_sweep by a bare compile, and records what it was asked."""
    trained = []

    def fake_fit(model, x_train, x_valid, *, epochs, batch_size):
        model.compile(loss="mse")
        trained.append({"strength": model.strength, "noise": model.noise, "epochs": epochs,
                        "batch_size": batch_size, "n_train": len(x_train)})

    monkeypatch.setattr("genlib.denoising.fit_autoencoder", fake_fit)
    return trained


def test_noise_sweep_measures_every_model_on_every_test_strength(untrained_fit):
    x = random_images(64)
    table = noise_sweep("dropout", [0.0, 0.3, 0.6], x, x[:16], epochs=2, coding_sizes=(8, 4),
                        test_strengths=[0.0, 0.5], batch_size=32)
    assert [run["strength"] for run in untrained_fit] == [0.0, 0.3, 0.6]
    assert all(run == {**run, "noise": "dropout", "epochs": 2, "batch_size": 32, "n_train": 64}
               for run in untrained_fit)
    assert isinstance(table, pd.DataFrame)
    assert table.columns.tolist() == ["strength", "test_strength", "val_mse"]
    assert table.strength.tolist() == [0.0, 0.0, 0.3, 0.3, 0.6, 0.6]
    assert table.test_strength.tolist() == [0.0, 0.5] * 3
    assert np.all(np.isfinite(table.val_mse)) and np.all(table.val_mse > 0)
    # Every model starts from the same seed: untrained, they are the same model, so only
    # the test noise changes the error, and the noisy images are the same for all.
    clean, noisy = table[table.test_strength == 0].val_mse, table[table.test_strength > 0].val_mse
    assert np.ptp(clean) < 1e-7 and np.ptp(noisy) < 1e-7 and noisy.iloc[0] != clean.iloc[0]


def test_noise_sweep_tests_on_clean_images_by_default(untrained_fit):
    x = random_images(32)
    table = noise_sweep("gaussian", [0.2], x, x[:8], epochs=1, coding_sizes=(4,))
    assert table.test_strength.tolist() == [0.0, 0.2]
    assert untrained_fit[0]["batch_size"] == 256


@pytest.mark.parametrize("kwargs, phrase", [
    ({"strengths": [0.5, 1.0]}, r"\[0, 1\)"),
    ({"strengths": []}, "strengths is empty"),
    ({"test_strengths": [2.0]}, r"\[0, 1\)"),
    ({"epochs": 0}, "epochs must be an integer >= 1"),
])
def test_noise_sweep_checks_its_arguments_before_training(kwargs, phrase, monkeypatch):
    monkeypatch.setattr(keras.Model, "fit", lambda *a, **k: pytest.fail("trained before checking"))
    arguments = {"strengths": [0.0, 0.5], "epochs": 1, **kwargs}
    x = random_images(8)
    with pytest.raises(ValueError, match=phrase):
        noise_sweep("dropout", arguments.pop("strengths"), x, x, **arguments)


# --- Invented pixels and the restoration figure -------------------------------------------------


def test_invented_pixels_are_blank_in_the_original_and_drawn_in_the_restoration():
    original = np.array([[[0.0, 0.0, 0.9], [0.01, 0.5, 0.0]]])
    restored = np.array([[[0.5, 0.1, 0.9], [0.8, 0.9, 0.2]]])
    mask = invented_pixels(original, restored)
    assert mask.tolist() == [[[True, False, False], [True, False, False]]]
    assert invented_pixels(original, restored, ink=0.15).sum() == 3
    with pytest.raises(ValueError, match="same shape"):
        invented_pixels(original, restored[:, :1])
    with pytest.raises(ValueError, match="blank < ink"):
        invented_pixels(original, restored, blank=0.5, ink=0.3)


def test_plot_restorations_draws_four_rows_and_frames_the_highlight():
    x = random_images(6)
    fig = plot_restorations(x, x, x, n_images=5, highlight=3, noisy_title="dropout")
    axes = np.array(fig.axes).reshape(4, 5)
    assert [axes[row, 0].texts[0].get_text() for row in range(4)] == [
        "dropout", "restored", "original", "restored − original"]
    framed = [[any(patch.get_edgecolor()[:3] == (1.0, 0.0, 0.0) for patch in ax.patches)
               for ax in row] for row in axes]
    assert all(flags == [False, False, False, True, False] for flags in framed)
    assert axes[3, 0].images[0].get_cmap().name == "RdBu_r"


def test_plot_restorations_refuses_bad_input():
    x = random_images(4)
    with pytest.raises(ValueError, match="outside"):
        plot_restorations(x * 2, x, x)  # e.g. dropout's scaled survivors, not rescaled
    with pytest.raises(ValueError, match="same shape"):
        plot_restorations(x, x[:3], x)
    with pytest.raises(ValueError, match="highlight"):
        plot_restorations(x, x, x, n_images=3, highlight=3)
