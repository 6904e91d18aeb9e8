"""The chapter 7 checkers accept right answers and name each usual mistake specifically."""

import functools

import keras
import numpy as np
import pytest

from genlib.exercises.ch07 import check_conditional_generator, check_gan_losses
from tests.feedback_helpers import assert_not_yet

BCE = keras.losses.BinaryCrossentropy(from_logits=True)


# --- Exercise 7.1: the two losses ------------------------------------------------------------


def softplus(x):
    return np.logaddexp(0.0, x)


def d_loss_numpy(real_logits, fake_logits, smoothing=0.0):
    real = (1 - smoothing) * softplus(-real_logits) + smoothing * softplus(real_logits)
    return 0.5 * (np.mean(real) + np.mean(softplus(fake_logits)))


def g_loss_numpy(fake_logits):
    return np.mean(softplus(-fake_logits))


def d_loss_keras(real_logits, fake_logits, smoothing=0.0):
    """The concatenated-batch form, as in the classic recipe: one BCE over 2n images."""
    logits = keras.ops.concatenate([real_logits, fake_logits])
    targets = keras.ops.concatenate([keras.ops.full_like(real_logits, 1.0 - smoothing),
                                     keras.ops.zeros_like(fake_logits)])
    return BCE(targets, logits)


def g_loss_keras(fake_logits):
    return BCE(keras.ops.ones_like(fake_logits), fake_logits)


def test_right_losses_pass():
    for d_loss, g_loss in [(d_loss_numpy, g_loss_numpy), (d_loss_keras, g_loss_keras),
                           (d_loss_keras, g_loss_numpy)]:
        feedback = check_gan_losses(d_loss, g_loss)
        assert feedback.passed, feedback
        assert "all 6 cases" in feedback.message


def says(d_loss, g_loss, *phrases):
    return assert_not_yet(check_gan_losses(d_loss, g_loss), *phrases)


def test_discriminator_mistakes_are_named():
    def swapped(real, fake, smoothing=0.0):
        return d_loss_numpy(fake, real, smoothing)

    def two_sided(real, fake, smoothing=0.0):
        return 0.5 * (BCE(keras.ops.full_like(real, 1 - smoothing), real)
                      + BCE(keras.ops.full_like(fake, smoothing), fake))

    def no_smoothing(real, fake, smoothing=0.0):
        return d_loss_numpy(real, fake, 0.0)

    def sum_of_means(real, fake, smoothing=0.0):
        return BCE(keras.ops.full_like(real, 1 - smoothing), real) + BCE(
            keras.ops.zeros_like(fake), fake)

    def probabilities(real, fake, smoothing=0.0):
        bce = keras.losses.BinaryCrossentropy()
        return 0.5 * (bce(np.full_like(real, 1 - smoothing), real)
                      + bce(np.zeros_like(fake), fake))

    def per_image(real, fake, smoothing=0.0):
        return np.concatenate([softplus(-real), softplus(fake)])

    says(swapped, g_loss_numpy, "discriminator_loss", "targets are swapped")
    says(two_sided, g_loss_numpy, "one-sided", "fakes keep 0")
    says(no_smoothing, g_loss_numpy, "smoothing=0.1", "target must be 1 - smoothing")
    says(sum_of_means, g_loss_numpy, "twice the expected value")
    says(probabilities, g_loss_numpy, "*logits*", "from_logits=True")
    says(per_image, g_loss_numpy, "an array of shape (16, 1)", "one number")
    says(lambda real, fake, smoothing=0.0: 0.5, g_loss_numpy, "returned 0.5, expected")


def test_generator_mistakes_are_named():
    says(d_loss_numpy, lambda fake: np.mean(softplus(fake)), "generator_loss",
         "target is 0", "its target is 1")
    says(d_loss_numpy, lambda fake: -np.mean(softplus(fake)), "*saturating*")
    says(d_loss_numpy, lambda fake: np.sum(softplus(-fake)), "summed over the images")
    says(d_loss_numpy, lambda fake: keras.losses.BinaryCrossentropy()(
        np.ones_like(fake), fake), "*logits*")


def test_errors_and_non_functions():
    says(lambda real, fake: d_loss_numpy(real, fake), g_loss_numpy, "TypeError")
    says(d_loss_numpy, lambda fake: 1 / 0, "generator_loss(fake_logits)", "ZeroDivisionError")
    says(d_loss_numpy, lambda fake: None, "nothing usable")
    says(d_loss_numpy, lambda fake: "0.3", "nothing usable")
    says("loss", g_loss_numpy, "discriminator_loss must be a function")
    says(d_loss_numpy, lambda fake: np.nan, "numerically stable")


# --- Exercise 7.3: a conditional GAN ---------------------------------------------------------


@functools.lru_cache(maxsize=1)
def real_images_by_class():
    import genlib

    data = genlib.load_fashion_mnist("quick", download=False)
    return [data.x_train[data.y_train == k] for k in range(10)]


def look_up(labels):
    """A perfect "generator": a real training image of each requested class."""
    by_class = real_images_by_class()
    return np.stack([by_class[k][i % len(by_class[k])] for i, k in enumerate(labels)])


def test_a_generator_that_obeys_passes():
    feedback = check_conditional_generator(look_up, n_per_class=30)
    assert feedback.passed, feedback
    assert "recognizes the requested class" in feedback.message


def test_conditional_mistakes_are_named():
    rng = np.random.default_rng(0)

    def ignores_labels(labels):
        return look_up(np.full_like(labels, 7))

    def shuffled(labels):  # right classes for half the images only
        labels = labels.copy()
        labels[::2] = rng.integers(0, 10, len(labels[::2]))
        return look_up((labels + (np.arange(len(labels)) % 2 == 0)) % 10)

    assert_not_yet(check_conditional_generator(ignores_labels, n_per_class=20),
                   "ignore the label", "Sneaker")
    assert_not_yet(check_conditional_generator(shuffled, n_per_class=20, min_accuracy=0.9),
                   "at least 90% is expected")
    assert_not_yet(check_conditional_generator(lambda labels: look_up(labels) * 2 - 1,
                                               n_per_class=5),
                   "values in [-1, 1]", "(images + 1) / 2")
    assert_not_yet(check_conditional_generator(lambda labels: look_up(labels)[:10],
                                               n_per_class=5),
                   "returned shape (10, 28, 28)", "(50, 28, 28)")
    assert_not_yet(check_conditional_generator(lambda labels: 1 / 0, n_per_class=5),
                   "ZeroDivisionError")
    assert_not_yet(check_conditional_generator("generator"), "expected a function")


@pytest.mark.parametrize("extra_axis", [True, False])
def test_channel_axis_and_tensors_are_accepted(extra_axis):
    def generate(labels):
        images = look_up(labels)
        return keras.ops.convert_to_tensor(images[..., None] if extra_axis else images)

    assert check_conditional_generator(generate, n_per_class=10).passed
