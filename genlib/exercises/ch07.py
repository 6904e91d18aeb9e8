"""Checkers for the exercises of chapter 7 (generative adversarial networks).

>>> import numpy as np
>>> def softplus(x):
...     return np.logaddexp(0.0, x)
>>> def discriminator_loss(real_logits, fake_logits, smoothing=0.0):
...     # BCE(t, s) = t·softplus(-s) + (1 - t)·softplus(s) on logits s
...     real = (1 - smoothing) * softplus(-real_logits) + smoothing * softplus(real_logits)
...     return 0.5 * (np.mean(real) + np.mean(softplus(fake_logits)))
>>> def generator_loss(fake_logits):
...     return np.mean(softplus(-fake_logits))
>>> check_gan_losses(discriminator_loss, generator_loss)  # doctest: +ELLIPSIS
✔ Correct: both losses match the reference on all 6 cases...
>>> check_gan_losses(discriminator_loss, lambda fake_logits: -np.mean(softplus(fake_logits)))
... # doctest: +ELLIPSIS
✘ Not yet: generator_loss(fake_logits) on a batch of 8: this is the *saturating* loss...
"""

from __future__ import annotations

import numpy as np

from genlib.exercises.feedback import Feedback, as_array, call_student, correct, wrong

_RTOL, _ATOL = 1e-4, 1e-5


def _to_number(result):
    """The student's result as a float, None when it is not numeric, or an array."""
    array = as_array(result)
    if array is None:
        return None
    return float(array) if array.size == 1 else array


def _softplus(x):
    return np.logaddexp(0.0, x)


def _bce(target, logits):
    """Binary cross-entropy of each logit with a target probability."""
    return target * _softplus(-logits) + (1.0 - target) * _softplus(logits)


def _bce_on_probabilities(target, values):
    """What Keras computes when logits are taken for probabilities (from_logits=False)."""
    import keras

    values = np.asarray(values, dtype="float32")
    loss = keras.losses.binary_crossentropy(np.full_like(values, target), values)
    return keras.ops.convert_to_numpy(loss).astype(float)


def _loss_cases():
    rng = np.random.default_rng(707)
    cases = []
    for n, smoothing in [(8, 0.0), (5, 0.1), (32, 0.0), (3, 0.2), (16, 0.1), (1, 0.0)]:
        real = rng.normal(1.0, 2.0, (n, 1)).astype("float32")
        fake = rng.normal(-1.0, 2.0, (n, 1)).astype("float32")
        cases.append((n, smoothing, real, fake))
    return cases


def _discriminator_variants(real, fake, smoothing):
    """The right discriminator loss and the usual slips, each with what to say about it."""
    right = 0.5 * (_bce(1 - smoothing, real).mean() + _bce(0.0, fake).mean())
    return right, [
        (0.5 * (_bce(0.0, real).mean() + _bce(1 - smoothing, fake).mean()),
         "the targets are swapped: real images get target 1 (\"real\") and fakes target 0"),
        (0.5 * (_bce(1 - smoothing, real).mean() + _bce(smoothing, fake).mean()),
         "you smoothed the fakes' target too: label smoothing is *one-sided*, only the real "
         "images' target becomes 1 - smoothing; the fakes keep 0 (Salimans et al. 2016)"),
        (0.5 * (_bce(1.0, real).mean() + _bce(0.0, fake).mean()),
         "smoothing is ignored: the real images' target must be 1 - smoothing"),
        (0.5 * (_bce(smoothing, real).mean() + _bce(0.0, fake).mean()),
         "the real images' target is `smoothing`; it must be 1 - smoothing"),
        (_bce(1 - smoothing, real).mean() + _bce(0.0, fake).mean(),
         "your loss is the *sum* of the two halves' means, twice the expected value: average "
         "over all 2n images (the mean of the two halves), as one concatenated batch would"),
        (0.5 * (_bce(1 - smoothing, real).sum() + _bce(0.0, fake).sum()),
         "you summed over the images: take the mean over each batch, so that the loss does "
         "not grow with the batch size"),
        (0.5 * (_bce_on_probabilities(1 - smoothing, real).mean()
                + _bce_on_probabilities(0.0, fake).mean()),
         "the inputs are *logits* (the discriminator has no sigmoid): use "
         "BinaryCrossentropy(from_logits=True), or apply the sigmoid first"),
    ]


def _generator_variants(fake):
    right = _bce(1.0, fake).mean()
    return right, [
        (_bce(0.0, fake).mean(),
         "the generator's target is 0: it wants the discriminator to say \"real\" about its "
         "fakes, so its target is 1"),
        (-_bce(0.0, fake).mean(),
         "this is the *saturating* loss, log(1 - D(G(z))) minimized (the negated "
         "discriminator loss on fakes). It is the game's original formula, but its gradient "
         "vanishes when the discriminator rejects the fakes, which is exactly early in "
         "training: use the cross-entropy with target 1 instead, -log D(G(z))"),
        (_bce(1.0, fake).sum(),
         "you summed over the images: take the mean over the batch"),
        (_bce_on_probabilities(1.0, fake).mean(),
         "the inputs are *logits*: use BinaryCrossentropy(from_logits=True), or apply the "
         "sigmoid first"),
    ]


def _close(a, b):
    return np.isclose(a, b, rtol=_RTOL, atol=_ATOL)


def _judge(value, right, variants, call):
    """None when ``value`` matches ``right``, else the Feedback naming the mistake."""
    if value is None:
        return wrong(f"{call} returned nothing usable: return one number (a scalar tensor or "
                     "a float)")
    if isinstance(value, np.ndarray):
        return wrong(f"{call} returned an array of shape {value.shape}: return one number, "
                     "the mean over the batch")
    if not np.isfinite(value):
        return wrong(f"{call} returned {value}: the inputs are logits (any real number, "
                     "not probabilities in [0, 1]); compute the cross-entropy from them in a "
                     "numerically stable way: BinaryCrossentropy(from_logits=True)")
    if _close(value, right):
        return None
    for candidate, message in variants:
        if _close(value, candidate):
            return wrong(f"{call}: {message}")
    return wrong(f"{call} returned {value:.6g}, expected {right:.6g}")


def check_gan_losses(discriminator_loss, generator_loss) -> Feedback:
    """Check the two losses of a GAN, computed from the discriminator's logits (exercise 7.1).

    ``discriminator_loss(real_logits, fake_logits, smoothing)`` must return the binary
    cross-entropy with target ``1 - smoothing`` for the real images and 0 for the fakes,
    averaged over all the images of both batches; ``generator_loss(fake_logits)`` the binary
    cross-entropy with target 1 for the fakes, averaged. The logits have shape (n, 1).

    >>> import keras
    >>> bce = keras.losses.BinaryCrossentropy(from_logits=True)
    >>> check_gan_losses(
    ...     lambda real, fake, smoothing=0.0: bce(keras.ops.full_like(real, 1 - smoothing),
    ...                                           real) + bce(keras.ops.zeros_like(fake), fake),
    ...     lambda fake: bce(keras.ops.ones_like(fake), fake))  # doctest: +ELLIPSIS
    ✘ Not yet: discriminator_loss(...) on batches of 8: your loss is the *sum* of the two...
    """
    for name, function in (("discriminator_loss", discriminator_loss),
                           ("generator_loss", generator_loss)):
        if not callable(function):
            return wrong(f"{name} must be a function, got {type(function).__name__}: pass the "
                         "function itself (no parentheses after its name)")
    cases = _loss_cases()
    for n, smoothing, real, fake in cases:
        call = (f"discriminator_loss(real_logits, fake_logits, smoothing={smoothing}) "
                f"on batches of {n}")
        result, error = call_student(discriminator_loss, real.copy(), fake.copy(), smoothing)
        if error is not None:
            return wrong(f"{call}: {error.message}")
        right, variants = _discriminator_variants(real.astype(float), fake.astype(float),
                                                  smoothing)
        feedback = _judge(_to_number(result), right, variants, call)
        if feedback is not None:
            return feedback
    for n, _, _, fake in cases:
        call = f"generator_loss(fake_logits) on a batch of {n}"
        result, error = call_student(generator_loss, fake.copy())
        if error is not None:
            return wrong(f"{call}: {error.message}")
        right, variants = _generator_variants(fake.astype(float))
        feedback = _judge(_to_number(result), right, variants, call)
        if feedback is not None:
            return feedback
    return correct(f"both losses match the reference on all {len(cases)} cases (batch sizes "
                   "1 to 32, label smoothing 0 to 0.2)")


# ---------------------------------------------------------------------------------------------
# Exercise 7.3: a conditional GAN
# ---------------------------------------------------------------------------------------------


def check_conditional_generator(generate, *, n_per_class: int = 100,
                                min_accuracy: float = 0.4) -> Feedback:
    """Check that a conditional generator makes images of the class it is asked for.

    ``generate(labels)`` takes an array of class indices (0–9) and returns one image per
    label, shape (n, 28, 28), pixels in [0, 1]. The checker asks for ``n_per_class``
    images of each class, lets the course's classifier (:mod:`genlib.frechet`) say what
    each image shows, and passes when at least ``min_accuracy`` of them are of the
    requested class (chance is 10%; the default asks for four times chance).

    >>> import numpy as np
    >>> from genlib import load_fashion_mnist
    >>> data = load_fashion_mnist("quick", download=False)  # doctest: +SKIP
    >>> def lookup(labels):  # "generates" a real image of each class  # doctest: +SKIP
    ...     return np.stack([data.x_train[data.y_train == k][0] for k in labels])
    >>> check_conditional_generator(lookup)  # doctest: +SKIP
    ✔ Correct: ...
    >>> check_conditional_generator(lambda labels: np.zeros((len(labels), 28, 28)) - 1)
    ... # doctest: +ELLIPSIS
    ✘ Not yet: your images have values in [-1, -1]...
    """
    from genlib import frechet
    from genlib.data import CLASS_NAMES

    if not callable(generate):
        return wrong(f"expected a function, got {type(generate).__name__}: pass a function "
                     "generate(labels) that returns one image per label")
    labels = np.repeat(np.arange(len(CLASS_NAMES)), n_per_class).astype("int32")
    result, error = call_student(generate, labels.copy())
    if error is not None:
        return error
    try:
        images = np.asarray(result if not hasattr(result, "numpy") else result.numpy(),
                            dtype="float32")
    except (TypeError, ValueError):
        return wrong(f"generate(labels) returned {type(result).__name__}: return an array of "
                     "images of shape (n, 28, 28)")
    if images.shape[-1:] == (1,):
        images = images[..., 0]
    if images.shape != (len(labels), 28, 28):
        return wrong(f"generate(labels) with {len(labels)} labels returned shape "
                     f"{images.shape}: return one 28 × 28 image per label, shape "
                     f"({len(labels)}, 28, 28)")
    if not np.all(np.isfinite(images)):
        return wrong("your images contain NaN or infinite values: the generator has probably "
                     "diverged; check its losses")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        hint = (" they look like tanh outputs: return (images + 1) / 2"
                if low >= -1.0 and high <= 1.0 else "")
        return wrong(f"your images have values in [{low:.3g}, {high:.3g}]: return pixels in "
                     f"[0, 1];{hint}")
    predicted = frechet.predict_classes(images)
    per_class = frechet.share_per_class(predicted, labels, len(CLASS_NAMES))
    accuracy = float(per_class.mean())
    worst = int(np.argmin(per_class))
    shares = np.bincount(predicted, minlength=len(CLASS_NAMES)) / len(predicted)
    summary = (f"the classifier recognizes the requested class in {accuracy:.0%} of "
               f"{len(labels):,} images (chance: 10%; worst class {CLASS_NAMES[worst]}, "
               f"{per_class[worst]:.0%})")
    if accuracy >= min_accuracy:
        return correct(summary)
    if accuracy < 0.2:
        top = int(np.argmax(shares))
        return wrong(f"{summary}: your generator seems to ignore the label (whatever the "
                     f"request, {shares[top]:.0%} of the images look like "
                     f"{CLASS_NAMES[top]}). Feed the label to both networks, and check that "
                     "the discriminator sees the *requested* label of each fake")
    return wrong(f"{summary}; at least {min_accuracy:.0%} is expected: train longer, or give "
                 "the label more weight (e.g. a larger embedding)")
