"""The chapter 8 checkers accept right answers and name each usual mistake specifically."""

import keras
import numpy as np
import pytest

from genlib import diffusion
from genlib.exercises import Feedback
from genlib.exercises.ch08 import check_add_noise, check_reverse_step
from tests.feedback_helpers import assert_not_yet

ops = keras.ops


def passes(feedback):
    assert isinstance(feedback, Feedback) and feedback.passed, feedback
    assert repr(feedback).startswith("✔ Correct")
    return feedback.message


# --- Exercise 8.1: the forward process in one go -------------------------------------------------


def numpy_answer(x0, t, noise, betas):
    """The chapter's solution."""
    alpha_bars = np.cumprod(1 - betas)
    alpha_bar = alpha_bars[t].reshape(-1, 1, 1)
    return np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise


def with_signal(signal, form="right"):
    """An answer that computes ᾱ with ``signal(betas, t)`` and combines with ``form``."""
    forms = {
        "right": lambda a, x0, e: np.sqrt(a) * x0 + np.sqrt(1 - a) * e,
        "no_sqrt": lambda a, x0, e: a * x0 + (1 - a) * e,
    }

    def answer(x0, t, noise, betas):
        a = np.asarray(signal(betas, t)).reshape(-1, 1, 1)
        return forms[form](a, x0, noise)

    return answer


def says(function, *phrases):
    return assert_not_yet(check_add_noise(function), *phrases)


@pytest.mark.parametrize("answer", [
    numpy_answer,
    # keras.ops, with a product written as exp(sum(log)).
    lambda x0, t, noise, betas: (
        ops.sqrt(ops.take(ops.exp(ops.cumsum(ops.log(1 - betas))), t))[:, None, None] * x0
        + ops.sqrt(1 - ops.take(ops.exp(ops.cumsum(ops.log(1 - betas))), t))[:, None, None]
        * noise),
    # genlib's own function, through a NoiseSchedule.
    lambda x0, t, noise, betas: diffusion.add_noise(diffusion.NoiseSchedule(betas), x0, t, noise),
    # A loop over the images.
    lambda x0, t, noise, betas: np.stack([
        np.sqrt(np.prod(1 - betas[:s + 1])) * x + np.sqrt(1 - np.prod(1 - betas[:s + 1])) * e
        for x, s, e in zip(x0, t, noise)]),
])
def test_right_answers_pass(answer):
    assert "all 4 test cases" in passes(check_add_noise(answer))


def test_alpha_or_beta_instead_of_alpha_bar():
    says(with_signal(lambda b, t: (1 - b)[t]), "you used α_t = 1 - β_t", "np.cumprod")
    says(with_signal(lambda b, t: b[t]), "you used β_t where the formula needs ᾱ_t")
    says(with_signal(lambda b, t: 1 - np.cumsum(b)[t]), "the shares multiply")


def test_off_by_one_steps_are_named():
    says(with_signal(lambda b, t: np.concatenate([[1.0], np.cumprod(1 - b)])[t]),
         "off by one step", "ᾱ_{t-1}")
    says(with_signal(lambda b, t: np.cumprod(1 - b)[np.minimum(t + 1, len(b) - 1)]),
         "off by one step", "ᾱ_{t+1}")


def test_square_roots_and_scales():
    says(with_signal(lambda b, t: np.cumprod(1 - b)[t], "no_sqrt"), "square roots are missing")
    a = lambda betas, t: np.cumprod(1 - betas)[t].reshape(-1, 1, 1)  # noqa: E731
    says(lambda x0, t, e, b: np.sqrt(a(b, t)) * x0 + (1 - a(b, t)) * e,
         "√(1 - ᾱ_t), the standard deviation")
    says(lambda x0, t, e, b: a(b, t) * x0 + np.sqrt(1 - a(b, t)) * e, "scaled by √ᾱ_t")
    says(lambda x0, t, e, b: np.sqrt(1 - a(b, t)) * x0 + np.sqrt(a(b, t)) * e, "swapped")
    says(lambda x0, t, e, b: np.sqrt(a(b, t)) * x0 + e, "the noise is not scaled")
    says(lambda x0, t, e, b: np.sqrt(a(b, t)) * x0 - np.sqrt(1 - a(b, t)) * e, "subtracted")


def test_two_slips_at_once_are_both_named():
    message = says(with_signal(lambda b, t: (1 - b)[t], "no_sqrt"),
                   "you used α_t", "square roots are missing")
    assert message.count("; and ") == 1


def test_one_step_for_every_image_and_broadcasting_mistakes():
    says(lambda x0, t, e, b: np.sqrt(np.cumprod(1 - b)[t[0]]) * x0
         + np.sqrt(1 - np.cumprod(1 - b)[t[0]]) * e, "first image's step")
    # ᾱ_t not reshaped: (n,) against (n, h, w) broadcasts over the wrong axis or fails.
    message = says(lambda x0, t, e, b: np.sqrt(np.cumprod(1 - b)[t])[:, None, None, None] * x0,
                   "shape")
    assert "(n, 1, 1)" in message


def test_unknown_mistakes_get_the_size_of_the_error_and_the_recipe():
    says(lambda x0, t, e, b: numpy_answer(x0, t, e, b) + 0.1, "differ", "np.cumprod(1 - betas)")


@pytest.mark.parametrize("answer, phrases", [
    (lambda x0, t, e, b: None, ["returns None"]),
    (lambda x0, t, e, b: "x", ["return the array"]),
    (lambda x0, t, e, b: 1 / 0, ["raised ZeroDivisionError"]),
    (lambda x0, t, e, b: np.sqrt(-np.ones_like(x0)), ["NaN"]),
    ("add_noise", ["expected a function"]),
])
def test_answers_of_the_wrong_kind(answer, phrases):
    says(answer, *phrases)


# --- Exercise 8.2: one reverse step --------------------------------------------------------------


def step_answer(sigma="posterior", noise_at_last=False, mean="right"):
    def answer(x, t, eps, betas, z):
        alphas, alpha_bars = 1 - betas, np.cumprod(1 - betas)
        previous = np.concatenate([[1.0], alpha_bars[:-1]])[t].reshape(-1, 1, 1)
        b, a, ab = (v[t].reshape(-1, 1, 1) for v in (betas, alphas, alpha_bars))
        means = {
            "right": (x - b / np.sqrt(1 - ab) * eps) / np.sqrt(a),
            "sqrt_beta": (x - np.sqrt(b) / np.sqrt(1 - ab) * eps) / np.sqrt(a),
            "alpha_bar_scale": (x - b / np.sqrt(1 - ab) * eps) / np.sqrt(ab),
            "all_noise": (x - np.sqrt(1 - ab) * eps) / np.sqrt(a),
            "plus": (x + b / np.sqrt(1 - ab) * eps) / np.sqrt(a),
        }
        sigmas = {"posterior": np.sqrt(b * (1 - previous) / (1 - ab)), "beta": np.sqrt(b),
                  "variance": b * (1 - previous) / (1 - ab), "none": 0 * b}
        s = sigmas[sigma]
        if not noise_at_last:
            s = np.where(t.reshape(-1, 1, 1) == 0, 0.0, s)
        return means[mean] + s * z

    return answer


def keras_step(x, t, eps, betas, z):
    alpha_bars = ops.cumprod(1 - betas)
    b, ab = ops.take(betas, t)[:, None, None], ops.take(alpha_bars, t)[:, None, None]
    mean = (x - b / ops.sqrt(1 - ab) * eps) / ops.sqrt(1 - b)
    return mean + ops.where(t[:, None, None] > 0, ops.sqrt(b), 0.0) * z


@pytest.mark.parametrize("answer, variance", [
    (step_answer("posterior"), "β_t (1 - ᾱ_{t-1})"),
    (step_answer("beta"), "σ_t² = β_t"),
    (keras_step, "σ_t² = β_t"),
])
def test_right_reverse_steps_pass(answer, variance):
    message = passes(check_reverse_step(answer))
    assert variance in message and "no noise at t = 0" in message


def test_reverse_step_mistakes_are_named():
    check = check_reverse_step
    assert_not_yet(check(step_answer("beta", noise_at_last=True)), "t = 0", "must add no noise")
    assert_not_yet(check(step_answer(mean="sqrt_beta")), "not √β_t")
    assert_not_yet(check(step_answer(mean="alpha_bar_scale")), "divide by √α_t, not √ᾱ_t")
    assert_not_yet(check(step_answer(mean="all_noise")), "all of the noise at once")
    assert_not_yet(check(step_answer(mean="plus")), "subtracted")
    assert_not_yet(check(step_answer("variance")), "standard deviation σ_t")
    assert_not_yet(check(step_answer("none")), "no noise is added")
    assert_not_yet(check(lambda x, t, e, b, z: x[:1]), "shape")
    assert_not_yet(check(lambda x, t, e, b, z: x * 0.9), "differs", "by up to")
