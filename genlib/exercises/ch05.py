"""Checkers for the exercises of chapter 5 (sparse autoencoders).

>>> import numpy as np
>>> def kl_sparsity(activations, target):
...     q = np.clip(activations.mean(axis=0), 1e-7, 1 - 1e-7)
...     p = target
...     return np.sum(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)))
>>> check_kl_sparsity(kl_sparsity)  # doctest: +ELLIPSIS
✔ Correct: your penalty matches the reference on all 6 cases...
"""

from __future__ import annotations

import functools
import inspect

import keras
import numpy as np

from genlib.exercises.feedback import Feedback, call_student, correct, wrong
from genlib.sparse import CLIP_EPSILON

# ---------------------------------------------------------------------------------------------
# Exercise 5.1: the KL sparsity term
# ---------------------------------------------------------------------------------------------

_RTOL = 1e-3  # float32 activations, means and logarithms: a little more than float32 rounding


def _kl(p, q):
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def _reference(activations, target, epsilon=CLIP_EPSILON):
    q = np.clip(np.asarray(activations, np.float64).mean(axis=0), epsilon, 1 - epsilon)
    return float(np.sum(_kl(target, q)))


@functools.lru_cache(maxsize=None)
def _cases():
    """(description, activations, target, interior) for every fixed case.

    Interior cases have every mean activation well inside (0, 1); the edge case has neurons
    whose activations are all exactly 0 or all exactly 1.
    """
    rng = np.random.default_rng(5)
    uniform = rng.uniform(0.02, 0.98, (64, 10)).astype("float32")
    # Sparse-looking codings: most activations near 0, a few large (mean about 0.1).
    sparse = rng.beta(0.3, 2.7, (128, 30)).astype("float32")
    small = rng.uniform(0.05, 0.6, (32, 5)).astype("float32")
    # Different numbers of images and neurons, so that a mean over the wrong axis shows.
    wide = rng.uniform(0.0, 0.4, (16, 40)).astype("float32")
    at_target = np.tile(np.array([[0.05], [0.15]], "float32"), (10, 6))  # every q = 0.1
    edge = rng.uniform(0.05, 0.3, (20, 8)).astype("float32")
    edge[:, 0], edge[:, 1], edge[:, 2] = 0.0, 1.0, 0.0
    edge[:10, 3], edge[10:, 3] = 0.0, 0.2
    return (
        ("64 images x 10 neurons, target 0.1", uniform, 0.1, True),
        ("128 images x 30 sparse neurons, target 0.05", sparse, 0.05, True),
        ("32 images x 5 neurons, target 0.3", small, 0.3, True),
        ("16 images x 40 neurons, target 0.1", wide, 0.1, True),
        (
            "20 images x 6 neurons whose mean activations all equal the target 0.1",
            at_target,
            0.1,
            True,
        ),
        (
            "20 images x 8 neurons, two of them always exactly 0 and one always exactly 1, "
            "target 0.1",
            edge,
            0.1,
            False,
        ),
    )


def _as_scalar(result, activations, description):
    """(the student's result as a float, None) or (None, what is wrong with its type or shape)."""
    where = f"on the case {description}, your function"
    if result is None:
        return None, f"{where} returns None: did you forget `return`?"
    if isinstance(result, (str, bytes, bool, np.bool_)):
        return None, (f"{where} returned {result!r} ({type(result).__name__}): return a single "
                      "number")
    try:
        array = np.asarray(keras.ops.convert_to_numpy(result), dtype=np.float64)
    except Exception:  # anything that is not a number or an array of numbers
        return None, (f"{where} returned {result!r} ({type(result).__name__}): return a single "
                      "number")
    if array.size == 1:
        return float(array.reshape(())), None
    n_images, n_neurons = activations.shape
    where = f"{where} returned an array of shape {array.shape}"
    if array.shape == (n_neurons,):
        return None, (f"{where}, one value per neuron: the sparsity loss is their sum (np.sum or "
                      "keras.ops.sum), a single number")
    if array.shape == (n_images,):
        return None, (f"{where}, one value per image: q must be the mean activation of each "
                      "*neuron* over the images (axis=0), and the loss their KL divergences "
                      "summed over the neurons")
    return None, f"{where}: return a single number, the KL divergences summed over the neurons"


def _variants(activations, target):
    """The values that typical mistakes give on an interior case, with what to say."""
    p = target
    x = np.asarray(activations, np.float64)
    q = x.mean(axis=0)
    clipped = np.clip(x, CLIP_EPSILON, 1 - CLIP_EPSILON)
    right = float(np.sum(_kl(p, q)))
    return [
        (
            float(np.sum(_kl(q, p))),
            "you computed D_KL(q ‖ p), with p and q swapped: the target p is the reference "
            "distribution, so each term is p·log(p/q) + (1-p)·log((1-p)/(1-q))",
        ),
        (
            float(np.sum(p * np.log(p / q))),
            "the (1-p)·log((1-p)/(1-q)) term is missing: a neuron is either active (probability "
            "p) or not (probability 1-p), and the KL divergence sums over both outcomes",
        ),
        (
            float(np.sum((1 - p) * np.log((1 - p) / (1 - q)))),
            "the p·log(p/q) term is missing: the KL divergence sums over both outcomes, active "
            "(probability p) and inactive (probability 1-p)",
        ),
        (
            float(np.sum(_kl(p, x.mean(axis=1)))),
            "you averaged over the wrong axis: q must be the mean activation of each neuron over "
            "the images of the batch (axis=0, the batch axis), not of each image over its neurons",
        ),
        (
            float(np.sum(_kl(p, clipped).mean(axis=0))),
            "you computed the KL divergence of each activation and averaged afterwards: first "
            "average each neuron's activations over the batch (q), then compute D_KL(p ‖ q)",
        ),
        (right / np.log(2), "you used log2: the KL divergence here uses the natural log (np.log)"),
        (
            right / np.log(10),
            "you used log10: the KL divergence here uses the natural log (np.log)",
        ),
        (
            right / x.shape[1],
            "you averaged the KL divergences over the neurons: sum them instead (np.sum), the "
            "sparsity weight sets the scale",
        ),
        (
            -right,
            "your result has the wrong sign: a KL divergence is never negative "
            "(check the order of p and q inside each ratio)",
        ),
    ]


def _close(a, b):
    return bool(np.isclose(a, b, rtol=_RTOL, atol=1e-6))


def _diagnose(got, description, activations, target):
    expected = _reference(activations, target)
    for value, message in _variants(activations, target):
        if np.isfinite(value) and not _close(value, expected) and _close(got, value):
            return f"on the case {description}: {message}"
    if not np.isclose(target, 0.1):
        at_default = _reference(activations, 0.1)
        if _close(got, at_default):
            return (f"on the case {description}, you return the value for target 0.1: use the "
                    "`target` argument instead of a fixed number")
    if expected and np.isfinite(got) and 0 < got / expected < 0.2:
        return (f"on the case {description}, expected {expected:.6g}, got {got:.6g}: did you "
                "multiply by a sparsity weight? Return the unweighted sum of the KL divergences")
    return (
        f"on the case {description}, expected {expected:.6g}, got {got:.6g}. Check the formula: "
        "q = activations.mean(axis=0), then sum over the neurons of "
        "p·log(p/q) + (1-p)·log((1-p)/(1-q)), with p the target"
    )


def check_kl_sparsity(function) -> Feedback:
    """Check ``function(activations, target)``, the KL sparsity term (exercise 5.1).

    ``activations`` is a NumPy array of shape (n_images, n_neurons) with values in [0, 1]
    and ``target`` the wanted mean activation ``p``. The expected answer: with ``q`` the mean
    activation of each neuron over the images (``axis=0``), clipped to a small ``epsilon``
    (such as 1e-7) away from 0 and 1, the sum over the neurons of
    ``p log(p/q) + (1-p) log((1-p)/(1-q))``, as a single number (natural logarithm, no weight).

    The function is run on six fixed cases and compared with the reference; the last case
    has neurons always exactly 0 or 1, where only a finite result, with a small clipping
    epsilon, is required.

    >>> import numpy as np
    >>> def swapped(activations, target):
    ...     q = activations.mean(axis=0)
    ...     return np.sum(q * np.log(q / target) + (1 - q) * np.log((1 - q) / (1 - target)))
    >>> check_kl_sparsity(swapped)  # doctest: +ELLIPSIS
    ✘ Not yet: on the case 64 images x 10 neurons, target 0.1: you computed D_KL(q ‖ p), with p and
    q swapped...
    """
    if not callable(function):
        return call_student(function)[1]
    try:
        inspect.signature(function).bind(np.zeros((2, 2)), 0.1)
    except TypeError as error:
        return wrong(f"your function cannot be called as kl_sparsity(activations, target) "
                     f"({error}): give it exactly these two parameters")
    except ValueError:  # no signature to inspect (a builtin): just call it
        pass
    for description, activations, target, interior in _cases():
        given = activations.copy()
        result, error = call_student(function, given, target)
        if error is not None:
            return wrong(f"on the case {description}, {error.message}")
        if not np.array_equal(given, activations):
            return wrong(f"on the case {description}, your function changed the activations it "
                         "was given (an in-place clip?): compute on a copy, e.g. "
                         "np.clip(q, eps, 1 - eps) without out=")
        got, problem = _as_scalar(result, activations, description)
        if problem is not None:
            return wrong(problem)
        if not np.isfinite(got):
            if interior:
                return wrong(f"on the case {description}, your function returned {got}: check "
                             "the logarithms (a log of 0 or of a negative number?)")
            return wrong(f"on the case {description}, your function returned {got}: the mean "
                         "activation q of a neuron that is always 0 (or always 1) makes "
                         "log(p/q) (or log((1-p)/(1-q))) infinite. Clip q first: "
                         "q = np.clip(q, eps, 1 - eps) with a small eps such as 1e-7 (not "
                         "smaller: in float32, 1 - 1e-8 rounds to exactly 1)")
        if interior and not _close(got, _reference(activations, target)):
            return wrong(_diagnose(got, description, activations, target))
        if not interior:
            # Any small epsilon will do; a large one hides how far a dead neuron is from p.
            loose = _reference(activations, target, epsilon=1e-3)
            if got < loose * (1 - _RTOL):
                return wrong(
                    f"on the case {description}, your result {got:.6g} is finite but too "
                    f"small (with eps = 1e-7 it is {_reference(activations, target):.6g}): "
                    "clip q with a small epsilon such as 1e-7, not a large one"
                )
    return correct(f"your penalty matches the reference on all {len(_cases())} cases, "
                   "including neurons that are always exactly 0 or 1.")
