"""Trained models that ship with genlib, each with the record of how it was trained.

A later chapter often needs an earlier chapter's trained model: chapter 8 compares its
diffusion model with chapter 6's VAE and chapter 7's GANs, and chapter 9 its flow-matching
model with all four. Retraining them there would repeat minutes of training that teach
nothing new, so ``tools/train_pretrained.py`` trains them once, in full mode, with the calls
their chapter makes, and saves their weights in ``genlib/weights/`` next to a provenance
record (``NAME.json``: the training call, seed, epochs, training seconds, machine, versions,
commit, and the weights' SHA-256).
:func:`load` rebuilds the architecture with genlib's own builders and loads the weights;
:func:`provenance` returns the record, so that a chapter prints where a model comes from.

Only what sampling needs is shipped: for a GAN, the generator (the returned GAN's
discriminator is untrained); for the VAE, the whole model.

>>> from genlib import pretrained
>>> sorted(pretrained.MODELS)
['dcgan', 'ddpm', 'dense_gan', 'vae']
>>> pretrained.provenance("dcgan")["chapter"]
'07_generative_adversarial_networks'
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras

from genlib.diffusion import DiffusionModel, build_noise_predictor, cosine_schedule
from genlib.gan import (
    GAN,
    build_dcgan_discriminator,
    build_dcgan_generator,
    build_dense_discriminator,
    build_dense_generator,
)
from genlib.vae import VariationalAutoencoder

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def _vae():
    return VariationalAutoencoder(coding_size=10)


def _dense_gan():
    return GAN(build_dense_generator(coding_size=30), build_dense_discriminator(), seed=42)


def _dcgan():
    return GAN(build_dcgan_generator(coding_size=100, filters=(64, 32)),
               build_dcgan_discriminator(filters=(32, 64), batch_norm=True, dropout=0.0),
               seed=42)


def _ddpm():
    return DiffusionModel(build_noise_predictor(filters=(16, 32, 64)), cosine_schedule(1000),
                          sampling_eta=1.0, sampling_spacing=0.5, min_snr_gamma=5.0, seed=42)


#: The shipped models: name -> (a function building the untrained model, a description).
MODELS = {
    "vae": (_vae, "chapter 6's VAE, 10-D codings, as chapter 7 compares it"),
    "dense_gan": (_dense_gan, "chapter 7's dense GAN (30-D codings)"),
    "dcgan": (_dcgan, "chapter 7's DCGAN with the recipe of its ablation"),
    "ddpm": (_ddpm, "chapter 8's diffusion model, with its sampler (50 DDIM steps, "
                    "eta 1, spacing 0.5)"),
}


#: The shipped classifier that :mod:`genlib.frechet` measures with (its own builder).
CLASSIFIER = "fashion_classifier"
#: Every trained network whose weights ship with genlib.
SHIPPED = (*MODELS, CLASSIFIER)


def _check_name(name) -> str:
    if name not in SHIPPED:
        raise ValueError(f"genlib ships no trained model called {name!r}; it ships "
                         f"{', '.join(map(repr, SHIPPED))}")
    return name


def weights_file(name: str) -> Path:
    """The path of the weights a trained model is saved in (``genlib/weights/``).

    >>> weights_file("dcgan").name
    'dcgan.weights.h5'
    """
    return WEIGHTS_DIR / f"{_check_name(name)}.weights.h5"


def _record_file(name: str) -> Path:
    return WEIGHTS_DIR / f"{_check_name(name)}.json"


def sha256(path: Path) -> str:
    """The SHA-256 of a file, as hexadecimal digits (what a provenance record stores).

    >>> sha256(weights_file("vae")) == provenance("vae")["weights_sha256"]
    True
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def provenance(name: str) -> dict:
    """How the shipped model ``name`` was trained: the record written next to its weights.

    Parameters
    ----------
    name : str
        One of :data:`SHIPPED`: a model of :data:`MODELS`, or :data:`CLASSIFIER`.

    Examples
    --------
    >>> record = provenance("vae")
    >>> record["mode"], record["training_seconds"] > 0
    ('full', True)
    """
    path = _record_file(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"The provenance record {path} is missing: this installation of genlib is "
            f"incomplete. Reinstall genlib, or retrain with `{_retrain_command(name)}`.")
    return json.loads(path.read_text(encoding="utf-8"))


def _retrain_command(name: str) -> str:
    if name == CLASSIFIER:
        return "python tools/train_classifier.py --force"
    return f"python tools/train_pretrained.py {name}"


def verified_weights_file(name: str) -> Path:
    """The weights file of ``name``, after checking it against its provenance record.

    A missing file, a truncated one or a Git LFS pointer in its place is reported with
    what to do, instead of loading wrong weights.

    >>> verified_weights_file("dense_gan").is_file()
    True
    """
    path = weights_file(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"The weights {path} are missing: this installation of genlib is incomplete. "
            f"Reinstall genlib (`pip install --force-reinstall ...`), or retrain them "
            f"with `{_retrain_command(name)}`.")
    expected = provenance(name).get("weights_sha256")
    actual = sha256(path)
    if expected != actual:
        raise RuntimeError(
            f"The weights {path} do not match their provenance record (SHA-256 "
            f"{actual[:12]}…, expected {str(expected)[:12]}…): the file is corrupt, "
            f"truncated, or a Git LFS pointer. Reinstall genlib, or retrain with "
            f"`{_retrain_command(name)}`.")
    return path


def build(name: str) -> keras.Model:
    """The untrained model ``name``: the architecture its weights belong to.

    >>> build("dcgan").generator.count_params() == load("dcgan").generator.count_params()
    True
    """
    if _check_name(name) not in MODELS:
        raise ValueError(f"{name!r} is built by its own module (genlib.frechet's "
                         f"build_classifier); build() knows {', '.join(map(repr, MODELS))}")
    return MODELS[name][0]()


def weighted_part(model: keras.Model) -> keras.Model:
    """The part of a model whose weights ship: a GAN's generator, a diffusion model's
    network, else the whole model.

    >>> weighted_part(build("dcgan")).name, weighted_part(build("vae")) is not None
    ('dcgan_generator', True)
    """
    if isinstance(model, GAN):
        return model.generator
    return model.network if isinstance(model, DiffusionModel) else model


def load(name: str) -> keras.Model:
    """A trained model that ships with genlib, ready to sample from.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`: ``"vae"``, ``"dense_gan"``, ``"dcgan"`` or ``"ddpm"``.

    Examples
    --------
    >>> dcgan = load("dcgan")
    >>> dcgan.sample(2, seed=1).shape
    (2, 28, 28)
    """
    model = build(name)
    weighted_part(model).load_weights(verified_weights_file(name))
    return model
