"""The chapter 6 checkers accept right answers and name each usual mistake specifically."""

import keras
import numpy as np
import pytest

from genlib.exercises import Feedback
from genlib.exercises.ch06 import check_latent_loss, check_sampling
from genlib.vae import latent_loss as genlib_latent_loss
from tests.feedback_helpers import assert_not_yet

ops = keras.ops


def passes(feedback):
    assert isinstance(feedback, Feedback) and feedback.passed, feedback
    assert repr(feedback).startswith("✔ Correct")
    return feedback.message


# --- Exercise 6.1: the latent loss ---------------------------------------------------------------


def numpy_answer(mean, log_var):
    """The chapter's solution."""
    per_input = -0.5 * np.sum(1 + log_var - np.exp(log_var) - mean**2, axis=-1)
    return np.mean(per_input)


def says(function, *phrases):
    return assert_not_yet(check_latent_loss(function), *phrases)


@pytest.mark.parametrize("answer", [
    numpy_answer,
    genlib_latent_loss,
    lambda mean, log_var: ops.mean(
        -0.5 * ops.sum(1 + log_var - ops.exp(log_var) - ops.square(mean), axis=1)),
    # The σ form, with σ computed from the log-variance.
    lambda mean, log_var: np.mean(-0.5 * np.sum(
        1 + np.log(np.exp(log_var / 2) ** 2) - np.exp(log_var / 2) ** 2 - mean**2, axis=1)),
    # The KL divergence written the other way: log(1/σ) + (σ² + μ²)/2 - 1/2.
    lambda mean, log_var: np.sum(-log_var / 2 + (np.exp(log_var) + mean**2) / 2 - 0.5) / len(mean),
    lambda mean, log_var: float(numpy_answer(mean, log_var)),
    lambda mean, log_var: np.array([numpy_answer(mean, log_var)]),  # one value, shape (1,)
])
def test_right_answers_pass(answer):
    assert "all 4 test cases" in passes(check_latent_loss(answer))


def test_missing_minus_sign():
    says(lambda mean, log_var: np.mean(0.5 * np.sum(1 + log_var - np.exp(log_var) - mean**2, -1)),
         "the minus sign in front is missing", "never negative")


def test_sigma_and_log_variance_confusions():
    says(lambda m, g: np.mean(-0.5 * np.sum(1 + g - np.exp(g / 2) - m**2, -1)),
         "exp(log_var / 2), the standard deviation σ", "σ² = exp(log_var)")
    says(lambda m, g: np.mean(-0.5 * np.sum(1 + 2 * g - np.exp(2 * g) - m**2, -1)),
         "you treated log_var as log σ")
    says(lambda m, g: np.mean(-0.5 * np.sum(1 + np.log(g**2) - g**2 - m**2, -1)),
         "you used log_var as if it were σ")
    # log_var taken for σ² itself: log of negative values.
    says(lambda m, g: np.mean(-0.5 * np.sum(1 + np.log(g) - g - m**2, -1)),
         "NaN", "log_var is γ = log σ², any real number")


def test_mean_instead_of_sum_over_codings_and_batch_axis_mistakes():
    says(lambda m, g: np.mean(-0.5 * (1 + g - np.exp(g) - m**2)),
         "you averaged over the codings", "SUM of one term per coding")
    says(lambda m, g: np.sum(-0.5 * np.sum(1 + g - np.exp(g) - m**2, -1)),
         "you summed over the batch")
    says(lambda m, g: np.sum(-0.5 * np.mean(1 + g - np.exp(g) - m**2, -1)),
         "you averaged over the codings and summed over the batch")


def test_wrong_shapes_are_named():
    says(lambda m, g: -0.5 * np.sum(1 + g - np.exp(g) - m**2, -1),
         "one loss per input", "average them over the batch")
    says(lambda m, g: -0.5 * (1 + g - np.exp(g) - m**2), "one term per coding")
    says(lambda m, g: np.mean(-0.5 * (1 + g - np.exp(g) - m**2), axis=0),
         "one value per coding", "sum over the codings")


def test_other_slips():
    says(lambda m, g: np.mean(-np.sum(1 + g - np.exp(g) - m**2, -1)), "the factor 1/2 is missing")
    says(lambda m, g: np.mean(np.sum(1 + g - np.exp(g) - m**2, -1)),
         "both the minus sign and the factor 1/2")
    says(lambda m, g: np.mean(-0.5 * np.sum(g - np.exp(g) - m**2, -1)), "the constant 1")
    says(lambda m, g: np.mean(-0.5 * np.sum(1 + g - np.exp(g) - m, -1)), "must be squared")
    says(lambda m, g: np.mean(-0.5 * np.sum(1 + g - np.exp(g) + m**2, -1)), "the sign of μ²")
    says(lambda m, g: numpy_answer(m, g) / 784, "you divided by 784", "in nats")


def test_two_slips_at_once_are_both_named():
    message = says(lambda m, g: np.mean(0.5 * np.mean(1 + g - np.exp(g) - m**2, -1)),
                   "the minus sign in front is missing", "you averaged over the codings")
    assert message.count("; and ") == 1
    says(lambda m, g: np.mean(-0.5 * np.mean(1 + g - np.exp(g / 2) - m**2, -1)),
         "exp(log_var / 2)", "you averaged over the codings")


def test_unknown_mistakes_get_the_expected_value_and_the_recipe():
    message = says(lambda m, g: numpy_answer(m, g) + 1.0, "expected", "sum it over the last axis")
    assert "got" in message
    says(lambda m, g: -abs(numpy_answer(m, g)) - 3, "never negative")


@pytest.mark.parametrize("answer, phrases", [
    (lambda m, g: None, ["returns None"]),
    (lambda m, g: "0.5", ["not a number"]),
    (lambda m, g: 1 / 0, ["raised ZeroDivisionError"]),
    (lambda m: m, ["raised TypeError"]),
    ("latent_loss", ["expected a function"]),
])
def test_answers_of_the_wrong_kind(answer, phrases):
    says(answer, *phrases)


def test_the_latent_checker_does_not_modify_the_cases_for_later_answers():
    def in_place(mean, log_var):
        mean *= 0
        return numpy_answer(mean, log_var)

    check_latent_loss(in_place)
    passes(check_latent_loss(numpy_answer))


# --- Exercise 6.2: the reparameterization trick --------------------------------------------------


def right_sampling(mean, log_var, epsilon):
    return mean + np.exp(log_var / 2) * epsilon


def says_sampling(function, *phrases):
    return assert_not_yet(check_sampling(function), *phrases)


@pytest.mark.parametrize("answer", [
    right_sampling,
    lambda mean, log_var, epsilon: mean + ops.exp(0.5 * log_var) * epsilon,
    lambda mean, log_var, epsilon: mean + np.sqrt(np.exp(log_var)) * epsilon,
    lambda mean, log_var, epsilon: keras.layers.Add()([mean, ops.exp(log_var / 2) * epsilon]),
])
def test_right_sampling_answers_pass(answer):
    assert "all 4 test cases" in passes(check_sampling(answer))


@pytest.mark.parametrize("answer, phrases", [
    (lambda m, g, e: m + np.exp(g) * e, ["exp(log_var) is the variance σ²"]),
    (lambda m, g, e: m + g * e, ["scaled ε by log_var itself"]),
    (lambda m, g, e: m + g / 2 * e, ["log_var / 2, which is log σ"]),
    (lambda m, g, e: m + np.exp(2 * g) * e, ["exp(2 · log_var)"]),
    (lambda m, g, e: np.exp(g / 2) * e, ["the mean is missing"]),
    (lambda m, g, e: m * np.exp(g / 2) * e, ["multiplied by the mean"]),
    (lambda m, g, e: (m + e) * np.exp(g / 2), ["you scaled the mean too"]),
    (lambda m, g, e: np.exp(g) * e, ["variance σ²", "the mean is missing"]),
    (lambda m, g, e: m + np.sqrt(g) * e, ["NaN"]),
    (lambda m, g, e: m + np.exp(g / 2) * np.random.default_rng().normal(size=m.shape),
     ["draws its own noise", "Use the epsilon"]),
    (lambda m, g, e: m + np.exp(g / 2) * e + 0.1, ["differ from mean + exp(log_var / 2)"]),
    (lambda m, g, e: (m + np.exp(g / 2) * e)[0], ["shape"]),
    (lambda m, g, e: None, ["returns None"]),
    (lambda m, g: m, ["raised TypeError"]),
])
def test_sampling_mistakes_are_named(answer, phrases):
    says_sampling(answer, *phrases)


def test_checkers_never_raise_on_strange_answers():
    for answer in (lambda *args: object(), lambda *args: np.zeros(3), lambda *args: [],
                   lambda *args: np.nan, lambda *args: {"loss": 1.0}, lambda *args: 10**400):
        for checker in (check_latent_loss, check_sampling):
            feedback = checker(answer)
            assert isinstance(feedback, Feedback) and not feedback.passed
