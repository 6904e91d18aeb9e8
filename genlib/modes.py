"""Run modes: how much data and how many epochs each experiment of the course gets.

The course runs in two modes, chosen with the environment variable ``GENLIB_MODE``:

``full`` (the default)
    What the readers of the book see: full data, training as long as the result needs.
``quick``
    For CI, notebook tests and students in a hurry: a small subset and a few epochs,
    so that a chapter finishes in about a minute on two CPU cores.

This module is the *only* place that reads ``GENLIB_MODE`` and the only place that
decides sizes and epochs; chapters ask :func:`current_mode` and never read the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import MappingProxyType

ENV_VAR = "GENLIB_MODE"
VALID_MODES = ("full", "quick")
DEFAULT_MODE = "full"

# Number of (train, validation, test) images of Fashion-MNIST in each mode.
_DATA_SIZES = {
    "full": (55_000, 5_000, 10_000),
    "quick": (3_000, 1_000, 1_000),
}

# Epochs per experiment, as (full, quick). One table for the whole course, so a
# reviewer can see every training budget at a glance.
_EPOCHS = {
    # Chapter 1: the linear autoencoder on a 3-D toy set (tiny: same in both modes,
    # since the PCA check must hold in both) and on Fashion-MNIST (quick mode has 18x
    # fewer images, so more epochs still mean far fewer training steps).
    "linear_ae_3d": (300, 300),
    "linear_ae_fashion": (15, 50),
    # Chapter 2: the classic recipe (batch 32, Nadam at its default rate) against a faster
    # schedule (batch 256, a higher rate decaying to zero); greedy layer-wise phases;
    # the classifiers of the pretraining experiment (trained on a few hundred labels).
    "stacked_ae_classic": (20, 3),
    "stacked_ae": (16, 12),
    "greedy_phase": (4, 8),
    "greedy_finetune": (4, 5),
    "too_powerful": (150, 20),
    # Chapter 3: the dense, convolutional and recurrent autoencoders and the upsampling
    # exercise's model, one budget for all (batches of 64) so that they compare fairly. The
    # recurrent one is the slowest model of the chapter: about 30 s per epoch on two cores.
    "autoencoder_comparison": (5, 3),
    # Chapter 4: the plain, Gaussian-noise and dropout 784-100-30 autoencoders (batch 256,
    # the same epochs for the three); the short runs of the noise sweep and of the
    # salt-and-pepper exercise (20,000 images, batch 64).
    "denoising_ae": (8, 10),
    "denoising_sweep": (3, 2),
    # Chapter 5: sparse autoencoders (784-100-300 sigmoid codings, batch 128): the
    # unpenalized, L1 and KL models; the L1 equivalence check (2,048 images); the short
    # runs of the sparsity-weight sweep; the exercises' models.
    "sparse_ae": (12, 12),
    "l1_equivalence": (1, 1),
    "sparse_sweep": (3, 2),
    "sparse_exercise": (5, 6),
    # Chapter 6: variational autoencoders, 10-D codings (the quality target) and 2-D
    # codings (the latent map), the latent-weight experiment and the digits exercise.
    "vae": (16, 8),
    "vae_2d": (10, 8),
    "vae_latent_weight": (8, 2),
    "vae_digits": (60, 15),
    # Chapter 7: GANs, in epochs of run.steps("gan_epoch") steps (not passes over the
    # data): the dense GAN, its remedies and replay exercise (batches of 128, the same
    # budget for a fair comparison), the DCGAN (batches of 32: 8,000 steps in full mode, the
    # costliest model of the chapter, about 0.03 s per step on one core), the conditional
    # GAN exercise (the DCGAN's recipe, 4,000 steps), and chapter 6's VAE as the
    # side-by-side comparisons load it (trained by tools/train_pretrained.py, shipped by
    # genlib.pretrained; fewer epochs than in chapter 6).
    "dense_gan": (30, 3),
    "dcgan": (80, 4),
    "conditional_gan": (40, 4),
    "vae_comparison": (10, 2),
    # Chapter 8: the DDPM, in epochs of run.steps("ddpm_epoch") steps of 32 images (the
    # costliest model of the chapter: about 0.06 s per step on two cores). The VAE and the
    # GANs it is compared with are loaded, trained with the entries above.
    "ddpm": (60, 2),
    # Chapter 9: flow matching on the 2-D toy data, its reflow, and in the codings of the
    # shipped VAE, in epochs of 100 steps of 256 points (a small network: a few seconds).
    # The flow-matching model on images trains with the DDPM's budget above.
    "flow_toy": (30, 4),
    "latent_flow": (40, 3),
}

# How many times (seeds) an experiment is repeated to measure its spread, as (full, quick).
_REPEATS = {
    "pretraining": (3, 1),
}

# Gradient steps, for experiments whose data size varies within a run, as (full, quick).
_STEPS = {
    "pretraining_classifier": (800, 150),
    # Chapter 7: the steps of one GAN "epoch" (how often progress and samples are shown).
    "gan_epoch": (100, 10),
    # Chapter 7: DCGAN steps timed with and without XLA, and with batches of 128 and 32, in
    # three turns each (the fastest kept: the book executes two chapters side by side); ten
    # steps were too few to tell a 5 % difference from this machine's noise.
    "xla_timing": (90, 3),
    # Chapter 8: the steps of one DDPM "epoch"; reverse steps timed eagerly, compiled and
    # with XLA (after a warm-up step); images generated per point of the sampling-steps
    # trade-off, and per model in the final comparison (at least 129 for a Fréchet
    # distance on the classifier's 128 features).
    "ddpm_epoch": (100, 10),
    "ddpm_step_timing": (10, 2),
    "ddpm_tradeoff_images": (1000, 130),
    "comparison_images": (2000, 130),
    # Chapter 9: images per point of the quality-against-network-calls comparison, and per
    # class in the guidance sweep (at least 129 in all for a Fréchet distance).
    "flow_tradeoff_images": (1000, 130),
    "guidance_images_per_class": (100, 13),
}


@dataclass(frozen=True)
class RunMode:
    """The sizes and epochs of one run mode.

    Examples
    --------
    >>> from genlib.modes import RunMode
    >>> run = RunMode.named("quick")
    >>> run.name, run.n_train
    ('quick', 3000)
    >>> run.epochs("linear_ae_3d")
    300
    """

    name: str
    n_train: int
    n_valid: int
    n_test: int
    _epochs: MappingProxyType = field(repr=False, compare=False)
    _repeats: MappingProxyType = field(repr=False, compare=False)
    _steps: MappingProxyType = field(repr=False, compare=False)

    @classmethod
    def named(cls, name: str) -> "RunMode":
        """Return the run mode called ``name`` (``"full"`` or ``"quick"``)."""
        if name not in VALID_MODES:
            raise ValueError(
                f"Unknown run mode {name!r}: valid modes are {', '.join(map(repr, VALID_MODES))}. "
                f"Set the environment variable {ENV_VAR} to one of them, or leave it unset "
                f"for {DEFAULT_MODE!r}."
            )
        n_train, n_valid, n_test = _DATA_SIZES[name]
        index = VALID_MODES.index(name)
        epochs = MappingProxyType({key: value[index] for key, value in _EPOCHS.items()})
        repeats = MappingProxyType({key: value[index] for key, value in _REPEATS.items()})
        steps = MappingProxyType({key: value[index] for key, value in _STEPS.items()})
        return cls(name, n_train, n_valid, n_test, epochs, repeats, steps)

    @property
    def is_quick(self) -> bool:
        """True in quick mode (small data, few epochs)."""
        return self.name == "quick"

    def epochs(self, experiment: str) -> int:
        """Number of training epochs for ``experiment`` in this mode.

        >>> RunMode.named("full").epochs("linear_ae_fashion")
        15
        """
        return _look_up(self._epochs, experiment, "epoch budget", "_EPOCHS")

    def repeats(self, experiment: str) -> int:
        """How many seeds ``experiment`` is repeated with, to measure its spread.

        >>> RunMode.named("full").repeats("pretraining")
        3
        """
        return _look_up(self._repeats, experiment, "repeat count", "_REPEATS")

    def steps(self, experiment: str) -> int:
        """Number of gradient steps for ``experiment`` in this mode.

        >>> RunMode.named("quick").steps("pretraining_classifier")
        150
        """
        return _look_up(self._steps, experiment, "step budget", "_STEPS")

    def __str__(self) -> str:
        text = (
            f"Run mode {self.name!r}: {self.n_train:,} training, {self.n_valid:,} validation "
            f"and {self.n_test:,} test images"
        )
        if self.is_quick:
            text += (
                ".\nQuick mode trains on little data for a short time: the numbers below are "
                "not the book's, and some conclusions of the text may not show in them (each "
                "checked claim says so). Set GENLIB_MODE=full for the book's results."
            )
        return text


def _look_up(table, experiment, what, table_name):
    try:
        return table[experiment]
    except KeyError:
        known = ", ".join(sorted(table))
        raise KeyError(
            f"No {what} for experiment {experiment!r}; known experiments: {known}. "
            f"Add it to genlib/modes.py ({table_name})."
        ) from None


def current_mode() -> RunMode:
    """The run mode selected by ``GENLIB_MODE`` (default ``"full"``).

    Raises a ``ValueError`` listing the valid values when the variable holds anything else.

    Examples
    --------
    >>> run = current_mode()
    >>> run.name in ("full", "quick")
    True
    >>> epochs = run.epochs("linear_ae_3d")
    """
    value = os.environ.get(ENV_VAR, DEFAULT_MODE).strip()
    if value == "":
        value = DEFAULT_MODE
    return RunMode.named(value)
