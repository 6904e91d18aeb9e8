"""The chapter 3 checker accepts right answers and names each usual mistake specifically."""

import math
import re

import keras
import numpy as np
import pytest

import genlib
from genlib.exercises import Feedback, ch03
from genlib.exercises.ch03 import check_transposed_output_size
from tests.feedback_helpers import assert_not_yet


def transposed_output_size(size, kernel_size, strides, padding):
    """The chapter's solution."""
    if padding == "same":
        return size * strides
    return (size - 1) * strides + kernel_size


def keras_formula(size, kernel_size, strides, padding):
    """What Keras computes, including kernels smaller than the strides."""
    return size * strides + (0 if padding == "same" else max(kernel_size - strides, 0))


def says(function, *phrases):
    return assert_not_yet(check_transposed_output_size(function), *phrases)


def test_right_answers_pass():
    def spelled_out(size, kernel_size, strides, padding):
        stamps_span = (size - 1) * strides + kernel_size
        return int(np.int64(stamps_span if padding == "valid" else size * strides))

    for answer in (transposed_output_size, keras_formula, spelled_out,
                   lambda size, kernel_size, strides, padding="valid", extra=None:
                   transposed_output_size(size, kernel_size, strides, padding),
                   lambda *args: np.int64(transposed_output_size(*args)),
                   lambda *args: np.array(transposed_output_size(*args))):
        feedback = check_transposed_output_size(answer)
        assert isinstance(feedback, Feedback) and feedback.passed, feedback
        assert repr(feedback).startswith("✔ Correct")
        assert "168 cases" in feedback.message


def test_expected_sizes_are_keras_own_on_every_case():
    sizes = ch03._keras_sizes()
    assert len(sizes) == 168  # 7 sizes x (15 - 3 kernel/strides pairs with kernel < strides) x 2
    assert {case[0] for case in sizes} == set(range(1, 8))
    assert {case[1] for case in sizes} == set(range(1, 6))
    assert {case[2] for case in sizes} == {1, 2, 3}
    assert {case[3] for case in sizes} == {"valid", "same"}
    assert all(kernel >= strides for _, kernel, strides, _ in sizes)
    for case, size in sizes.items():
        assert size == transposed_output_size(*case) == keras_formula(*case), case
    # Keras' symbolic shapes agree with the sizes of the real outputs.
    for (size, kernel, strides, padding), expected in list(sizes.items())[::17]:
        layer = keras.layers.Conv2DTranspose(1, kernel, strides=strides, padding=padding)
        assert tuple(layer.compute_output_shape((None, size, size, 1))) == (None, expected, expected, 1)


def test_kernels_smaller_than_strides_are_left_out_because_keras_pads_them():
    # The stamps of a 1-wide kernel 2 pixels apart span 3 pixels, but Keras outputs 4: the
    # chapter's formula holds for kernel_size >= strides only, so the checker skips these.
    layer = keras.layers.Conv2DTranspose(1, 1, strides=2, padding="valid")
    assert layer(np.zeros((1, 2, 2, 1), "float32")).shape[1] == 4 == keras_formula(2, 1, 2, "valid")
    assert transposed_output_size(2, 1, 2, "valid") == 3
    assert (2, 1, 2, "valid") not in ch03._keras_sizes()


def test_the_sizes_are_computed_once():
    ch03._keras_sizes.cache_clear()
    check_transposed_output_size(transposed_output_size)
    check_transposed_output_size(keras_formula)
    assert ch03._keras_sizes.cache_info().misses == 1


def test_the_checker_leaves_keras_random_state_alone():
    def draw(run_checker):
        genlib.set_random_seed(0)
        if run_checker:
            ch03._keras_sizes.cache_clear()
            check_transposed_output_size(transposed_output_size)
        return keras.random.uniform((5,)).numpy()

    np.testing.assert_array_equal(draw(False), draw(True))


# --- Each typical mistake is named --------------------------------------------------------------


def test_forward_convolution_formula():
    def forward(size, kernel_size, strides, padding):
        return math.ceil(size / strides) if padding == "same" else (size - kernel_size) // strides + 1

    says(forward, "forward convolution", "smaller than the input", "size=3, kernel_size=3, strides=2",
         "expected 7, got 1")
    says(lambda size, kernel_size, strides, padding: (size - kernel_size) // strides + 1,
         "forward convolution")
    # Right for "valid", a forward "same" convolution for "same".
    says(lambda size, k, s, padding: -(-size // s) if padding == "same" else (size - 1) * s + k,
         "forward convolution", "padding='same'")


def test_padding_ignored():
    message = says(lambda size, kernel_size, strides, padding: (size - 1) * strides + kernel_size,
                   "the \"valid\" size for padding=\"same\"", "as if padding did not matter",
                   "exactly size * strides")
    assert "padding='same' expected 6, got 7" in message
    # Padding compared with the wrong spelling: the "same" branch never runs.
    says(lambda size, k, s, padding: size * s if padding == "SAME" else (size - 1) * s + k,
         "as if padding did not matter")
    # The other way round: the "same" size everywhere.
    says(lambda size, kernel_size, strides, padding: size * strides,
         "the \"same\" size for padding=\"valid\"", "(size - 1) * strides + kernel_size")


@pytest.mark.parametrize("same", [
    lambda size, k, s: size * s + k - 1,
    lambda size, k, s: size * s - k + 1,
    lambda size, k, s: (size - 1) * s + k - 2 * (k // 2),  # "valid" minus Keras-like padding
    lambda size, k, s: size * s + k,
])
def test_same_depending_on_the_kernel_size(same):
    says(lambda size, k, s, padding: same(size, k, s) if padding == "same" else (size - 1) * s + k,
         "\"same\" sizes change with kernel_size", "kernel_size does not matter",
         "exactly size * strides", "padding='same'")


def test_same_as_the_input_size():
    says(lambda size, k, s, padding: size if padding == "same" else (size - 1) * s + k,
         "\"same\" padding does not keep the input size", "size * strides")


@pytest.mark.parametrize("delta", [-1, 1])
def test_off_by_one(delta):
    message = says(lambda size, k, s, padding: size * s if padding == "same" else (size - 1) * s + k + delta,
                   "off by one", "every 'valid' case", "(size - 1) * strides + kernel_size")
    assert f"{delta:+d} on every" in message
    says(lambda size, k, s, padding: size * s + delta if padding == "same" else (size - 1) * s + k,
         "off by one", "every 'same' case")


def test_strides_ignored():
    says(lambda size, kernel_size, strides, padding: size if padding == "same" else size + kernel_size - 1,
         "ignores strides", "right for strides=1 only", "expected 7, got 5")
    # Only in the "valid" branch, or with another formula that ignores them.
    says(lambda size, k, s, padding: size * s if padding == "same" else size + k - 1,
         "'valid' sizes do not depend on strides")
    says(lambda size, k, s, padding: size * s if padding == "same" else size * k,
         "'valid' sizes do not depend on strides")


def test_some_other_wrong_formula_gets_the_failing_case_and_the_rule():
    message = says(lambda size, k, s, padding: size * s if padding == "same" else size * s + k,
                   "padding='valid' expected 7, got 9", "(size - 1) * strides + kernel_size")
    assert "forward" not in message and "off by one" not in message


# --- Answers of the wrong kind ------------------------------------------------------------------


@pytest.mark.parametrize("answer, phrases", [
    (lambda size, k, s, padding: float(transposed_output_size(size, k, s, padding)),
     ["returned 7.0, a float", "return an int"]),
    (lambda size, k, s, padding: (size - k) / s + 1, ["a float"]),
    (lambda size, k, s, padding: np.float32(transposed_output_size(size, k, s, padding)), ["a float"]),
    (lambda size, k, s, padding: None, ["returns None", "`return`"]),
    (lambda size, k, s, padding: None if padding == "same" else (size - 1) * s + k,
     ["padding='same' your function returns None"]),
    (lambda size, k, s, padding: True, ["a bool"]),
    (lambda size, k, s, padding: (size * s, size * s), ["a single number"]),
    (lambda size, k, s, padding: str(size * s), ["'6' (str)", "as an int"]),
])
def test_wrong_return_types(answer, phrases):
    says(answer, *phrases)


def test_errors_raised_by_the_answer_are_reported_with_the_case():
    says(lambda size, k, s, padding: {"valid": (size - 1) * s + k}[padding],
         "padding='same' your function raised KeyError")

    def strict(size, kernel_size, strides, padding):
        if padding not in ("valid", "same"):
            raise ValueError(f"unknown padding {padding!r}")
        return 1 / 0

    says(strict, "raised ZeroDivisionError")


@pytest.mark.parametrize("answer, phrase", [
    (lambda size, kernel_size, strides: size * strides, "too many positional arguments"),
    (lambda size, kernel_size, strides, padding, dilation: size, "'dilation'"),
    (lambda: 0, "too many positional arguments"),
])
def test_answers_that_do_not_take_the_four_arguments(answer, phrase):
    says(answer, "four parameters", "transposed_output_size(size, kernel_size, strides, padding)", phrase)


def test_not_a_function():
    says(7, "expected a function", "no parentheses")
    says(transposed_output_size(3, 3, 2, "valid"), "expected a function")
    message = says(max, "raised TypeError")  # a builtin without a signature is still called
    assert re.search(r"for size=\d", message)


def test_checker_never_raises_on_strange_answers():
    for answer in (lambda *args: object(), lambda *args: np.zeros(3), lambda *args: [],
                   lambda *args: math.nan, lambda *args: -5, lambda *args: 10**30):
        feedback = check_transposed_output_size(answer)
        assert isinstance(feedback, Feedback) and not feedback.passed
