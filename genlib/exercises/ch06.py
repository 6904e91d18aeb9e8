"""Checkers for the exercises of chapter 6 (variational autoencoders).

>>> import numpy as np
>>> def latent_loss(mean, log_var):
...     return np.mean(-0.5 * np.sum(1 + log_var - np.exp(log_var) - mean**2, axis=-1))
>>> check_latent_loss(latent_loss)  # doctest: +ELLIPSIS
✔ Correct: your latent loss matches the closed-form KL divergence on all 4 test cases...
>>> check_sampling(lambda mean, log_var, epsilon: mean + np.exp(log_var) * epsilon)
... # doctest: +ELLIPSIS
✘ Not yet: exp(log_var) is the variance σ², not the standard deviation...
"""

from __future__ import annotations

import itertools

import numpy as np

from genlib.exercises.feedback import Feedback, call_for_array, correct, wrong

_RTOL, _ATOL = 1e-4, 1e-5


def _cases():
    """(description, mean, log_var): batches of different sizes, so axes cannot be confused."""
    rng = np.random.default_rng(606)

    def case(batch, codings):
        mean = rng.normal(0.0, 1.0, size=(batch, codings)).astype("float32")
        log_var = rng.uniform(-2.5, 1.0, size=(batch, codings)).astype("float32")
        return f"a batch of {batch} inputs with {codings} codings", mean, log_var

    return [case(5, 3), case(4, 10), case(1, 2), case(64, 16)]


# ---------------------------------------------------------------------------------------------
# Exercise 6.1: the latent loss
# ---------------------------------------------------------------------------------------------

# Per-coding terms f(μ, γ) whose sum over the codings, times -1/2, gives a latent loss: the
# right one and the usual slips, each with the sentence that names it.
_TERMS = {
    "right": (lambda m, g: 1 + g - np.exp(g) - m**2, None),
    "sigma": (lambda m, g: 1 + g - np.exp(g / 2) - m**2,
              "you used exp(log_var / 2), the standard deviation σ, where the formula needs "
              "the variance σ² = exp(log_var)"),
    "log_sigma": (lambda m, g: 1 + 2 * g - np.exp(2 * g) - m**2,
                  "you treated log_var as log σ (doubling it for log σ²): the encoder's output "
                  "γ is already log σ², so use γ itself for log σ² and exp(γ) for σ²"),
    "as_sigma": (lambda m, g: 1 + np.log(g**2) - g**2 - m**2,
                 "you used log_var as if it were σ (log σ² = log(log_var²), σ² = log_var²): "
                 "log_var is γ = log σ², so log σ² is γ and σ² is exp(γ)"),
    "no_one": (lambda m, g: g - np.exp(g) - m**2,
               "the constant 1 inside the sum is missing: each coding contributes "
               "1 + γ - exp(γ) - μ², which is 0 for μ = 0 and γ = 0"),
    "mean_not_squared": (lambda m, g: 1 + g - np.exp(g) - m,
                         "the mean must be squared: the term is -μ², not -μ"),
    "plus_mean": (lambda m, g: 1 + g - np.exp(g) + m**2,
                  "the sign of μ² is wrong: it is 1 + γ - exp(γ) - μ², so that codings far "
                  "from 0 cost more"),
}

# How the per-coding terms become one number: (over codings, over the batch).
_REDUCTIONS = {
    ("sum", "mean"): None,
    ("mean", "mean"): "you averaged over the codings: the KL divergence of a multivariate "
                      "Gaussian with independent codings is the SUM of one term per coding "
                      "(sum over the last axis), then the mean over the batch",
    ("sum", "sum"): "you summed over the batch: take the MEAN over the batch (the first axis) "
                    "of each input's sum over its codings",
    ("mean", "sum"): "you averaged over the codings and summed over the batch: the other way "
                     "round, sum over the codings (axis=-1), then average over the batch",
}

_FACTORS = {
    -0.5: None,
    0.5: "the minus sign in front is missing: L = -1/2 Σ (1 + γ - exp(γ) - μ²). Without it "
         "the loss is negative, yet a KL divergence is never negative",
    -1.0: "the factor 1/2 is missing: L = -1/2 Σ (1 + γ - exp(γ) - μ²)",
    1.0: "both the minus sign and the factor 1/2 in front are missing: "
         "L = -1/2 Σ (1 + γ - exp(γ) - μ²)",
    -0.5 / 784: "you divided by 784: that scaling belongs to the model's loss (it balances "
                "the latent loss against Keras' mean over the pixels); the latent loss itself "
                "is the KL divergence, in nats",
}


def _candidate(term, reduction, factor, mean, log_var):
    with np.errstate(all="ignore"):
        values = factor * _TERMS[term][0](mean.astype(float), log_var.astype(float))
        over_codings = values.sum(axis=-1) if reduction[0] == "sum" else values.mean(axis=-1)
        return over_codings.mean() if reduction[1] == "mean" else over_codings.sum()


def _reference_latent_loss(mean, log_var):
    return _candidate("right", ("sum", "mean"), -0.5, mean, log_var)


def check_latent_loss(function) -> Feedback:
    """Check ``function(mean, log_var)``, the latent loss of a batch (exercise 6.1).

    Expected: the mean over the batch (first axis) of
    ``-1/2 Σ_i (1 + γ_i - exp(γ_i) - μ_i²)``, summed over the codings (last axis), a
    single number, for NumPy arrays ``mean`` and ``log_var`` of shape (batch, codings).
    The answer may use NumPy or ``keras.ops``. The checker names the usual slips: the
    missing minus sign, σ or log σ mistaken for the log-variance, a mean instead of a sum
    over the codings (or a sum over the batch), the 1/2 or the 1 forgotten.

    >>> check_latent_loss(lambda mean, log_var: np.mean(
    ...     0.5 * np.sum(1 + log_var - np.exp(log_var) - mean**2, axis=-1)))
    ... # doctest: +ELLIPSIS
    ✘ Not yet: the minus sign in front is missing...
    """
    results = []
    for description, mean, log_var in _cases():
        # A NaN is explained below (call_for_array silences NumPy's warning about it).
        got, error = call_for_array(
            function, mean.copy(), log_var.copy(), description=description,
            returned_hint=", not a number: return the loss as a scalar (a float or a 0-D "
                          "tensor)")
        if error is not None:
            return error
        batch, codings = mean.shape
        if got.size != 1:
            if got.shape == (batch,):
                return wrong(f"for {description} you returned one loss per input (shape "
                             f"{got.shape}): average them over the batch to get one number")
            if got.shape == (codings,):
                return wrong(f"for {description} you returned one value per coding (shape "
                             f"{got.shape}): sum over the codings (axis=-1) for each input, "
                             "then average over the batch (axis 0)")
            if got.shape == mean.shape:
                return wrong(f"for {description} you returned an array of shape {got.shape}, "
                             "one term per coding: sum over the codings (axis=-1), then take "
                             "the mean over the batch")
            return wrong(f"for {description} you returned an array of shape {got.shape}; "
                         "return a single number")
        got = float(got.reshape(()))
        if np.isnan(got):
            return wrong(f"your latent loss is NaN for {description}. You probably take the "
                         "log or the square root of log_var, which is negative whenever σ < 1: "
                         "log_var is γ = log σ², any real number; use γ itself for log σ² and "
                         "exp(γ) for σ²")
        results.append((description, mean, log_var, got))

    def matches(term, reduction, factor):
        return all(np.isclose(got, _candidate(term, reduction, factor, mean, log_var),
                              rtol=_RTOL, atol=_ATOL) for _, mean, log_var, got in results)

    if matches("right", ("sum", "mean"), -0.5):
        return correct(f"your latent loss matches the closed-form KL divergence on all "
                       f"{len(results)} test cases (sum over the codings, mean over the batch).")
    # The explanation with the fewest slips that reproduces every answer.
    best = None
    for term, reduction, factor in itertools.product(_TERMS, _REDUCTIONS, _FACTORS):
        slips = [message for message in (_TERMS[term][1], _REDUCTIONS[reduction],
                                         _FACTORS[factor]) if message]
        if slips and (best is None or len(slips) < len(best)) and matches(term, reduction, factor):
            best = slips
    if best:
        return wrong("; and ".join(best))
    description, mean, log_var, got = results[0]
    expected = _reference_latent_loss(mean, log_var)
    hint = (" A KL divergence is never negative." if got < 0 else "")
    return wrong(f"for {description} expected {expected:.5g}, got {got:.5g}.{hint} Compute "
                 "-0.5 * (1 + log_var - exp(log_var) - mean**2), sum it over the last axis, "
                 "then average over the batch")


# ---------------------------------------------------------------------------------------------
# Exercise 6.2: the reparameterization trick
# ---------------------------------------------------------------------------------------------

_SCALES = {
    "right": (lambda g: np.exp(g / 2), None),
    "variance": (lambda g: np.exp(g),
                 "exp(log_var) is the variance σ², not the standard deviation: scale ε by "
                 "σ = exp(log_var / 2)"),
    "as_sigma": (lambda g: g,
                 "you scaled ε by log_var itself, as if it were σ: log_var is γ = log σ², so "
                 "σ = exp(γ / 2)"),
    "half_log": (lambda g: g / 2,
                 "you scaled ε by log_var / 2, which is log σ: take its exponential, "
                 "σ = exp(log_var / 2)"),
    "log_sigma": (lambda g: np.exp(g * 2),
                  "you scaled ε by exp(2 · log_var): log_var is already log σ², so "
                  "σ = exp(log_var / 2)"),
    "sqrt": (lambda g: np.sqrt(np.abs(g)),
             "you took a square root of log_var, as if it were the variance: log_var is "
             "log σ², so σ = exp(log_var / 2)"),
}

_SHIFTS = {
    "mean": (lambda m, s, e: m + s * e, None),
    "none": (lambda m, s, e: s * e,
             "the mean is missing: the coding is mean + σ · ε, centred on the encoder's mean"),
    "times": (lambda m, s, e: m * s * e,
              "you multiplied by the mean: add it, z = mean + σ · ε"),
    "both": (lambda m, s, e: (m + e) * s,
             "you scaled the mean too: only ε is scaled, z = mean + σ · ε"),
}


def check_sampling(function) -> Feedback:
    """Check ``function(mean, log_var, epsilon)``: codings by the reparameterization trick (6.2).

    Expected: ``mean + exp(log_var / 2) * epsilon`` elementwise, for NumPy arrays of shape
    (batch, codings), with NumPy or ``keras.ops``. The randomness comes in only through
    ``epsilon``: an answer that draws its own noise is reported.

    >>> check_sampling(lambda mean, log_var, epsilon: mean + np.exp(log_var / 2) * epsilon)
    ... # doctest: +ELLIPSIS
    ✔ Correct: z = mean + exp(log_var / 2) · ε on all 4 test cases...
    """
    rng = np.random.default_rng(66)
    results = []
    for description, mean, log_var in _cases():
        epsilon = rng.normal(size=mean.shape).astype("float32")
        outputs = []
        for _ in range(2):
            got, error = call_for_array(function, mean.copy(), log_var.copy(), epsilon.copy(),
                                        description=description,
                                        returned_hint="; return an array of codings")
            if error is not None:
                return error
            outputs.append(got)
        got = outputs[0]
        if got.shape != mean.shape:
            return wrong(f"for {description} expected codings of shape {mean.shape} (one per "
                         f"mean), got shape {got.shape}")
        if np.isnan(got).any():
            return wrong("some codings are NaN: you probably take the log or the square root "
                         "of log_var, which is negative whenever σ < 1. σ = exp(log_var / 2)")
        if not np.array_equal(outputs[0], outputs[1], equal_nan=True):
            return wrong("two calls with the same mean, log_var and epsilon gave different "
                         "codings: your function draws its own noise. Use the epsilon it "
                         "receives; that is the point of the trick, the randomness is an input")
        results.append((description, mean, log_var, epsilon, got))

    def matches(scale, shift):
        with np.errstate(all="ignore"):
            return all(np.allclose(got, _SHIFTS[shift][0](m.astype(float),
                                                          _SCALES[scale][0](g.astype(float)),
                                                          e.astype(float)),
                                   rtol=_RTOL, atol=_ATOL)
                       for _, m, g, e, got in results)

    if matches("right", "mean"):
        return correct(f"z = mean + exp(log_var / 2) · ε on all {len(results)} test cases: a "
                       "differentiable function of mean and log_var, with the randomness in ε.")
    for scale, shift in itertools.product(_SCALES, _SHIFTS):
        if (scale, shift) != ("right", "mean") and matches(scale, shift):
            slips = [message for message in (_SCALES[scale][1], _SHIFTS[shift][1]) if message]
            return wrong("; and ".join(slips))
    description, mean, log_var, epsilon, got = results[0]
    expected = mean + np.exp(log_var / 2) * epsilon
    worst = np.abs(got - expected).max()
    return wrong(f"for {description} your codings differ from mean + exp(log_var / 2) · ε "
                 f"by up to {worst:.3g}")

