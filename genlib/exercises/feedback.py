"""The verdict every exercise checker returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The result of checking an answer: ``passed`` and a message for the student.

    It is truthy when the answer passed, and shows as a single readable line in a notebook.

    >>> Feedback(True, "all 5 cases match scipy")
    ✔ Correct: all 5 cases match scipy
    >>> bool(Feedback(False, "returns radians"))
    False
    """

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"{'✔ Correct' if self.passed else '✘ Not yet'}: {self.message}"

    __str__ = __repr__


def correct(message: str) -> Feedback:
    """A passing verdict.

    >>> correct("all cases match")
    ✔ Correct: all cases match
    """
    return Feedback(True, message)


def wrong(message: str) -> Feedback:
    """A failing verdict; the message says what is wrong and how to fix it.

    >>> wrong("returns radians")
    ✘ Not yet: returns radians
    """
    return Feedback(False, message)


def call_student(function, *args):
    """Call the student's function; return (result, None) or (None, Feedback about the error).

    >>> call_student(lambda x: 2 * x, 21)
    (42, None)
    >>> call_student(lambda x: x / 0, 1)
    (None, ✘ Not yet: your function raised ZeroDivisionError: division by zero)
    """
    if not callable(function):
        return None, wrong(f"expected a function, got {type(function).__name__}: pass the function "
                           "itself (no parentheses after its name)")
    try:
        return function(*args), None
    except Exception as error:  # the student's code may raise anything: report it
        return None, wrong(f"your function raised {type(error).__name__}: {error}")


def as_array(result):
    """A student's numeric result (NumPy, Keras or TensorFlow) as a float64 array, or None.

    Strings, ``None`` and anything NumPy cannot read as numbers give ``None``, so that a
    checker can say "returned nothing usable" instead of failing with a traceback.

    >>> as_array([1, 2.5])
    array([1. , 2.5])
    >>> as_array("0.3") is None, as_array(None) is None
    (True, True)
    """
    if result is None or isinstance(result, (str, bytes)):
        return None
    try:
        import keras

        result = keras.ops.convert_to_numpy(result)
    except Exception:  # not a tensor: NumPy may still understand it
        pass
    try:
        return np.asarray(result, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return None


def call_for_array(function, *args, description: str, returned_hint: str):
    """Call the student's function and read its result as numbers.

    Returns ``(array, None)``, or ``(None, Feedback)`` when the function raised, returned
    ``None`` or returned something that is not numbers; ``description`` names the test case
    and ``returned_hint`` ends the last message (what to return instead). NumPy's warnings
    are silenced during the call: a checker reports NaN and infinity itself.

    >>> call_for_array(lambda x: [x, 2 * x], 1.5, description="x = 1.5",
    ...                returned_hint="; return an array")
    (array([1.5, 3. ]), None)
    >>> call_for_array(lambda x: "3", 1.5, description="x = 1.5",
    ...                returned_hint="; return an array")
    (None, ✘ Not yet: for x = 1.5 your function returned str; return an array)
    """
    with np.errstate(all="ignore"):
        result, error = call_student(function, *args)
    if error is not None:
        return None, error
    if result is None:
        return None, wrong("your function returns None: did you forget the `return` statement?")
    got = as_array(result)
    if got is None:
        return None, wrong(f"for {description} your function returned "
                           f"{type(result).__name__}{returned_hint}")
    return got, None
