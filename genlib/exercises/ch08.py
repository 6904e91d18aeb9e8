"""Checkers for the exercises of chapter 8 (diffusion models).

>>> import numpy as np
>>> def add_noise(x0, t, noise, betas):
...     alpha_bars = np.cumprod(1 - betas)
...     alpha_bar = alpha_bars[t].reshape(-1, 1, 1)
...     return np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise
>>> check_add_noise(add_noise)  # doctest: +ELLIPSIS
✔ Correct: your noisy images match √ᾱ_t x_0 + √(1 - ᾱ_t) ε on all 4 test cases...
>>> check_add_noise(lambda x0, t, noise, betas: np.sqrt(1 - betas[t]).reshape(-1, 1, 1) * x0
...                 + np.sqrt(betas[t]).reshape(-1, 1, 1) * noise)  # doctest: +ELLIPSIS
✘ Not yet: you used α_t = 1 - β_t, the share of the signal kept by step t alone...
"""

from __future__ import annotations

import itertools

import numpy as np

from genlib.exercises.feedback import Feedback, call_for_array, correct, wrong

_RTOL, _ATOL = 1e-4, 1e-5


def _betas(n_steps, kind):
    if kind == "linear":
        return np.minimum(np.linspace(1e-4, 0.02, n_steps) * 1000 / n_steps, 0.999)
    steps = np.arange(n_steps + 1) / n_steps
    f = np.cos((steps + 0.008) / 1.008 * np.pi / 2) ** 2
    return np.clip(1 - f[1:] / f[:-1], 1e-8, 0.999)


def _cases():
    """(description, x0, t, noise, betas): batch sizes, image sizes and schedules all differ,
    and the steps include the first (0) and the last (T - 1)."""
    rng = np.random.default_rng(808)

    def case(batch, side, n_steps, kind, t=None):
        x0 = rng.uniform(-1, 1, (batch, side, side)).astype("float32")
        noise = rng.standard_normal((batch, side, side)).astype("float32")
        if t is None:
            t = rng.integers(0, n_steps, batch)
        description = (f"{batch} images of {side} x {side} pixels, steps {list(map(int, t))} of "
                       f"a {kind} schedule with T = {n_steps}")
        return description, x0, np.asarray(t, dtype=np.int64), noise, _betas(n_steps, kind)

    return [case(3, 4, 10, "cosine", [0, 4, 9]), case(5, 6, 100, "linear"),
            case(1, 28, 1000, "linear", [500]), case(4, 3, 50, "cosine", [49, 0, 25, 25])]


# ---------------------------------------------------------------------------------------------
# Exercise 8.1: the forward process in one go
# ---------------------------------------------------------------------------------------------

# How the student may have turned betas into the signal's share of variance at step t: the
# right one (the cumulative product up to and including t) and the usual slips.
_SIGNAL = {
    "alpha_bar": (lambda b, t: np.cumprod(1 - b)[t], None),
    "alpha": (lambda b, t: (1 - b)[t],
              "you used α_t = 1 - β_t, the share of the signal kept by step t alone: the "
              "closed form needs ᾱ_t = α_0 α_1 … α_t, the product over every step so far "
              "(np.cumprod(1 - betas)[t])"),
    "beta": (lambda b, t: b[t],
             "you used β_t where the formula needs ᾱ_t: β_t is the variance of the noise "
             "added at step t alone; the share of the signal left after steps 0 … t is "
             "ᾱ_t = np.cumprod(1 - betas)[t]"),
    "before": (lambda b, t: np.concatenate([[1.0], np.cumprod(1 - b)])[t],
               "your ᾱ is off by one step: you used the product of α over the steps before t "
               "(ᾱ_{t-1}); with steps counted from 0, x_t has been through steps 0 … t, so "
               "ᾱ_t = np.cumprod(1 - betas)[t], which includes α_t"),
    "after": (lambda b, t: np.cumprod(1 - b)[np.minimum(t + 1, len(b) - 1)],
              "your ᾱ is off by one step: you used ᾱ_{t+1}; with steps counted from 0, "
              "ᾱ_t = np.cumprod(1 - betas)[t] (index t, not t + 1)"),
    "sum": (lambda b, t: 1 - np.cumsum(b)[t],
            "you used 1 - (β_0 + … + β_t): the shares multiply, ᾱ_t = (1 - β_0)(1 - β_1)…"
            "(1 - β_t), they do not add"),
    "first": (lambda b, t: np.broadcast_to(np.cumprod(1 - b)[t[0]], t.shape),
              "you used the first image's step for every image: t holds one step per image, "
              "so index ᾱ with the whole array t (alpha_bars[t]) and reshape it to "
              "(n, 1, 1) to broadcast over each image's pixels"),
}

# How ᾱ enters the formula: x_t = f(ᾱ) x_0 + g(ᾱ) ε.
_FORMS = {
    "right": (lambda a, x0, e: np.sqrt(a) * x0 + np.sqrt(1 - a) * e, None),
    "no_sqrt": (lambda a, x0, e: a * x0 + (1 - a) * e,
                "the square roots are missing: ᾱ_t and 1 - ᾱ_t are variances (shares of the "
                "variance), and images and noise are scaled by standard deviations, "
                "√ᾱ_t and √(1 - ᾱ_t)"),
    "no_sqrt_noise": (lambda a, x0, e: np.sqrt(a) * x0 + (1 - a) * e,
                      "the noise must be scaled by √(1 - ᾱ_t), the standard deviation, not "
                      "by the variance 1 - ᾱ_t"),
    "no_sqrt_image": (lambda a, x0, e: a * x0 + np.sqrt(1 - a) * e,
                      "the image must be scaled by √ᾱ_t, not by ᾱ_t: with √ᾱ_t and "
                      "√(1 - ᾱ_t) the variances add up to 1"),
    "swapped": (lambda a, x0, e: np.sqrt(1 - a) * x0 + np.sqrt(a) * e,
                "the two scales are swapped: the image is scaled by √ᾱ_t (close to 1 at "
                "early steps) and the noise by √(1 - ᾱ_t)"),
    "unscaled_noise": (lambda a, x0, e: np.sqrt(a) * x0 + e,
                       "the noise is not scaled: multiply it by √(1 - ᾱ_t), so that the "
                       "variance of x_t stays about 1"),
    "one_minus": (lambda a, x0, e: np.sqrt(a) * x0 - np.sqrt(1 - a) * e,
                  "the noise is subtracted: add it, x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε"),
}


def _candidate(signal, form, x0, t, noise, betas):
    with np.errstate(all="ignore"):
        alpha_bar = np.asarray(_SIGNAL[signal][0](betas, t), dtype=float)
        alpha_bar = alpha_bar.reshape(-1, *([1] * (x0.ndim - 1)))
        return _FORMS[form][0](alpha_bar, x0.astype(float), noise.astype(float))


def check_add_noise(function) -> Feedback:
    """Check ``function(x0, t, noise, betas)``, the closed-form forward process (exercise 8.1).

    Expected: ``√ᾱ_t x_0 + √(1 - ᾱ_t) ε`` for a batch ``x0`` of shape (n, h, w), one step
    index per image ``t`` (shape (n,), counted from 0), standard normal ``noise`` of the
    images' shape and the schedule's ``betas`` (shape (T,)), with
    ``ᾱ_t = (1 - β_0) … (1 - β_t)``. NumPy or ``keras.ops``. The checker names the usual
    slips: α_t or β_t instead of ᾱ_t, ᾱ off by one step, square roots missing, the scales
    swapped, the noise unscaled, one step used for every image.

    >>> check_add_noise(lambda x0, t, noise, betas:
    ...     np.cumprod(1 - betas)[t].reshape(-1, 1, 1) * x0
    ...     + (1 - np.cumprod(1 - betas)[t]).reshape(-1, 1, 1) * noise)
    ... # doctest: +ELLIPSIS
    ✘ Not yet: the square roots are missing...
    """
    results = []
    for description, x0, t, noise, betas in _cases():
        got, error = call_for_array(function, x0.copy(), t.copy(), noise.copy(), betas.copy(),
                                    description=description,
                                    returned_hint="; return the array of noisy images")
        if error is not None:
            return error
        if got.shape != x0.shape:
            hint = ""
            if got.ndim == x0.ndim + 1 or got.shape[:1] == (len(t),) * 1 and got.ndim > 3:
                hint = (": ᾱ_t must be reshaped to (n, 1, 1) before it multiplies the images, "
                        "so that each image is scaled by its own step's value")
            return wrong(f"for {description} expected noisy images of shape {x0.shape} (the "
                         f"shape of x0), got shape {got.shape}{hint}")
        if not np.all(np.isfinite(got)):
            if np.any(1 - np.cumsum(betas)[t] < 0):  # the sum of betas passes 1: sqrt of < 0
                return wrong(f"for {description} some noisy pixels are NaN: "
                             + _SIGNAL["sum"][1])
            return wrong(f"for {description} some noisy pixels are NaN or infinite: every "
                         "ᾱ_t is in (0, 1), so the square roots of ᾱ_t and 1 - ᾱ_t exist")
        results.append((description, x0, t, noise, betas, got))

    def matches(signal, form):
        return all(np.allclose(got, _candidate(signal, form, x0, t, noise, betas),
                               rtol=_RTOL, atol=_ATOL)
                   for _, x0, t, noise, betas, got in results)

    if matches("alpha_bar", "right"):
        return correct(f"your noisy images match √ᾱ_t x_0 + √(1 - ᾱ_t) ε on all "
                       f"{len(results)} test cases (steps 0 and T - 1 included, one step per "
                       "image).")
    # The explanation with the fewest slips that reproduces every answer (β_t in place of
    # ᾱ_t is also α_t with the scales swapped: one slip is the likelier story).
    explanations = sorted(
        ([message for message in (_SIGNAL[signal][1], _FORMS[form][1]) if message],
         signal, form) for signal, form in itertools.product(_SIGNAL, _FORMS))
    for slips, signal, form in sorted(explanations, key=lambda item: len(item[0])):
        if slips and matches(signal, form):
            return wrong("; and ".join(slips))
    description, x0, t, noise, betas, got = results[0]
    expected = _candidate("alpha_bar", "right", x0, t, noise, betas)
    worst = np.abs(got - expected).max()
    return wrong(f"for {description} your noisy images differ from √ᾱ_t x_0 + √(1 - ᾱ_t) ε "
                 f"by up to {worst:.3g}. Compute alpha_bars = np.cumprod(1 - betas), take "
                 "alpha_bars[t] reshaped to (n, 1, 1), and combine")


# ---------------------------------------------------------------------------------------------
# Exercise 8.2: one reverse step of the DDPM sampler
# ---------------------------------------------------------------------------------------------

def _step_terms(betas, t):
    alphas = 1 - betas
    alpha_bars = np.cumprod(alphas)
    previous = np.where(t > 0, alpha_bars[np.maximum(t - 1, 0)], 1.0)
    return betas[t], alphas[t], alpha_bars[t], previous


# The mean of x_{t-1}: the right one and the usual slips.
_MEANS = {
    "right": (lambda b, a, ab, x, e: (x - b / np.sqrt(1 - ab) * e) / np.sqrt(a), None),
    "sqrt_beta": (lambda b, a, ab, x, e: (x - np.sqrt(b) / np.sqrt(1 - ab) * e) / np.sqrt(a),
                  "the noise's coefficient is β_t / √(1 - ᾱ_t), with β_t itself, not √β_t"),
    "no_sqrt_denominator": (lambda b, a, ab, x, e: (x - b / (1 - ab) * e) / np.sqrt(a),
                            "the noise's coefficient is β_t / √(1 - ᾱ_t): the square root "
                            "of 1 - ᾱ_t is missing"),
    "alpha_bar_scale": (lambda b, a, ab, x, e: (x - b / np.sqrt(1 - ab) * e) / np.sqrt(ab),
                        "divide by √α_t, not √ᾱ_t: one reverse step undoes the scaling of "
                        "one forward step (dividing by √ᾱ_t jumps straight to a clean-image "
                        "estimate)"),
    "no_scale": (lambda b, a, ab, x, e: x - b / np.sqrt(1 - ab) * e,
                 "the result must be divided by √α_t: the forward step scaled the image "
                 "down by √α_t, the reverse step scales it back up"),
    "all_noise": (lambda b, a, ab, x, e: (x - np.sqrt(1 - ab) * e) / np.sqrt(a),
                  "you removed √(1 - ᾱ_t) ε, all of the noise at once: one step removes "
                  "only β_t / √(1 - ᾱ_t) times the predicted noise"),
    "plus": (lambda b, a, ab, x, e: (x + b / np.sqrt(1 - ab) * e) / np.sqrt(a),
             "the predicted noise must be subtracted, not added"),
}

# The noise added: σ_t z with one of the two variances of the DDPM paper (both accepted).
_SIGMAS = {
    "posterior": (lambda b, ab, prev: np.sqrt(b * (1 - prev) / (1 - ab)), None),
    "beta": (lambda b, ab, prev: np.sqrt(b), None),
    "variance": (lambda b, ab, prev: b * (1 - prev) / (1 - ab),
                 "z must be scaled by the standard deviation σ_t, the square root of the "
                 "variance σ_t²"),
    "variance_beta": (lambda b, ab, prev: b,
                      "z must be scaled by σ_t = √β_t, the standard deviation, not by the "
                      "variance β_t"),
    "none": (lambda b, ab, prev: np.zeros_like(b),
             "no noise is added: except at the last step (t = 0), add σ_t z, with "
             "σ_t² = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t), or simply β_t"),
}


def _reverse_candidate(mean, sigma, last, x, t, eps, betas, z):
    """``last``: what happens at t = 0, "quiet" (no noise, right) or "noisy"."""
    b, a, ab, prev = (v.reshape(-1, 1, 1) for v in _step_terms(betas, t))
    with np.errstate(all="ignore"):
        s = _SIGMAS[sigma][0](b, ab, prev)
        if last == "quiet":
            s = np.where(t.reshape(-1, 1, 1) == 0, 0.0, s)
        elif sigma == "posterior":  # its σ_0 is 0 anyway; "noisy" then means √β_0
            s = np.where(t.reshape(-1, 1, 1) == 0, np.sqrt(b), s)
        return _MEANS[mean][0](b, a, ab, x.astype(float), eps.astype(float)) + s * z


def check_reverse_step(function) -> Feedback:
    """Check ``function(x_t, t, predicted_noise, betas, z)``: one DDPM reverse step (8.2).

    Expected: ``x_{t-1} = (x_t - β_t / √(1 - ᾱ_t) ε_θ) / √α_t + σ_t z`` for a batch of
    shape (n, h, w) with one step index per image ``t`` (from 0), the predicted noise
    ``ε_θ`` and fresh standard normal noise ``z`` of the images' shape, with
    ``σ_t² = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)`` (or ``σ_t² = β_t``, the paper's other choice;
    both are accepted) and no noise at the last step, ``t = 0``. NumPy or ``keras.ops``.

    >>> def reverse_step(x_t, t, predicted_noise, betas, z):
    ...     alphas, alpha_bars = 1 - betas, np.cumprod(1 - betas)
    ...     b, a, ab = (v[t].reshape(-1, 1, 1) for v in (betas, alphas, alpha_bars))
    ...     mean = (x_t - b / np.sqrt(1 - ab) * predicted_noise) / np.sqrt(a)
    ...     sigma = np.where(t > 0, np.sqrt(betas[t]), 0.0).reshape(-1, 1, 1)
    ...     return mean + sigma * z
    >>> check_reverse_step(reverse_step)  # doctest: +ELLIPSIS
    ✔ Correct: ...σ_t² = β_t...
    """
    rng = np.random.default_rng(82)
    results = []
    for description, x0, t, eps, betas in _cases():
        x = x0 * 1.5  # any x_t will do: the formula does not assume how it was made
        z = rng.standard_normal(x.shape).astype("float32")
        got, error = call_for_array(function, x.copy(), t.copy(), eps.copy(), betas.copy(),
                                    z.copy(), description=description,
                                    returned_hint="; return the array x_{t-1}")
        if error is not None:
            return error
        if got.shape != x.shape:
            return wrong(f"for {description} expected x_(t-1) of shape {x.shape} (the shape "
                         f"of x_t), got shape {got.shape}: reshape the per-image "
                         "coefficients to (n, 1, 1)")
        if not np.all(np.isfinite(got)):
            return wrong(f"for {description} some pixels are NaN or infinite. At t = 0, "
                         "ᾱ_{t-1} does not exist: use 1 (nothing removed yet), or skip the "
                         "noise there")
        results.append((description, x, t, eps, betas, z, got))

    def matches(mean, sigma, last):
        return all(np.allclose(got, _reverse_candidate(mean, sigma, last, x, t, eps, betas, z),
                               rtol=_RTOL, atol=_ATOL)
                   for _, x, t, eps, betas, z, got in results)

    for sigma, name in (("posterior", "σ_t² = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)"),
                        ("beta", "σ_t² = β_t")):
        if matches("right", sigma, "quiet"):
            return correct(f"your step matches (x_t - β_t / √(1 - ᾱ_t) ε_θ) / √α_t + σ_t z "
                           f"with {name} on all {len(results)} test cases, and adds no noise "
                           "at t = 0.")
    if matches("right", "beta", "noisy"):
        return wrong("the last step (t = 0) must add no noise: it returns the final image, "
                     "and noise added there would stay in it. Use σ_0 = 0")
    for mean, sigma, last in itertools.product(_MEANS, _SIGMAS, ("quiet", "noisy")):
        if matches(mean, sigma, last):
            slips = [message for message in (_MEANS[mean][1], _SIGMAS[sigma][1]) if message]
            if last == "noisy" and sigma not in ("none", "posterior"):
                slips.append("the last step (t = 0) must add no noise")
            if slips:
                return wrong("; and ".join(slips))
    description, x, t, eps, betas, z, got = results[0]
    expected = _reverse_candidate("right", "posterior", "quiet", x, t, eps, betas, z)
    worst = np.abs(got - expected).max()
    return wrong(f"for {description} your x_(t-1) differs from (x_t - β_t / √(1 - ᾱ_t) ε_θ) "
                 f"/ √α_t + σ_t z by up to {worst:.3g}")
