"""Diffusion models (genlib.diffusion): schedules, the forward process, the network, samplers.

Small networks, small images and synthetic data only: the whole file runs in seconds.
"""

import keras
import numpy as np
import pytest

from genlib.diffusion import (
    DiffusionModel,
    NoiseSchedule,
    SinusoidalEmbedding,
    add_noise,
    build_noise_predictor,
    check_diffusion_batch,
    cosine_schedule,
    diffusion_dataset,
    fit_diffusion,
    linear_schedule,
    to_diffusion_range,
)

SCHEDULES = [linear_schedule(1000), cosine_schedule(1000), cosine_schedule(50),
             linear_schedule(20)]


def small_network(image_shape=(8, 8)):
    return build_noise_predictor(image_shape, filters=(4, 8), time_dim=8)


# --- Schedules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_schedules_are_monotonic_and_alpha_bars_lie_in_the_open_unit_interval(schedule):
    betas, alpha_bars = schedule.betas, schedule.alpha_bars
    assert np.all((betas > 0) & (betas <= 0.999))
    assert np.all((alpha_bars > 0) & (alpha_bars < 1))
    assert np.all(np.diff(alpha_bars) < 0), "every step must remove some of the image"
    assert np.all(np.diff(betas) >= -1e-12), "both schedules add more noise at later steps"
    np.testing.assert_allclose(alpha_bars, np.cumprod(1 - betas))
    assert alpha_bars[-1] < 1e-3, "at the last step almost only noise is left"


def test_linear_schedule_has_the_ddpm_paper_values():
    schedule = linear_schedule(1000)
    assert schedule.betas[0] == pytest.approx(1e-4) and schedule.betas[-1] == pytest.approx(0.02)
    assert linear_schedule(100).betas[-1] == pytest.approx(0.2)   # scaled by 1000 / T


def test_cosine_schedule_follows_the_cosine_and_caps_beta():
    schedule = cosine_schedule(1000)
    t = np.arange(1, 1001)
    f = np.cos((t / 1000 + 0.008) / 1.008 * np.pi / 2) ** 2 / np.cos(0.008 / 1.008 * np.pi / 2) ** 2
    # Equal wherever the cap does not bite (it only changes the very last step).
    np.testing.assert_allclose(schedule.alpha_bars[:-1], f[:-1], rtol=1e-9)
    assert schedule.betas[-1] == 0.999
    assert cosine_schedule(1000, max_beta=0.5).betas.max() == 0.5


@pytest.mark.parametrize("betas, phrase", [
    ([0.1, 1.0], "cap it"), ([0.0, 0.1], "(0, 1)"), ([[0.1]], "1-D"), ([], "non-empty"),
    ([0.1, np.nan], "(0, 1)"),
])
def test_bad_betas_are_refused(betas, phrase):
    with pytest.raises(ValueError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        NoiseSchedule(betas)


def test_bad_schedule_arguments_are_refused():
    with pytest.raises(ValueError, match="n_steps"):
        cosine_schedule(1)
    with pytest.raises(ValueError, match="max_beta"):
        cosine_schedule(100, max_beta=1.0)
    with pytest.raises(ValueError, match="beta_start < beta_end"):
        linear_schedule(100, beta_start=0.02, beta_end=1e-4)


# --- The forward process ----------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 10, 250, 500, 999])
def test_noised_images_have_the_closed_form_mean_and_variance(t):
    schedule = cosine_schedule(1000)
    rng = np.random.default_rng(t)
    x0 = rng.uniform(-1, 1, (1, 4, 4)).astype("float32")
    images = np.repeat(x0, 20_000, axis=0)
    noise = rng.standard_normal(images.shape).astype("float32")
    noisy = np.asarray(add_noise(schedule, images, t, noise))
    alpha_bar = schedule.alpha_bars[t]
    np.testing.assert_allclose(noisy.mean(axis=0), np.sqrt(alpha_bar) * x0[0], atol=0.025)
    np.testing.assert_allclose(noisy.var(axis=0), 1 - alpha_bar,
                               rtol=0.05, atol=1e-4)


def test_the_closed_form_matches_adding_noise_step_by_step():
    # The Markov chain x_t = √α_t x_{t-1} + √β_t ε_t, run t + 1 times, has the same
    # distribution as the closed form: compare means and variances.
    schedule = linear_schedule(100)
    rng = np.random.default_rng(0)
    x0 = np.full((20_000, 2, 2), 0.7)
    x = x0.copy()
    for t in range(60):
        x = np.sqrt(schedule.alphas[t]) * x + np.sqrt(schedule.betas[t]) * rng.standard_normal(x.shape)
    alpha_bar = schedule.alpha_bars[59]
    assert x.mean() == pytest.approx(np.sqrt(alpha_bar) * 0.7, abs=0.01)
    assert x.var() == pytest.approx(1 - alpha_bar, rel=0.02)


def test_one_step_per_image_and_keras_tensors_are_accepted():
    schedule = NoiseSchedule([0.1, 0.2, 0.5])
    x0 = np.ones((3, 2, 2), "float32")
    noise = np.full((3, 2, 2), 0.5, "float32")
    expected = [np.sqrt(a) + np.sqrt(1 - a) * 0.5 for a in schedule.alpha_bars]
    got = np.asarray(add_noise(schedule, keras.ops.convert_to_tensor(x0), np.array([0, 1, 2]),
                               keras.ops.convert_to_tensor(noise)))
    np.testing.assert_allclose(got[:, 0, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("schedule", [linear_schedule(1000), cosine_schedule(1000)], ids=repr)
def test_no_nan_or_infinity_for_any_step(schedule):
    t = np.arange(schedule.n_steps)
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (len(t), 8, 8)).astype("float32")
    noisy = np.asarray(add_noise(schedule, x0, t, rng.standard_normal(x0.shape)))
    assert np.all(np.isfinite(noisy))
    model = DiffusionModel(small_network(), schedule)
    assert np.all(np.isfinite(model.predict_noise(noisy, t)))
    # Every coefficient of both samplers is finite, the last (β capped) step included.
    for plan in (model.sampling_plan(schedule.n_steps, eta=1.0), model.sampling_plan(7)):
        assert np.all(np.isfinite(np.array(plan, dtype=float)))
    images = model.sample_ddpm(2, seed=0)
    assert np.all(np.isfinite(images))


@pytest.mark.parametrize("t, phrase", [
    (-1, r"in \[0, 10\)"), (10, r"in \[0, 10\)"), ([0, 11], r"got values in \[0, 11\]"),
    (1.5, "integer step indices"),
])
def test_steps_outside_the_schedule_are_a_clear_error(t, phrase):
    schedule = cosine_schedule(10)
    x0 = np.zeros((2, 4, 4))
    with pytest.raises(ValueError, match=phrase):
        add_noise(schedule, x0, t, np.zeros_like(x0))
    model = DiffusionModel(small_network((4, 4)), schedule)
    with pytest.raises(ValueError, match=phrase):
        model.predict_noise(x0, t)


def test_wrong_shapes_are_a_clear_error():
    schedule = cosine_schedule(10)
    x0 = np.zeros((2, 8, 8))
    with pytest.raises(ValueError, match="noise must have the shape of the images"):
        add_noise(schedule, x0, 0, np.zeros((2, 8, 7)))
    with pytest.raises(ValueError, match="one per image"):
        add_noise(schedule, x0, [0, 1, 2], np.zeros_like(x0))
    with pytest.raises(ValueError, match="must be a batch"):
        add_noise(schedule, np.zeros(8), 0, np.zeros(8))
    model = DiffusionModel(small_network(), schedule)
    with pytest.raises(ValueError, match=r"batches of shape \(n, 8, 8\)"):
        model.predict_noise(np.zeros((2, 28, 28)), 0)
    with pytest.raises(ValueError, match=r"batches of shape \(n, 8, 8\)"):
        model.fit(np.zeros((4, 28, 28), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="reshape flat images"):
        check_diffusion_batch(np.zeros((2, 784)))
    with pytest.raises(ValueError, match="to_diffusion_range"):
        check_diffusion_batch(np.full((2, 28, 28), 255.0))
    with pytest.raises(ValueError, match="divide 8-bit images by 255"):
        to_diffusion_range(np.full((2, 28, 28), 255.0))


# --- The network -------------------------------------------------------------------------------


def test_sinusoidal_embedding_has_sines_and_cosines_of_unit_pairs():
    embedding = np.asarray(SinusoidalEmbedding(dim=16)(np.arange(1000)))
    assert embedding.shape == (1000, 16)
    # Each frequency's sine and cosine make a unit vector: all rows have norm √(dim / 2).
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), np.sqrt(8), rtol=1e-5)
    np.testing.assert_allclose(embedding[:, 0], np.sin(np.arange(1000)), atol=1e-4)
    # Nearby steps are closer than far-apart steps.
    assert np.linalg.norm(embedding[500] - embedding[501]) < np.linalg.norm(
        embedding[500] - embedding[900])
    with pytest.raises(ValueError, match="even"):
        SinusoidalEmbedding(dim=5)


def test_noise_predictor_shapes_and_validation():
    network = build_noise_predictor(filters=(8, 16, 16))
    assert network.output_shape == (None, 28, 28)
    # The zero-initialized head predicts no noise before training.
    out = network([np.ones((2, 28, 28), "float32"), np.array([0, 5], "int32")])
    assert np.allclose(np.asarray(out), 0.0)
    with pytest.raises(ValueError, match="divisible"):
        build_noise_predictor((28, 28), filters=(8, 8, 8, 8))
    with pytest.raises(ValueError, match="filters"):
        build_noise_predictor(filters=())


def test_noise_predictor_and_model_survive_keras_save_and_load(tmp_path):
    schedule = cosine_schedule(30)
    model = DiffusionModel(small_network(), schedule, sampling_steps=6, sampling_eta=0.5,
                           sampling_spacing=0.75, seed=3)
    x = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8)).astype("float32")
    fit_diffusion(model, x, epochs=1, steps_per_epoch=3, batch_size=16, warmup_steps=1)
    noisy, t = x[:4], np.array([0, 7, 15, 29])
    expected = model.predict_noise(noisy, t)
    assert not np.allclose(expected, 0.0), "training must have moved the head"

    model.network.save(tmp_path / "network.keras")
    network = keras.models.load_model(tmp_path / "network.keras")  # safe mode
    np.testing.assert_allclose(np.asarray(network([noisy, t])), expected, rtol=1e-5, atol=1e-6)

    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(restored, DiffusionModel)
    assert (restored.sampling_steps, restored.sampling_eta, restored.sampling_spacing,
            restored.seed) == (6, 0.5, 0.75, 3)
    np.testing.assert_allclose(restored.schedule.betas, schedule.betas)
    np.testing.assert_allclose(restored.predict_noise(noisy, t), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(restored.sample(3, seed=1), model.sample(3, seed=1), atol=1e-5)


# --- Training ----------------------------------------------------------------------------------


def test_the_first_loss_is_the_variance_of_the_noise_and_training_lowers_it():
    # With the head at zero the network predicts 0, so the first loss is E[ε²] = 1; on a
    # data set of one image the noise is easy to predict, and the loss must drop fast.
    x = np.full((256, 8, 8), 0.5, "float32")
    model = DiffusionModel(small_network(), cosine_schedule(100), seed=0)
    result = fit_diffusion(model, x, epochs=50, steps_per_epoch=2, batch_size=64,
                           learning_rate=1e-2, warmup_steps=5, ema_momentum=None)
    losses = result.history.history["loss"]
    assert losses[0] == pytest.approx(1.0, abs=0.3)
    assert np.mean(losses[-5:]) < 0.5 * losses[0]


def test_fit_diffusion_validates_its_arguments():
    model = DiffusionModel(small_network(), cosine_schedule(10))
    x = np.zeros((64, 8, 8), "float32")
    with pytest.raises(ValueError, match="warmup_steps"):
        fit_diffusion(model, x, epochs=1, steps_per_epoch=5, warmup_steps=5, batch_size=8)
    with pytest.raises(ValueError, match="ema_momentum"):
        fit_diffusion(model, x, epochs=1, steps_per_epoch=5, ema_momentum=1.0, batch_size=8,
                      warmup_steps=1)
    with pytest.raises(ValueError, match="larger than the 64 examples"):
        diffusion_dataset(x, batch_size=128, image_shape=(8, 8))
    with pytest.raises(TypeError, match="DiffusionModel"):
        fit_diffusion(small_network(), x, epochs=1)


# --- Sampling ----------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="tests")
class OracleNoise(keras.layers.Layer):
    """The true noise of a data set holding a single image: ε = (x_t - √ᾱ_t x_0) / √(1 - ᾱ_t)."""

    def __init__(self, alpha_bars, clean, **kwargs):
        super().__init__(**kwargs)
        self.alpha_bars = np.asarray(alpha_bars, "float32")
        self.clean = np.asarray(clean, "float32")

    def call(self, inputs):
        x, t = inputs
        alpha_bar = keras.ops.take(self.alpha_bars, t)[:, None, None]
        return (x - keras.ops.sqrt(alpha_bar) * self.clean) / keras.ops.sqrt(1 - alpha_bar)


def oracle_model(schedule, clean):
    x = keras.Input(clean.shape)
    t = keras.Input((), dtype="int32")
    return DiffusionModel(keras.Model([x, t], OracleNoise(schedule.alpha_bars, clean)([x, t])),
                          schedule)


@pytest.mark.parametrize("schedule", [linear_schedule(1000), cosine_schedule(200)], ids=repr)
def test_with_the_true_noise_both_samplers_recover_a_single_image_data_set(schedule):
    clean = np.linspace(-0.9, 0.9, 36, dtype="float32").reshape(6, 6)  # not just a constant
    model = oracle_model(schedule, clean)
    expected = (clean + 1) / 2
    ddpm = model.sample_ddpm(4, seed=0)
    np.testing.assert_allclose(ddpm, np.broadcast_to(expected, ddpm.shape), atol=2e-3)
    for steps, eta in [(10, 0.0), (25, 1.0), (3, 0.5)]:
        images = model.sample(4, steps=steps, eta=eta, seed=1)
        np.testing.assert_allclose(images, np.broadcast_to(expected, images.shape), atol=2e-3)


def test_ddim_with_every_step_and_full_noise_has_the_ddpm_variances():
    schedule = cosine_schedule(100)
    model = DiffusionModel(small_network(), schedule)
    plan = model.sampling_plan(100, eta=1.0)
    assert [t for t, *_ in plan] == list(range(99, -1, -1))
    sigmas = np.array([sigma for *_, sigma in plan])
    previous = np.concatenate([[1.0], schedule.alpha_bars[:-1]])
    ddpm = np.sqrt(schedule.betas * (1 - previous) / (1 - schedule.alpha_bars))
    np.testing.assert_allclose(sigmas, ddpm[::-1], rtol=1e-6, atol=1e-12)


def test_the_model_s_sampling_eta_is_the_default_of_sample():
    noisy = DiffusionModel(small_network(), cosine_schedule(20), sampling_eta=1.0)
    assert noisy.sampling_plan(5) == noisy.sampling_plan(5, eta=1.0)
    assert noisy.sampling_plan(5) != noisy.sampling_plan(5, eta=0.0)
    np.testing.assert_array_equal(noisy.sample(3, steps=5, seed=4),
                                  noisy.sample(3, steps=5, eta=1.0, seed=4))
    assert not np.allclose(noisy.sample(3, steps=5, seed=4),
                           noisy.sample(3, steps=5, eta=0.0, seed=4))
    assert DiffusionModel(small_network(), cosine_schedule(20)).sampling_eta == 0.0


def test_spacing_puts_the_steps_where_the_power_says():
    model = DiffusionModel(small_network(), cosine_schedule(1000), sampling_spacing=0.5)
    times = np.array([t for t, *_ in model.sampling_plan(50)])
    assert times[0] == 999 and times[-1] == 0 and np.all(np.diff(times) < 0)
    fractions = np.linspace(0, 1, 50)[::-1] ** 0.5
    np.testing.assert_array_equal(times, (999 * fractions).round())
    gaps = -np.diff(times)
    assert gaps[0] < gaps[-1], "with a power below 1, the steps crowd at high noise"
    even = [t for t, *_ in model.sampling_plan(50, spacing=1.0)]
    assert -np.diff(even).max() - -np.diff(even).min() <= 1, "a power of 1 spaces them evenly"
    with pytest.raises(ValueError, match="spacing"):
        model.sample(2, spacing=-1.0)


def test_sampling_is_reproducible_and_validated():
    model = DiffusionModel(small_network(), cosine_schedule(20))
    np.testing.assert_array_equal(model.sample(3, steps=5, seed=4), model.sample(3, steps=5, seed=4))
    images, path = model.sample(2, steps=5, seed=0, trajectory=True)
    assert path.shape == (2, 6, 8, 8)
    np.testing.assert_allclose(images, np.clip((path[:, -1] + 1) / 2, 0, 1))
    with pytest.raises(ValueError, match="at most T = 20"):
        model.sample(2, steps=21)
    with pytest.raises(ValueError, match="eta"):
        model.sample(2, eta=2.0)
    with pytest.raises(ValueError, match="seed"):
        model.sample(2, seed=-1)
    with pytest.raises(ValueError, match="n must be"):
        model.sample(0)


def test_the_model_refuses_a_network_that_does_not_fit():
    with pytest.raises(TypeError, match="NoiseSchedule"):
        DiffusionModel(small_network(), np.ones(10) * 0.1)
    one_input = keras.Sequential([keras.Input((8, 8)), keras.layers.Dense(8)])
    with pytest.raises(ValueError, match="two inputs"):
        DiffusionModel(one_input, cosine_schedule(10))
