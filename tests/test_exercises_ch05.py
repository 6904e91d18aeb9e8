"""The chapter 5 checker accepts right answers and names each usual mistake specifically."""

import math

import keras
import numpy as np
import pytest

import genlib
from genlib.exercises import Feedback, ch05
from genlib.exercises.ch05 import check_kl_sparsity
from genlib.sparse import KLSparsityRegularizer
from tests.feedback_helpers import assert_not_yet


def kl_sparsity(activations, target):
    """The chapter's solution."""
    q = np.clip(activations.mean(axis=0), 1e-7, 1 - 1e-7)
    p = target
    return np.sum(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)))


def says(function, *phrases):
    return assert_not_yet(check_kl_sparsity(function), *phrases)


def with_q(formula, clip=1e-7):
    """A student function built from ``formula(p, q)`` summed over the neurons."""
    def student(activations, target):
        q = np.clip(activations.mean(axis=0), clip, 1 - clip)
        return np.sum(formula(target, q))
    return student


# --- Right answers pass ---------------------------------------------------------------------------


def keras_ops_answer(activations, target):
    ops = keras.ops
    q = ops.clip(ops.mean(activations, axis=0), 1e-7, 1 - 1e-7)
    return ops.sum(target * ops.log(target / q) + (1 - target) * ops.log((1 - target) / (1 - q)))


def through_the_regularizer(activations, target):
    return KLSparsityRegularizer(target, weight=1.0).penalty(activations)


def clipping_the_activations(activations, target):
    a = np.clip(activations, 1e-6, 1 - 1e-6)
    q = a.mean(axis=0)
    return float(np.sum(target * np.log(target / q) + (1 - target) * np.log((1 - target) / (1 - q))))


def as_cross_entropy_minus_entropy(activations, target):
    # D_KL(p || q) = H(p, q) - H(p): the binary cross-entropy minus the entropy of p.
    q = np.clip(activations.mean(axis=0), 1e-7, 1 - 1e-7)
    p = target
    cross_entropy = -(p * np.log(q) + (1 - p) * np.log(1 - q))
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    return np.sum(cross_entropy - entropy)


def looping(activations, target):
    total = 0.0
    for j in range(activations.shape[1]):
        q = min(max(float(np.mean(activations[:, j])), 1e-5), 1 - 1e-5)
        total += target * math.log(target / q) + (1 - target) * math.log((1 - target) / (1 - q))
    return total


@pytest.mark.parametrize("answer", [kl_sparsity, keras_ops_answer, through_the_regularizer,
                                    clipping_the_activations, as_cross_entropy_minus_entropy,
                                    looping, lambda a, t: np.array([kl_sparsity(a, t)]),
                                    lambda a, t: np.float32(kl_sparsity(a, t)),
                                    lambda activations, target=0.1, extra=None: kl_sparsity(activations, target)])
def test_right_answers_pass(answer):
    feedback = check_kl_sparsity(answer)
    assert isinstance(feedback, Feedback) and feedback.passed, feedback
    assert repr(feedback).startswith("✔ Correct")
    assert "all 6 cases" in feedback.message


def test_reference_is_the_regularizer_penalty_with_weight_one():
    for _, activations, target, interior in ch05._cases():
        expected = float(keras.ops.convert_to_numpy(KLSparsityRegularizer(target, 1.0).penalty(activations)))
        # At the edge, float32 rounds 1 - 1e-7 to 1 - 1.19e-7: close, not equal.
        tolerance = 1e-4 if interior else 2e-2
        assert ch05._reference(activations, target) == pytest.approx(expected, rel=tolerance, abs=1e-6)


def test_cases_include_one_at_the_target_and_one_with_dead_and_saturated_neurons():
    cases = ch05._cases()
    at_target = [c for c in cases if "equal the target" in c[0]][0]
    np.testing.assert_allclose(at_target[1].mean(axis=0), at_target[2], atol=1e-6)
    assert abs(ch05._reference(at_target[1], at_target[2])) < 1e-9
    edge = [c for c in cases if not c[3]][0][1]
    assert np.any(np.all(edge == 0, axis=0)) and np.any(np.all(edge == 1, axis=0))
    interior = [c[1] for c in cases if c[3]]
    assert all(0.01 < a.mean(axis=0).min() and a.mean(axis=0).max() < 0.99 for a in interior)


def test_the_checker_leaves_keras_random_state_alone():
    def draw(run_checker):
        genlib.set_random_seed(0)
        if run_checker:
            check_kl_sparsity(keras_ops_answer)
        return keras.random.uniform((5,)).numpy()

    np.testing.assert_array_equal(draw(False), draw(True))


# --- Each typical mistake is named -----------------------------------------------------------------


def test_p_and_q_swapped():
    says(with_q(lambda p, q: q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))),
         "D_KL(q ‖ p)", "p and q swapped", "64 images x 10 neurons")


def test_a_missing_term():
    says(with_q(lambda p, q: p * np.log(p / q)), "(1-p)·log((1-p)/(1-q)) term is missing")
    says(with_q(lambda p, q: (1 - p) * np.log((1 - p) / (1 - q))), "p·log(p/q) term is missing")


def test_mean_over_the_wrong_axis():
    def per_image(activations, target):
        q = np.clip(activations.mean(axis=1), 1e-7, 1 - 1e-7)
        return np.sum(target * np.log(target / q) + (1 - target) * np.log((1 - target) / (1 - q)))

    says(per_image, "wrong axis", "axis=0")


def test_kl_of_each_activation_averaged_afterwards():
    def averaged_after(activations, target):
        a = np.clip(activations, 1e-7, 1 - 1e-7)
        kl = target * np.log(target / a) + (1 - target) * np.log((1 - target) / (1 - a))
        return np.sum(kl.mean(axis=0))

    says(averaged_after, "averaged afterwards", "first average")


@pytest.mark.parametrize("log, name", [(np.log2, "log2"), (np.log10, "log10")])
def test_logarithm_in_another_base(log, name):
    says(with_q(lambda p, q: p * log(p / q) + (1 - p) * log((1 - p) / (1 - q))), f"you used {name}",
         "natural log")


def test_mean_over_the_neurons_instead_of_sum():
    def mean_over_neurons(activations, target):
        q = np.clip(activations.mean(axis=0), 1e-7, 1 - 1e-7)
        return np.mean(target * np.log(target / q) + (1 - target) * np.log((1 - target) / (1 - q)))

    says(mean_over_neurons, "averaged the KL divergences over the neurons", "sum them")


def test_wrong_sign():
    says(lambda a, t: -kl_sparsity(a, t), "wrong sign", "never negative")


def test_target_ignored():
    message = says(lambda activations, target: kl_sparsity(activations, 0.1),
                   "value for target 0.1", "`target` argument")
    assert "target 0.05" in message


def test_weighted():
    says(lambda a, t: 5e-3 * kl_sparsity(a, t), "sparsity weight", "unweighted sum")


def test_no_clipping():
    def unclipped(activations, target):
        q = activations.mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(target * np.log(target / q) + (1 - target) * np.log((1 - target) / (1 - q)))

    message = says(unclipped, "always exactly 0", "Clip q first", "np.clip(q, eps, 1 - eps)")
    assert "returned inf" in message or "returned nan" in message


def test_clipping_with_an_epsilon_too_small_for_float32():
    # np.clip keeps float32: 1 - 1e-8 rounds to 1, and log(1 - q) is log(0) again.
    answer = with_q(lambda p, q: p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)), clip=1e-8)
    with np.errstate(divide="ignore"):
        message = says(answer, "Clip q first", "1 - 1e-8 rounds to exactly 1")
    assert "returned inf" in message


def test_clipping_with_a_large_epsilon():
    says(with_q(lambda p, q: p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)), clip=0.05),
         "finite but too small", "small epsilon")


def test_changing_the_activations_in_place():
    def in_place(activations, target):
        np.clip(activations, 1e-7, 1 - 1e-7, out=activations)
        return kl_sparsity(activations, target)

    says(in_place, "changed the activations", "copy")


def test_another_wrong_formula_gets_the_numbers_and_the_formula():
    says(with_q(lambda p, q: (q - p) ** 2), "expected", "got", "q = activations.mean(axis=0)")


# --- Answers of the wrong kind -----------------------------------------------------------------------


@pytest.mark.parametrize("answer, phrases", [
    (lambda a, t: None, ["returns None", "`return`"]),
    (lambda a, t: "0.3", ["'0.3' (str)", "single number"]),
    (lambda a, t: {"loss": 1.0}, ["(dict)"]),
    (lambda a, t: t * np.log(t / a.mean(0)) + (1 - t) * np.log((1 - t) / (1 - a.mean(0))),
     ["shape (10,)", "one value per neuron", "sum"]),
    (lambda a, t: np.zeros(a.shape[0]), ["shape (64,)", "one value per image", "axis=0"]),
    (lambda a, t: np.zeros((2, 2)), ["shape (2, 2)", "single number"]),
])
def test_wrong_return_types(answer, phrases):
    says(answer, *phrases)


def test_errors_raised_by_the_answer_are_reported_with_the_case():
    says(lambda a, t: a.mean(axis=2), "64 images x 10 neurons", "raised")


@pytest.mark.parametrize("answer, phrase", [
    (lambda activations: 0.0, "too many positional arguments"),
    (lambda activations, target, weight: 0.0, "'weight'"),
])
def test_answers_that_do_not_take_the_two_arguments(answer, phrase):
    says(answer, "kl_sparsity(activations, target)", "two parameters", phrase)


def test_not_a_function():
    says(0.5, "expected a function", "no parentheses")


def test_checker_never_raises_on_strange_answers():
    for answer in (lambda *args: object(), lambda *args: [], lambda *args: math.nan,
                   lambda *args: -5, lambda *args: 10**300, lambda *args: np.inf, lambda *args: "x"):
        feedback = check_kl_sparsity(answer)
        assert isinstance(feedback, Feedback) and not feedback.passed
