"""What the course's generative models share, and how they are compared.

Every generative model of the course (the VAE of chapter 6, the GANs of chapter 7, the
diffusion model of chapter 8) answers one call::

    images = model.sample(n, seed=None)   # n images in [0, 1], of the data's shape

so that a comparison treats them all alike: the same number of samples, the same seeds, the
same clock (:func:`time_sampling`) and the same Fréchet distance
(:class:`genlib.frechet.FrechetReference`).
"""

from __future__ import annotations

import time

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
