"""Denoising autoencoders: a stacked autoencoder behind a layer that corrupts its inputs.

During training, a ``GaussianNoise`` or ``Dropout`` layer corrupts every input before the
encoder sees it, while the loss compares the output with the *clean* input: the model must
learn to remove the noise. At inference the corruption layer does nothing.

>>> from genlib.denoising import DenoisingAutoencoder
>>> dae = DenoisingAutoencoder(noise="dropout", strength=0.5)
>>> type(dae.corruption).__name__, dae.encoder.output_shape
('Dropout', (None, 30))
"""

from __future__ import annotations

import numbers

import keras
import numpy as np

from genlib._validation import check_positive_int
from genlib.compat import set_random_seed
from genlib.stacked import StackedAutoencoder
from genlib.training import fit_autoencoder

#: The kinds of corruption: a GaussianNoise layer or a Dropout layer in front of the encoder.
NOISE_KINDS = ("gaussian", "dropout")

_EXAMPLE_STRENGTH = {"gaussian": 0.2, "dropout": 0.5}


def check_noise(noise, strength) -> tuple[str, float]:
    """Validate a kind of corruption and its strength; return them as ``(str, float)``.

    ``"gaussian"`` adds Gaussian noise of standard deviation ``strength``, which must lie
    in [0, 1] (Keras' ``GaussianNoise`` accepts no more, and for pixels in [0, 1] a
    larger noise drowns the image). ``"dropout"`` switches off each input with
    probability ``strength``, which must lie in [0, 1): a rate of 1 would leave nothing
    to reconstruct from. A strength of 0 means no corruption at all.

    Examples
    --------
    >>> check_noise("dropout", 0.5)
    ('dropout', 0.5)
    >>> check_noise("dropout", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: a Dropout rate is the fraction of inputs switched off and must lie in [0, 1), \
got 1.0: a rate of 1 would switch off every input, leaving nothing to reconstruct from (and \
Keras would divide the survivors by 1 - rate = 0). Try 0.5.
    """
    if noise not in NOISE_KINDS:
        raise ValueError(
            f"noise must be 'gaussian' (a GaussianNoise layer adds noise to every input) or "
            f"'dropout' (a Dropout layer switches inputs off), got {noise!r}"
        )
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real):
        raise ValueError(
            f"strength must be a number (the {_strength_name(noise)}), got {strength!r} "
            f"({type(strength).__name__}); e.g. strength={_EXAMPLE_STRENGTH[noise]}"
        )
    strength = float(strength)
    if noise == "dropout" and not 0.0 <= strength < 1.0:
        why = ("a rate of 1 would switch off every input, leaving nothing to reconstruct from "
               "(and Keras would divide the survivors by 1 - rate = 0)" if strength == 1.0
               else "it is a probability")
        raise ValueError(
            f"a Dropout rate is the fraction of inputs switched off and must lie in [0, 1), "
            f"got {strength!r}: {why}. Try 0.5."
        )
    if noise == "gaussian" and not 0.0 <= strength <= 1.0:
        raise ValueError(
            f"a GaussianNoise standard deviation must lie in [0, 1], got {strength!r}: it cannot "
            "be negative (or NaN), Keras' GaussianNoise accepts nothing above 1, and for pixels "
            "in [0, 1] a standard deviation of 1 already drowns the image. Try 0.2."
        )
    return noise, strength


def _strength_name(noise):
    return "standard deviation of the noise" if noise == "gaussian" else "dropout rate"


def corruption_layer(noise, strength, *, seed=None, name=None) -> keras.layers.Layer:
    """The Keras layer that corrupts inputs in training and passes them through otherwise.

    ``GaussianNoise(strength)`` for ``noise="gaussian"``, ``Dropout(strength)`` for
    ``noise="dropout"``, after :func:`check_noise` has validated the strength.

    Examples
    --------
    >>> import numpy as np
    >>> layer = corruption_layer("dropout", 0.5, seed=0)
    >>> x = np.ones((1, 6), dtype="float32")
    >>> sorted(set(layer(x, training=True).numpy().ravel().tolist()))  # survivors doubled
    [0.0, 2.0]
    >>> layer(x).numpy().tolist()                                       # inference: as is
    [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]
    """
    noise, strength = check_noise(noise, strength)
    if noise == "gaussian":
        return keras.layers.GaussianNoise(strength, seed=seed, name=name)
    return keras.layers.Dropout(strength, seed=seed, name=name)


def corrupt(images, noise, strength, *, seed=0) -> np.ndarray:
    """Corrupt ``images`` exactly as the corruption layer does in training.

    The result is what a denoising autoencoder's encoder receives during training; use it
    to show what the model sees and to measure how well it restores noisy inputs. With
    ``"dropout"`` the surviving values are scaled by ``1 / (1 - strength)``, as Keras does;
    with ``"gaussian"`` the values leave [0, 1]. Deterministic for a given ``seed``.

    Examples
    --------
    >>> x = np.full((2, 28, 28), 0.5, dtype="float32")
    >>> noisy = corrupt(x, "dropout", 0.5)
    >>> noisy.shape, sorted(np.unique(noisy).tolist())
    ((2, 28, 28), [0.0, 1.0])
    >>> float(np.mean(noisy == 0).round(1))
    0.5
    >>> np.array_equal(noisy, corrupt(x, "dropout", 0.5))   # same seed, same noise
    True
    """
    layer = corruption_layer(noise, strength, seed=seed)
    images = np.asarray(images, dtype="float32")
    return keras.ops.convert_to_numpy(layer(images, training=True))


@keras.saving.register_keras_serializable(package="genlib")
class DenoisingAutoencoder(keras.Model):
    """A :class:`~genlib.stacked.StackedAutoencoder` behind a corruption layer.

    In training (``fit``, or a call with ``training=True``), the ``corruption`` layer
    (``GaussianNoise`` or ``Dropout``, see :func:`corruption_layer`) corrupts the inputs
    before the encoder; at inference (``predict``, ``evaluate``, a plain call) it passes
    them through unchanged, so the model is then exactly its stacked autoencoder. The
    ``encoder`` and ``decoder`` are the stacked autoencoder's: the encoder does *not*
    include the corruption, so it can be reused, for example in a classifier.

    Parameters
    ----------
    noise : {"gaussian", "dropout"}
    strength : float
        The noise's standard deviation, in [0, 1], or the dropout rate, in [0, 1).
    coding_sizes, image_shape, activation, tied
        As for :class:`~genlib.stacked.StackedAutoencoder`.
    seed : int, optional
        Seed of the corruption's random generator.

    Examples
    --------
    >>> import numpy as np
    >>> dae = DenoisingAutoencoder("gaussian", 0.2, coding_sizes=(16, 4))
    >>> x = np.random.default_rng(0).random((3, 28, 28)).astype("float32")
    >>> np.allclose(dae(x), dae.autoencoder(x)), np.allclose(dae(x, training=True), dae(x))
    (True, False)
    """

    def __init__(self, noise="dropout", strength=0.5, *, coding_sizes=(100, 30),
                 image_shape=(28, 28), activation="selu", tied=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.noise, self.strength = check_noise(noise, strength)
        self.seed = seed
        # The stack first: its initial weights then depend on the global seed only, not on
        # the corruption (Keras' Dropout(0) draws no seed, Dropout(0.5) does).
        self.autoencoder = StackedAutoencoder(coding_sizes, image_shape=image_shape,
                                              activation=activation, tied=tied)
        self.corruption = corruption_layer(self.noise, self.strength, seed=seed,
                                           name="corruption")
        self.build((None, *self.autoencoder.image_shape))

    @property
    def encoder(self) -> keras.Sequential:
        """The stacked autoencoder's encoder (without the corruption layer)."""
        return self.autoencoder.encoder

    @property
    def decoder(self) -> keras.Sequential:
        """The stacked autoencoder's decoder."""
        return self.autoencoder.decoder

    def call(self, inputs, training=None):
        corrupted = self.corruption(inputs, training=training)
        return self.autoencoder(corrupted, training=training)

    def get_config(self):
        autoencoder = self.autoencoder
        return {**super().get_config(), "noise": self.noise, "strength": self.strength,
                "coding_sizes": list(autoencoder.coding_sizes),
                "image_shape": list(autoencoder.image_shape),
                "activation": autoencoder.activation_name, "tied": autoencoder.tied,
                "seed": self.seed}



def _check_strengths(noise, strengths, name: str) -> list[float]:
    if isinstance(strengths, (str, bytes)) or not hasattr(strengths, "__iter__"):
        raise ValueError(f"{name} must be a sequence of noise strengths, e.g. [0.0, 0.5], "
                         f"got {strengths!r}")
    checked = [check_noise(noise, strength)[1] for strength in strengths]
    if not checked:
        raise ValueError(f"{name} is empty: give at least one strength, e.g. [0.0, 0.5]")
    return checked


def noise_sweep(noise, strengths, x_train, x_valid, *, epochs: int,
                test_strengths=None, coding_sizes=(100, 30), batch_size: int = 256,
                seed: int = 0):
    """Train one denoising autoencoder per noise strength; measure each on clean and on
    corrupted validation images.

    Every model has the same architecture, schedule
    (:func:`genlib.training.fit_autoencoder`) and initial weights (the global Keras seed is
    reset to ``seed`` before each model is built); only the strength of its training noise
    changes. Each
    model is then evaluated on the validation images corrupted at every strength of
    ``test_strengths`` (0 means clean), always against the clean images. The corrupted
    images are drawn once per test strength, so every model is measured on the same ones.

    Parameters
    ----------
    noise : {"gaussian", "dropout"}
    strengths : sequence of float
        Training strengths to try; 0 trains an ordinary autoencoder.
    x_train, x_valid : arrays of images in [0, 1]
    epochs : int
        Training epochs per model.
    test_strengths : sequence of float, optional
        Strengths of the noise on the validation images; by default ``strengths``, with 0
        (clean images) added if missing.

    Returns
    -------
    pandas.DataFrame with columns ``strength`` (of the training noise), ``test_strength``
    and ``val_mse``, one row per pair.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((64, 28, 28)).astype("float32")
    >>> table = noise_sweep("dropout", [0.0, 0.5], x, x[:16], epochs=1, coding_sizes=(8, 4))
    >>> table.columns.tolist(), len(table)
    (['strength', 'test_strength', 'val_mse'], 4)
    >>> table.pivot(index="strength", columns="test_strength", values="val_mse").shape
    (2, 2)
    """
    import pandas as pd

    strengths = _check_strengths(noise, strengths, "strengths")
    if test_strengths is None:
        test_strengths = sorted({0.0, *strengths})
    test_strengths = _check_strengths(noise, test_strengths, "test_strengths")
    epochs = check_positive_int(epochs, "epochs")
    x_valid = np.asarray(x_valid, dtype="float32")
    # One draw of noise per test strength, shared by all the models.
    corrupted = {strength: corrupt(x_valid, noise, strength, seed=seed)
                 for strength in test_strengths}
    rows = []
    for strength in strengths:
        set_random_seed(seed)
        model = DenoisingAutoencoder(noise, strength, coding_sizes=coding_sizes,
                                     image_shape=x_valid.shape[1:])
        fit_autoencoder(model, x_train, x_valid, epochs=epochs,
                        batch_size=batch_size)
        for test_strength, inputs in corrupted.items():
            val_mse = model.evaluate(inputs, x_valid, batch_size=1024, verbose=0)
            rows.append({"strength": strength, "test_strength": test_strength,
                         "val_mse": float(val_mse)})
    return pd.DataFrame(rows)


def invented_pixels(originals, restored, *, blank: float = 0.05, ink: float = 0.3):
    """Where a restoration draws something the original does not have.

    A pixel is *invented* when it is blank in the original (below ``blank``) but clearly
    drawn in the restoration (above ``ink``): the model painted it from what is typical,
    not from the image.

    Returns
    -------
    Boolean array of the images' shape.

    Examples
    --------
    >>> original = np.zeros((1, 3, 3)); original[0, 1, :] = 1.0   # a horizontal bar
    >>> restored = original.copy(); restored[0, :, 1] = 0.8        # a cross
    >>> invented_pixels(original, restored)[0].astype(int).tolist()
    [[0, 1, 0], [0, 0, 0], [0, 1, 0]]
    """
    originals, restored = np.asarray(originals), np.asarray(restored)
    if originals.shape != restored.shape:
        raise ValueError(f"originals and restored must have the same shape, got "
                         f"{originals.shape} and {restored.shape}")
    if not 0 <= blank < ink <= 1:
        raise ValueError(f"need 0 <= blank < ink <= 1, got blank={blank}, ink={ink}")
    return (originals < blank) & (restored > ink)


def plot_restorations(noisy, restored, originals, *, n_images: int = 10, highlight=None,
                      noisy_title: str = "noisy input", cell_size: float = 1.1):
    """Rows of noisy inputs, their restorations, the originals and the difference.

    The last row shows ``restored - original``: red where the restoration is darker
    (more ink) than the original, blue where it is lighter. ``highlight`` frames one
    column in red. Images must be in [0, 1]: clip or rescale noisy inputs for display.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((6, 28, 28))
    >>> fig = plot_restorations(x, x, x, n_images=4, highlight=2)
    >>> len(fig.axes)
    16
    """
    from genlib.plots import plot_image_rows

    rows = {noisy_title: noisy, "restored": restored, "original": originals}
    if len({np.shape(images) for images in rows.values()}) > 1:
        raise ValueError(f"noisy, restored and originals must have the same shape, got "
                         f"{[np.shape(images) for images in rows.values()]}")
    rows["restored − original"] = np.asarray(restored) - np.asarray(originals)
    return plot_image_rows(rows, n_images=n_images, cell_size=cell_size,
                           differences=["restored − original"], highlight=highlight)


def to_display(noisy, noise, strength):
    """Corrupted images made drawable in [0, 1], without changing what they show.

    Dropout's surviving pixels are scaled back by ``1 - strength`` (to their original
    intensity: the scaling is Keras' bookkeeping, not part of the picture); Gaussian noise
    is clipped to [0, 1], as a screen would. For figures only: the model sees the
    corrupted values themselves.

    Examples
    --------
    >>> to_display(np.array([[0.0, 1.6, 0.8]]), "dropout", 0.5).tolist()
    [[0.0, 0.8, 0.4]]
    >>> to_display(np.array([[-0.2, 0.5, 1.3]]), "gaussian", 0.2).tolist()
    [[0.0, 0.5, 1.0]]
    """
    noise, strength = check_noise(noise, strength)
    noisy = np.asarray(noisy, dtype=float)
    if noise == "dropout":
        return noisy * (1.0 - strength)
    return np.clip(noisy, 0.0, 1.0)
