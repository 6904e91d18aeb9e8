"""Checkers for the exercises of chapter 3 (convolutional and recurrent autoencoders).

>>> def transposed_output_size(size, kernel_size, strides, padding):
...     if padding == "same":
...         return size * strides
...     return (size - 1) * strides + kernel_size
>>> check_transposed_output_size(transposed_output_size)  # doctest: +ELLIPSIS
✔ Correct: your sizes match Keras' Conv2DTranspose on all 168 cases...
"""

from __future__ import annotations

import functools
import inspect
import itertools
import numbers

import keras
import numpy as np

from genlib.exercises.feedback import Feedback, call_student, correct, wrong

# ---------------------------------------------------------------------------------------------
# Exercise 3.1: output sizes of transposed convolutions
# ---------------------------------------------------------------------------------------------

_SIZES, _KERNELS, _STRIDES, _PADDINGS = range(1, 8), range(1, 6), range(1, 4), ("valid", "same")

_VALID_RULE = ("with \"valid\" padding nothing is cropped: `size` stamps of the kernel, `strides` "
               "pixels apart, span (size - 1) * strides + kernel_size pixels")
_SAME_RULE = ("with \"same\" padding Keras crops the stamped result to exactly size * strides, "
              "whatever the kernel size (the inverse of a \"same\" convolution with these strides)")


def _cases():
    """Every (size, kernel_size, strides, padding) checked, with kernel_size >= strides.

    With a kernel smaller than the strides, the stamps leave gaps, and Keras pads a "valid"
    output to size * strides instead of (size - 1) * strides + kernel_size: a corner case
    the exercise leaves out.
    """
    return [
        (size, kernel, strides, padding)
        for padding, strides, kernel, size in itertools.product(
            _PADDINGS, _STRIDES, _KERNELS, _SIZES
        )
        if kernel >= strides
    ]


@functools.lru_cache(maxsize=None)
def _keras_sizes() -> dict:
    """The real output height of ``Conv2DTranspose`` for every case, by running it on zeros.

    Zero kernels and explicit names: the checker draws no random numbers and leaves the
    numbering of the student's layers alone.
    """
    sizes = {}
    for (kernel, strides, padding), group in itertools.groupby(_cases(), key=lambda case: case[1:]):
        layer = keras.layers.Conv2DTranspose(1, kernel, strides=strides, padding=padding,
                                             kernel_initializer="zeros", use_bias=False,
                                             name=f"ch03_checker_{kernel}_{strides}_{padding}")
        for size, *_ in group:
            sizes[size, kernel, strides, padding] = int(
                layer(np.zeros((1, size, 1, 1), "float32")).shape[1]
            )
    return sizes


def _describe(case) -> str:
    size, kernel, strides, padding = case
    return f"size={size}, kernel_size={kernel}, strides={strides}, padding={padding!r}"


def _typicality(case):
    """Sort key: cases closest to a typical size 3, kernel 3, strides 2, "valid" come first."""
    size, kernel, strides, padding = case
    return abs(strides - 2), abs(kernel - 3), abs(size - 3), padding != "valid"


def _example(cases):
    """The most telling of ``cases``, to quote in a message."""
    return min(cases, key=_typicality)


def _as_size(result, case):
    """(the student's result as an int, None) or (None, Feedback on its type)."""
    where = f"for {_describe(case)}"
    if isinstance(result, np.ndarray) and result.ndim == 0:
        result = result.item()
    if result is None:
        return None, wrong(f"{where} your function returns None: did you forget a `return` "
                           "statement (in the branch for this padding)?")
    if isinstance(result, (bool, np.bool_)):
        return None, wrong(f"{where} your function returned {result!r}, a bool: return the output "
                           "size, an int")
    if isinstance(result, numbers.Integral):
        return int(result), None
    if isinstance(result, numbers.Real):
        return None, wrong(f"{where} your function returned {result!r}, a float: layer sizes are "
                           "whole numbers, so return an int (no `/` division, or int(...) "
                           "around an exact result)")
    if isinstance(result, (tuple, list, np.ndarray)):
        return None, wrong(f"{where} your function returned {result!r}: return a single number, "
                           "the output size along one dimension")
    return None, wrong(f"{where} your function returned {result!r} ({type(result).__name__}): "
                       "return the output size as an int")


def _varies_with(got, cases, position) -> bool:
    """Whether ``got`` changes with the argument at ``position`` when the others stay fixed."""
    values = {}
    for case in cases:
        others = case[:position] + case[position + 1:]
        values.setdefault(others, set()).add(got[case])
    return any(len(seen) > 1 for seen in values.values())


def _rule(case) -> str:
    """How the output size comes about for the padding of ``case``."""
    return _VALID_RULE if case[3] == "valid" else _SAME_RULE


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _same_everywhere(got, formula, cases) -> bool:
    return all(got[case] == formula(*case[:3]) for case in cases)


def _diagnose(got, expected) -> str:
    """The first concrete mistake in ``got``, as a message for the student."""
    cases = list(expected)
    valid = [case for case in cases if case[3] == "valid"]
    same = [case for case in cases if case[3] == "same"]
    valid_ok = all(got[case] == expected[case] for case in valid)
    same_ok = all(got[case] == expected[case] for case in same)
    failing = [case for case in cases if got[case] != expected[case]]

    def at(case):
        return f"for {_describe(case)} expected {expected[case]}, got {got[case]}"

    def valid_formula(size, kernel, strides):
        return (size - 1) * strides + kernel

    def same_formula(size, kernel, strides):
        return size * strides

    # 1. Recognizable formulas, checked on every case.
    if valid_ok and _same_everywhere(got, valid_formula, same):
        return (f"{at(_example(same))}: you return the \"valid\" size for padding=\"same\" too, "
                f"as if padding did not matter. {_capitalized(_SAME_RULE)}")
    if same_ok and _same_everywhere(got, same_formula, valid):
        return (f"{at(_example(valid))}: you return the \"same\" size for padding=\"valid\" too, "
                f"as if padding did not matter. {_capitalized(_VALID_RULE)}")
    if (_same_everywhere(got, lambda size, kernel, strides: size + kernel - 1, valid)
            and _same_everywhere(got, lambda size, kernel, strides: size, same)):
        return (f"{at(_example(failing))}: your function ignores strides (your sizes are right "
                "for strides=1 only). Each input value stamps the kernel `strides` pixels after "
                "the previous one: (size - 1) * strides + kernel_size for \"valid\", "
                "size * strides for \"same\"")
    if valid_ok and _same_everywhere(got, lambda size, kernel, strides: size, same):
        return (f"{at(_example(same))}: for a transposed convolution, \"same\" padding does not "
                f"keep the input size. {_capitalized(_SAME_RULE)}")
    for group, ok, rule in ((valid, valid_ok, _VALID_RULE), (same, same_ok, _SAME_RULE)):
        differences = {got[case] - expected[case] for case in group}
        if not ok and differences in ({1}, {-1}):
            case = _example(group)
            return (f"{at(case)}: you are off by one ({'+' if differences == {1} else '-'}1 on "
                    f"every {case[3]!r} case). {_capitalized(rule)}")

    # 2. Broader symptoms.
    same_kernel_message = (f"{at(_example([c for c in same if got[c] != expected[c]] or same))}: "
                           "your \"same\" sizes change with kernel_size, but kernel_size does not "
                           f"matter with \"same\" padding: {_SAME_RULE}")
    if valid_ok and _varies_with(got, same, position=1):
        return same_kernel_message
    shrinking = [case for case in cases if got[case] < case[0]]
    if shrinking:
        case = _example(shrinking)
        return (f"{at(case)}, smaller than the input: that is the output size of a forward "
                "convolution (Conv2D), which shrinks its input. A transposed convolution goes the "
                f"other way and enlarges it: {_rule(case)}")
    if not same_ok and _varies_with(got, same, position=1):
        return same_kernel_message
    for group, ok in ((valid, valid_ok), (same, same_ok)):
        if not ok and not _varies_with(got, group, position=2):
            case = _example([c for c in group if got[c] != expected[c]])
            return (f"{at(case)}: your {case[3]!r} sizes do not depend on strides, but each input "
                    f"value stamps the kernel `strides` pixels after the previous one. "
                    f"{_capitalized(_rule(case))}")
    case = _example(failing)
    return f"{at(case)}. {_capitalized(_rule(case))}"


def check_transposed_output_size(function) -> Feedback:
    """Check ``function(size, kernel_size, strides, padding)``, the output size along one
    dimension of a ``keras.layers.Conv2DTranspose`` layer without output padding (exercise 3.1).

    It is compared with the real layer, run on zeros, for sizes 1 to 7, kernel sizes 1 to 5
    and strides 1 to 3 (with kernel_size >= strides), with ``"valid"`` and ``"same"``
    padding. The expected answer: ``(size - 1) * strides + kernel_size`` for ``"valid"``
    padding and ``size * strides`` for ``"same"`` padding, as an int.

    >>> check_transposed_output_size(lambda size, kernel_size, strides, padding:
    ...                              (size - kernel_size) // strides + 1)  # doctest: +ELLIPSIS
    ✘ Not yet: for size=3, kernel_size=3, strides=2, padding='valid' expected 7, got 1, smaller than
    the input: that is the output size of a forward convolution (Conv2D)...
    """
    if not callable(function):
        return call_student(function)[1]
    try:
        inspect.signature(function).bind(3, 3, 2, "valid")
    except TypeError as error:
        return wrong(f"your function cannot be called as transposed_output_size(size, kernel_size, "
                     f"strides, padding) ({error}): give it exactly these four parameters")
    except ValueError:  # no signature to inspect (a builtin): just call it
        pass
    expected = _keras_sizes()
    got = {}
    for case in sorted(expected, key=_typicality):  # a telling case first, for type errors
        result, error = call_student(function, *case)
        if error is not None:
            return wrong(f"for {_describe(case)} {error.message}")
        got[case], error = _as_size(result, case)
        if error is not None:
            return error
    if got == expected:
        return correct(
            f"your sizes match Keras' Conv2DTranspose on all {len(expected)} cases "
            '(sizes 1-7, kernel sizes 1-5, strides 1-3, "valid" and "same" padding).'
        )
    return wrong(_diagnose(got, expected))
