"""Variational autoencoders (genlib.vae): the latent loss, the Sampling layer and the model.

Small models and synthetic data only: the whole file runs in seconds.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, stats

import genlib
from genlib.vae import (
    Sampling,
    VariationalAutoencoder,
    build_decoder,
    build_encoder,
    latent_loss,
)


def numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def random_images(n, shape=(8, 8), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def small_vae(**kwargs):
    return VariationalAutoencoder(**{"coding_size": 3, "hidden_sizes": (16,),
                                     "image_shape": (8, 8), **kwargs})


# --- The latent loss is the KL divergence from N(0, I) ------------------------------------------


def test_latent_loss_is_the_closed_form_kl_divergence():
    rng = np.random.default_rng(1)
    mean = rng.normal(size=(6, 4))
    sigma = rng.uniform(0.2, 3.0, size=(6, 4))
    # KL(N(μ, σ²) || N(0, 1)) = log(1/σ) + (σ² + μ²)/2 - 1/2 per coding, summed over codings.
    kl = np.sum(-np.log(sigma) + (sigma**2 + mean**2) / 2 - 0.5, axis=1)
    got = float(latent_loss(mean, np.log(sigma**2)))
    assert got == pytest.approx(kl.mean(), rel=1e-5)
    # Both forms of the notes agree: -1/2 Σ (1 + log σ² - σ² - μ²).
    sigma_form = -0.5 * np.sum(1 + np.log(sigma**2) - sigma**2 - mean**2, axis=1)
    np.testing.assert_allclose(sigma_form, kl, rtol=1e-10)


def test_latent_loss_matches_numerical_integration_in_one_dimension():
    for mu, sigma in [(0.0, 1.0), (1.5, 0.5), (-2.0, 2.5)]:
        q, p = stats.norm(mu, sigma), stats.norm(0.0, 1.0)
        kl, _ = integrate.quad(lambda z, q=q, p=p: q.pdf(z) * (q.logpdf(z) - p.logpdf(z)),
                               mu - 12 * sigma, mu + 12 * sigma)
        got = float(latent_loss(np.array([[mu]]), np.array([[np.log(sigma**2)]])))
        assert got == pytest.approx(kl, rel=1e-5, abs=1e-7)


def test_latent_loss_agrees_with_a_monte_carlo_estimate():
    rng = np.random.default_rng(2)
    mean = np.array([[0.5, -1.0, 2.0]])
    log_var = np.array([[np.log(0.3), 0.0, np.log(2.0)]])
    sigma = np.exp(log_var / 2)
    z = mean + sigma * rng.normal(size=(200_000, 3))
    # KL(q || p) = E_q[log q(z) - log p(z)], each coding independent.
    log_ratio = np.sum(stats.norm(mean, sigma).logpdf(z) - stats.norm(0, 1).logpdf(z), axis=1)
    estimate, standard_error = log_ratio.mean(), log_ratio.std() / math.sqrt(len(log_ratio))
    assert abs(float(latent_loss(mean, log_var)) - estimate) < 4 * standard_error


def test_latent_loss_sums_over_codings_and_averages_over_the_batch():
    mean = np.zeros((2, 5))
    mean[0, :] = 1.0  # 5 codings at μ = 1: 5 * 1/2 for the first input, 0 for the second
    assert float(latent_loss(mean, np.zeros((2, 5)))) == pytest.approx((2.5 + 0.0) / 2)
    assert float(latent_loss(np.zeros((3, 10)), np.zeros((3, 10)))) == 0.0
    # Never negative.
    rng = np.random.default_rng(3)
    for _ in range(5):
        assert float(latent_loss(rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) * 3)) >= 0


def test_latent_loss_works_on_keras_tensors_in_a_model():
    mean_in, log_var_in = keras.Input((3,)), keras.Input((3,))
    outputs = keras.layers.Lambda(lambda pair: latent_loss(*pair))([mean_in, log_var_in])
    model = keras.Model([mean_in, log_var_in], outputs)
    mean, log_var = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    assert float(numpy(model([mean, log_var]))) == pytest.approx(1.5)


@pytest.mark.parametrize("mean, log_var, error, phrase", [
    (np.zeros((4, 3)), np.zeros((4, 2)), ValueError, "same shape"),
    (np.zeros((4, 3)), np.zeros((3,)), ValueError, "same shape"),
    (np.zeros(()), np.zeros(()), ValueError, "at least one axis"),
    ([0.0, 1.0], np.zeros(2), TypeError, "mean must be a tensor or an array"),
])
def test_latent_loss_rejects_mismatched_inputs(mean, log_var, error, phrase):
    with pytest.raises(error, match=phrase):
        latent_loss(mean, log_var)


# --- The Sampling layer: the reparameterization trick --------------------------------------------


def test_sampling_has_the_requested_mean_and_standard_deviation():
    n = 100_000
    mean = np.tile(np.array([[1.0, -2.0, 0.0]], "float32"), (n, 1))
    std = np.array([0.5, 2.0, 1.0], "float32")
    log_var = np.tile(np.log(std**2)[None], (n, 1))
    codings = numpy(Sampling(seed=0)([mean, log_var]))
    assert codings.shape == (n, 3)
    np.testing.assert_allclose(codings.mean(axis=0), [1.0, -2.0, 0.0], atol=0.02)
    np.testing.assert_allclose(codings.std(axis=0), std, rtol=0.02)
    # Independent codings, and normally distributed.
    assert abs(np.corrcoef(codings.T)[0, 1]) < 0.02
    assert stats.kstest((codings[:, 1] + 2.0) / 2.0, "norm").pvalue > 1e-3


def test_same_seed_same_samples_and_new_draws_at_every_call():
    mean, log_var = np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")
    first, second = Sampling(seed=7), Sampling(seed=7)
    draws_first = [numpy(first([mean, log_var])) for _ in range(3)]
    draws_second = [numpy(second([mean, log_var])) for _ in range(3)]
    for a, b in zip(draws_first, draws_second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(draws_first[0], draws_first[1])  # a new draw at every call
    assert not np.array_equal(numpy(Sampling(seed=8)([mean, log_var])), draws_first[0])


def test_unseeded_sampling_follows_the_global_seed():
    mean, log_var = np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")

    def draw():
        genlib.set_random_seed(123)
        return numpy(Sampling()([mean, log_var]))

    np.testing.assert_array_equal(draw(), draw())


def test_gradients_flow_through_the_sample_to_mean_and_log_variance():
    layer = Sampling(seed=1)
    mean = tf.Variable([[0.5, -1.0]])
    log_var = tf.Variable([[0.2, -0.4]])
    with tf.GradientTape(persistent=True) as tape:
        codings = layer([mean, log_var])
    epsilon = (codings - mean) / tf.exp(log_var / 2)
    np.testing.assert_allclose(numpy(tape.gradient(codings, mean)), [[1.0, 1.0]])
    # dz/dγ = ε · exp(γ/2) / 2
    expected = numpy(epsilon * tf.exp(log_var / 2) / 2)
    np.testing.assert_allclose(numpy(tape.gradient(codings, log_var)), expected, rtol=1e-5)


def test_sampling_config_round_trip():
    layer = Sampling(seed=5, name="sampler")
    clone = Sampling.from_config(layer.get_config())
    assert clone.seed == 5 and clone.name == "sampler"


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True])
def test_sampling_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed must be None or a non-negative integer"):
        Sampling(seed=seed)


def test_sampling_needs_a_pair_of_tensors_of_the_same_shape():
    with pytest.raises(ValueError, match=r"list of two tensors, \[mean, log_var\]"):
        Sampling()(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="same shape"):
        Sampling()([np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")])


# --- The model ----------------------------------------------------------------------------------


def test_classic_architecture_and_parameter_count():
    vae = VariationalAutoencoder()
    assert vae.encoder.output_shape == [(None, 10), (None, 10)]
    assert [layer.units for layer in vae.encoder.layers if isinstance(layer, keras.layers.Dense)] \
        == [150, 100, 10, 10]
    assert [layer.units for layer in vae.decoder.layers if isinstance(layer, keras.layers.Dense)] \
        == [100, 150, 784]
    encoder = 784 * 150 + 150 + 150 * 100 + 100 + 2 * (100 * 10 + 10)
    decoder = 10 * 100 + 100 + 100 * 150 + 150 + 150 * 784 + 784
    assert vae.count_params() == encoder + decoder
    assert vae.latent_weight == pytest.approx(1 / 784)
    assert vae.decoder.layers[-2].activation is keras.activations.sigmoid


def test_builders():
    encoder = build_encoder(coding_size=2, hidden_sizes=(16, 8), image_shape=(8, 8))
    mean, log_var = encoder(random_images(5))
    assert mean.shape == log_var.shape == (5, 2)
    decoder = build_decoder(coding_size=2, hidden_sizes=(8, 16), image_shape=(8, 8))
    images = numpy(decoder(np.zeros((5, 2), "float32")))
    assert images.shape == (5, 8, 8) and images.min() >= 0 and images.max() <= 1


def test_the_loss_is_the_reconstruction_loss_plus_the_weighted_latent_loss():
    genlib.set_random_seed(0)
    x = random_images(6)
    for weight in (None, 0.0, 0.5):
        vae = small_vae(latent_weight=weight)
        vae.compile(loss="mse")
        outputs = vae(x)
        mean, log_var = vae.encoder(x)
        total = float(vae.compute_loss(x, x, outputs))
        mse = float(np.mean((numpy(outputs) - x) ** 2))
        expected_weight = 1 / 64 if weight is None else weight
        expected = mse + expected_weight * float(latent_loss(mean, log_var))
        assert total == pytest.approx(expected, rel=1e-5)
        assert float(vae.reconstruction_tracker.result()) == pytest.approx(mse, rel=1e-4)


def test_fit_tracks_both_parts_in_training_and_validation():
    genlib.set_random_seed(0)
    x = random_images(128)
    vae = small_vae()
    vae.compile(loss="mse", optimizer=keras.optimizers.Adam(1e-2))
    history = vae.fit(x, x, epochs=3, batch_size=32, validation_data=(x[:32], x[:32]),
                      verbose=0).history
    for prefix in ("", "val_"):
        total = np.array(history[f"{prefix}loss"])
        parts = np.array(history[f"{prefix}reconstruction_loss"]) + np.array(
            history[f"{prefix}latent_loss"])
        np.testing.assert_allclose(total, parts, rtol=1e-4)
    assert history["loss"][-1] < history["loss"][0]
    result = vae.evaluate(x, x, verbose=0, return_dict=True)
    assert set(result) == {"loss", "reconstruction_loss", "latent_loss"}


def test_calling_the_model_samples():
    vae = small_vae(seed=3)
    x = random_images(4)
    assert not np.array_equal(numpy(vae(x)), numpy(vae(x)))
    mean, _ = vae.encoder(x)
    np.testing.assert_array_equal(numpy(vae.encoder(x)[0]), numpy(mean))  # the encoder does not


def test_save_and_load_in_safe_mode(tmp_path):
    genlib.set_random_seed(0)
    x = random_images(64)
    vae = small_vae(latent_weight=0.02, seed=9)
    vae.compile(loss="mse", optimizer="adam")
    vae.fit(x, x, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is VariationalAutoencoder
    assert (loaded.coding_size, loaded.hidden_sizes, loaded.image_shape) == (3, (16,), (8, 8))
    assert loaded.latent_weight == 0.02 and loaded.seed == 9
    for original, reloaded in zip(vae.encoder(x), loaded.encoder(x)):  # means, log-variances
        np.testing.assert_array_equal(numpy(original), numpy(reloaded))
    codings = np.random.default_rng(1).normal(size=(10, 3)).astype("float32")
    np.testing.assert_array_equal(numpy(vae.decoder(codings)), numpy(loaded.decoder(codings)))
    # Compiled again on loading, and trainable further.
    assert loaded.loss == "mse"
    loaded.fit(x, x, epochs=1, batch_size=16, verbose=0)


@pytest.mark.parametrize("kwargs, phrase", [
    ({"latent_weight": -1.0}, r"latent_weight must be a number in \[0, inf\)"),
    ({"latent_weight": float("nan")}, r"latent_weight must be a number in \[0, inf\)"),
    ({"latent_weight": True}, r"latent_weight must be a number in \[0, inf\)"),
    ({"latent_weight": "1/784"}, r"latent_weight must be a number in \[0, inf\)"),
    ({"coding_size": 0}, "coding_size must be an integer >= 1"),
    ({"coding_size": 2.5}, "coding_size must be an integer >= 1"),
    ({"hidden_sizes": (16, -4)}, "each entry of hidden_sizes must be an integer >= 1"),
    ({"image_shape": (8, 0)}, "each entry of image_shape must be an integer >= 1"),
    ({"seed": -3}, "seed must be None or a non-negative integer"),
])
def test_bad_arguments_get_clear_errors(kwargs, phrase):
    with pytest.raises(ValueError, match=phrase):
        small_vae(**kwargs)


def test_training_without_a_reconstruction_loss_is_an_error():
    vae = small_vae()
    vae.compile(optimizer="adam")
    x = random_images(8)
    with pytest.raises(ValueError, match='compile the variational autoencoder with a '
                                         'reconstruction loss'):
        vae.fit(x, x, epochs=1, verbose=0)
