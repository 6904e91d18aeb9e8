"""The generative models' common contract: sample(n, *, seed=None) -> images in [0, 1]."""

import numpy as np
import pytest

import genlib
from genlib import frechet
from genlib.diffusion import DiffusionModel, build_noise_predictor, cosine_schedule
from genlib.gan import GAN, build_dense_discriminator, build_dense_generator
from genlib.generative import check_generative, time_sampling
from genlib.vae import VariationalAutoencoder


def small_models():
    genlib.set_random_seed(0)
    return {
        "VAE": VariationalAutoencoder(coding_size=2, hidden_sizes=(8,)),
        "GAN": GAN(build_dense_generator(4, hidden_sizes=(8,)), build_dense_discriminator((8,))),
        "DDPM": DiffusionModel(build_noise_predictor(filters=(4, 8)), cosine_schedule(10)),
    }


@pytest.mark.parametrize("name", ["VAE", "GAN", "DDPM"])
def test_every_model_samples_images_in_0_1_of_the_data_shape_reproducibly(name):
    model = small_models()[name]
    images = model.sample(3, seed=5)
    assert images.shape == (3, 28, 28)
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, model.sample(3, seed=5))
    assert not np.array_equal(images, model.sample(3, seed=6))
    with pytest.raises(ValueError, match="seed must be None or a non-negative integer"):
        model.sample(3, seed=-1)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        model.sample(0)


class Recorder:
    def __init__(self):
        self.calls = []

    def sample(self, n, *, seed=None, steps=None):
        self.calls.append((n, seed, steps))
        return np.zeros((n, 28, 28))


def test_time_sampling_warms_up_then_times_the_calls_asked_for():
    model = Recorder()
    seconds = time_sampling(model, 100, repeats=2, seed=1, steps=8)
    assert model.calls == [(2, 1, 8), (100, 1, 8), (100, 1, 8)] and seconds >= 0


@pytest.mark.parametrize("bad, message", [
    (lambda n: n, "must be a generative model with a sample"),
    (np.zeros(3), "must be a generative model with a sample"),
])
def test_time_sampling_refuses_what_cannot_sample(bad, message):
    with pytest.raises(TypeError, match=message):
        time_sampling(bad, 10)
    assert check_generative(Recorder())


def test_time_sampling_refuses_bad_counts():
    with pytest.raises(ValueError, match="n_images must be an integer >= 1"):
        time_sampling(Recorder(), 0)
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        time_sampling(Recorder(), 10, repeats=1.5)


def test_frechet_reference_matches_the_distance_of_two_sets():
    rng = np.random.default_rng(0)
    reference_images, other = rng.random((200, 28, 28)), rng.random((200, 28, 28)) ** 2
    reference = frechet.FrechetReference(reference_images)
    assert reference.n_images == 200
    assert reference.distance(other) == pytest.approx(
        frechet.frechet_distance(other, reference_images), rel=1e-9)
    with pytest.raises(ValueError, match="images"):
        reference.distance(other * 3)


def test_the_gan_seed_is_checked():
    with pytest.raises(ValueError, match="seed must be None or a non-negative integer"):
        GAN(build_dense_generator(4, hidden_sizes=(8,)), build_dense_discriminator((8,)), seed="1")
