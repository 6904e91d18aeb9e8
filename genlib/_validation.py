"""Argument checks shared by genlib's public functions, with messages that say what to do."""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_array(value, name: str, *, ndim: int | tuple[int, ...] | None = None,
             dtype=np.float64) -> np.ndarray:
    """``value`` as a finite NumPy array with ``ndim`` dimensions, else a ValueError naming it."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a numeric array, got {type(value).__name__} ({error})"
        ) from None
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and array.ndim not in allowed:
        wanted = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be a {wanted} array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def as_images(images, name: str = "images", *, value_range=(0.0, 1.0)) -> np.ndarray:
    """A batch of images as an array of shape (n, height, width) or (n, height, width, 3).

    Accepts (n, h, w), (n, h, w, 1), (n, h, w, 3) and flat (n, d) with d a perfect square.
    Values outside ``value_range`` are an error, never clipped silently.
    """
    array = as_array(images, name, ndim=(2, 3, 4), dtype=np.float32)
    if array.ndim == 2:
        side = math.isqrt(array.shape[1])
        if side * side != array.shape[1]:
            raise ValueError(
                f"{name} has shape {array.shape}: flat images need a square number of pixels "
                f"(784 for 28x28); reshape them to (n, height, width) first"
            )
        array = array.reshape(len(array), side, side)
    elif array.ndim == 4:
        if array.shape[-1] == 1:
            array = array[..., 0]
        elif array.shape[-1] != 3:
            raise ValueError(
                f"{name} has shape {array.shape}: the last axis must be 1 or 3 channels"
            )
    low, high = check_range(value_range, "value_range")
    if array.min() < low or array.max() > high:
        raise ValueError(
            f"{name} has values in [{array.min():.3g}, {array.max():.3g}], outside "
            f"value_range=({low:g}, {high:g}). Pass the right value_range (e.g. (-1, 1) for "
            f"tanh outputs), or clip the images yourself if clipping is what you mean."
        )
    return array


def check_range(value_range, name: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value_range!r}") from None
    if not low < high:
        raise ValueError(f"{name} must have low < high, got {value_range!r}")
    return low, high


def check_sizes(values, name: str, *, length: int | None = None,
                example: str = "(100, 30)") -> tuple[int, ...]:
    """``values`` as a non-empty tuple of ints >= 1 (layer sizes, filter counts, sides).

    >>> check_sizes([100, 30], "hidden_sizes")
    (100, 30)
    >>> check_sizes("100", "hidden_sizes")
    Traceback (most recent call last):
    ...
    ValueError: hidden_sizes must be a sequence of integers >= 1, e.g. (100, 30), got '100'
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of integers >= 1, e.g. {example}, "
                         f"got {values!r}")
    sizes = tuple(check_positive_int(value, f"each entry of {name}") for value in values)
    if not sizes:
        raise ValueError(f"{name} is empty: give at least one size, e.g. {example}")
    if length is not None and len(sizes) != length:
        raise ValueError(f"{name} must hold {length} integers, e.g. {example}, got {values!r}")
    return sizes


def check_instance(value, name: str, kind: type, *, what: str, example: str):
    """``value`` if it is a ``kind``, else a TypeError naming the argument and an example.

    >>> check_instance("model", "autoencoder", dict, what="a Keras model",
    ...                example="StackedAutoencoder((100, 30))")
    Traceback (most recent call last):
    ...
    TypeError: autoencoder must be a Keras model, e.g. StackedAutoencoder((100, 30)), got str
    """
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, e.g. {example}, got {type(value).__name__}")
    return value


def check_seed(seed, name: str = "seed") -> int | None:
    """``seed`` as an int, or None (fresh randomness each time); a ValueError otherwise."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ValueError(f"{name} must be None or a non-negative integer, got {seed!r}")
    return None if seed is None else int(seed)


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, hint: str = "") -> float:
    """``value`` as a float in an interval, or a ValueError naming the argument and the fix.

    The interval is ``[low, high]``, open on a side when ``low_open`` / ``high_open`` (and
    on a side without a bound). Booleans, strings, NaN and infinities are refused.
    ``hint`` is added to the message, e.g. ``" (0.1 is usual)"``.

    >>> check_real(0.1, "label_smoothing", low=0, high=0.5, high_open=True)
    0.1
    >>> check_real("0.1", "label_smoothing", low=0, high=0.5, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: label_smoothing must be a number in [0, 0.5), got '0.1'
    """
    interval = (("(" if low_open or low is None else "[")
                + ("-inf" if low is None else f"{low:g}") + ", "
                + ("inf" if high is None else f"{high:g}")
                + (")" if high_open or high is None else "]"))
    valid = (isinstance(value, numbers.Real) and not isinstance(value, bool)
             and math.isfinite(value)
             and (low is None or (value > low if low_open else value >= low))
             and (high is None or (value < high if high_open else value <= high)))
    if not valid:
        raise ValueError(f"{name} must be a number in {interval}{hint}, got {value!r}")
    return float(value)


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
