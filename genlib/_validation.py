"""Argument checks shared by genlib's public functions, with messages that say what to do."""

from __future__ import annotations

import math

import numpy as np


def as_array(value, name: str, *, ndim: int | tuple[int, ...] | None = None,
             dtype=np.float64) -> np.ndarray:
    """``value`` as a finite NumPy array with ``ndim`` dimensions, or a ValueError naming ``name``."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__} ({error})") from None
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
            raise ValueError(f"{name} has shape {array.shape}: the last axis must be 1 or 3 channels")
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


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
