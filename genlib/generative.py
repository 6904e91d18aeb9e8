"""What the course's generative models share, and how they are compared.

Every generative model of the course (the VAE of chapter 6, the GANs of chapter 7, the
diffusion model of chapter 8) answers one call::

    images = model.sample(n, seed=None)   # n images in [0, 1], of the data's shape

so that a comparison treats them all alike: the same number of samples, the same seeds, the
same clock (:func:`time_sampling`) and the same Fréchet distance
(:class:`genlib.frechet.FrechetReference`). The GANs and the diffusion model work on images
in [-1, 1] (:func:`to_signed_range`, :func:`check_signed_batch`) and sample in [0, 1].
"""

from __future__ import annotations

import time

import numpy as np

from genlib._validation import check_positive_int


def check_generative(model, name: str = "model"):
    """``model`` if it has a ``sample(n, *, seed=None)`` method, else a clear TypeError.

    >>> check_generative(42)
    Traceback (most recent call last):
    ...
    TypeError: model must be a generative model with a sample(n, *, seed=None) method
    (VariationalAutoencoder, GAN, DiffusionModel), got int
    """
    if not callable(getattr(model, "sample", None)):
        raise TypeError(f"{name} must be a generative model with a sample(n, *, seed=None) "
                        f"method (VariationalAutoencoder, GAN, DiffusionModel), "
                        f"got {type(model).__name__}")
    return model


def time_sampling(model, n_images: int, *, repeats: int = 1, **sample_options) -> float:
    """The best of ``repeats`` wall times, in seconds, of ``model.sample(n_images)``.

    A first call of two images comes before the clock starts: it traces (and compiles)
    what the model calls, which a reader generating images pays once, not per batch.

    Parameters
    ----------
    model : VariationalAutoencoder, GAN or DiffusionModel
        Anything with a ``sample(n, *, seed=None, ...)`` method.
    n_images : int
        How many images each timed call generates.
    repeats : int, default=1
        How many timed calls; the fastest is returned (the others were disturbed).
    **sample_options
        Passed to ``model.sample`` (e.g. ``steps=8`` for a diffusion model, ``seed=1``).

    Examples
    --------
    >>> import numpy as np
    >>> class Blank:
    ...     def sample(self, n, *, seed=None):
    ...         return np.zeros((n, 28, 28))
    >>> round(time_sampling(Blank(), 10, repeats=2), 1)
    0.0
    """
    check_generative(model)
    n_images = check_positive_int(n_images, "n_images")
    repeats = check_positive_int(repeats, "repeats")
    model.sample(2, **sample_options)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(n_images, **sample_options)
        times.append(time.perf_counter() - start)
    return min(times)


def to_signed_range(images, *, hint: str = "") -> np.ndarray:
    """Scale images from [0, 1] to [-1, 1], as a float32 array.

    Images centred on 0 suit a ``tanh`` generator (chapter 7) and the unit-variance noise
    of a diffusion model (chapter 8). Values outside [0, 1] raise a ``ValueError``, with
    ``hint`` appended to its message.

    >>> to_signed_range(np.array([0.0, 0.5, 1.0]))
    array([-1.,  0.,  1.], dtype=float32)
    >>> to_signed_range(np.array([0, 255]))
    Traceback (most recent call last):
    ...
    ValueError: expected images in [0, 1], got values in [0, 255]: divide 8-bit images by 255 first
    """
    images = np.asarray(images, dtype="float32")
    if images.size and (images.min() < 0.0 or images.max() > 1.0):
        raise ValueError(f"expected images in [0, 1], got values in [{images.min():.3g}, "
                         f"{images.max():.3g}]: divide 8-bit images by 255 first{hint}")
    return images * 2.0 - 1.0


def check_signed_batch(images, image_shape, name: str = "images", *, works_on: str,
                       range_hint: str, shape_note: str = "") -> np.ndarray:
    """``images`` as a float32 batch of shape (n, *image_shape) in [-1, 1], or a ValueError.

    The check that GANs (chapter 7) and diffusion models (chapter 8) make of the images they
    train on. A trailing channel axis of 1 is accepted (and dropped). ``works_on`` starts
    the message about a wrong shape (e.g. "the model works on") and ``shape_note`` follows
    the expected shape in it; ``range_hint`` ends the message about values outside [-1, 1]
    (how to scale them).

    >>> check_signed_batch(np.zeros((2, 28, 28, 1)), (28, 28), works_on="the model works on",
    ...                    range_hint="scale them").shape
    (2, 28, 28)
    >>> check_signed_batch(np.ones((2, 28, 28)) * 2, (28, 28), works_on="the model works on",
    ...                    range_hint="scale them")
    Traceback (most recent call last):
    ...
    ValueError: images has values in [2, 2], outside [-1, 1]: scale them
    """
    array = np.asarray(images, dtype="float32")
    image_shape = tuple(image_shape)
    shape = array.shape
    if shape[-1:] == (1,) and shape[1:-1] == image_shape:
        array = array[..., 0]
    if array.ndim != len(image_shape) + 1 or array.shape[1:] != image_shape:
        sides = ", ".join(map(str, image_shape))
        hint = f": reshape flat images with x.reshape(-1, {sides})" if array.ndim == 2 else ""
        raise ValueError(f"{name} has shape {shape}; {works_on} batches of shape (n, {sides})"
                         f"{shape_note}{hint}")
    if len(array) == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    if low < -1.0 or high > 1.0:
        raise ValueError(f"{name} has values in [{low:.3g}, {high:.3g}], outside [-1, 1]: "
                         f"{range_hint}")
    return array
