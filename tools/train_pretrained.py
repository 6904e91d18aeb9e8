"""Train the models that ship with genlib (``genlib.pretrained``), with their chapter's calls.

Chapter 8 compares its diffusion model with chapter 6's VAE and chapter 7's two GANs, and
chapter 9 its flow-matching model with all four. They load them (``genlib.pretrained.load``)
instead of retraining them, which would repeat minutes of training that teach nothing new.
This script is how they were made: each model is built by ``genlib.pretrained.build`` and
trained, from ``genlib.set_random_seed(42)``, with the very call its chapter makes in full
mode (the functions below; chapter 7's cells for the GANs, its comparison cell for the VAE,
chapter 8's training cell for the DDPM). It writes, per model, into ``genlib/weights/``:

- ``NAME.weights.h5``: the weights of what sampling needs (a GAN's generator, the VAE, the
  diffusion model's network);
- ``NAME.json``: provenance: the training call, seed, epochs, steps, batch size, training
  seconds, the Fréchet distance and class coverage of 10,000 samples (seed 1) against the
  test set, the machine, library versions, the commit, and the weights' SHA-256.

Usage (from the repository root)::

    python tools/train_pretrained.py                       # every model (about 5 minutes)
    python tools/train_pretrained.py dcgan                 # one model
    python tools/train_pretrained.py --output-dir /tmp/p   # a trial run, nothing replaced
    python tools/train_pretrained.py --mode quick --output-dir /tmp/p   # the script tried out

Run it on an otherwise idle machine: the training seconds it records are printed by
chapter 8 next to the diffusion model's own.
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
import numpy as np  # noqa: E402

import genlib  # noqa: E402  (first: it quiets TensorFlow)
from genlib import frechet, pretrained  # noqa: E402
from genlib.diffusion import fit_diffusion, to_diffusion_range  # noqa: E402
from genlib.gan import fit_gan, to_gan_range  # noqa: E402
from genlib.modes import RunMode  # noqa: E402
from genlib.training import fit_autoencoder  # noqa: E402


def train_vae(vae, data, run):
    """Chapter 7's comparison VAE (chapter 6's architecture, fewer epochs)."""
    return fit_autoencoder(vae, data.x_train, data.x_valid,
                           epochs=run.epochs("vae_comparison"), batch_size=128,
                           learning_rate=3e-3)


def train_dense_gan(gan, data, run):
    """Chapter 7's dense GAN."""
    return fit_gan(gan, to_gan_range(data.x_train), epochs=run.epochs("dense_gan"),
                   steps_per_epoch=run.steps("gan_epoch"))


def train_dcgan(gan, data, run):
    """Chapter 7's DCGAN, with the recipe of its ablation."""
    return fit_gan(gan, to_gan_range(data.x_train), epochs=run.epochs("dcgan"),
                   steps_per_epoch=run.steps("gan_epoch"), batch_size=32,
                   generator_learning_rate=4e-4)


def train_ddpm(model, data, run):
    """Chapter 8's diffusion model."""
    return fit_diffusion(model, to_diffusion_range(data.x_train), epochs=run.epochs("ddpm"),
                         steps_per_epoch=run.steps("ddpm_epoch"), batch_size=32,
                         learning_rate=2e-3)


TRAINING = {"vae": train_vae, "dense_gan": train_dense_gan, "dcgan": train_dcgan,
            "ddpm": train_ddpm}
#: The chapter each model comes from (chapter 7's comparison trains the VAE).
CHAPTERS = {"vae": "07_generative_adversarial_networks",
            "dense_gan": "07_generative_adversarial_networks",
            "dcgan": "07_generative_adversarial_networks", "ddpm": "08_diffusion_models"}
#: Samples measured per model: the diffusion model's 50 steps per image make 10,000 slow,
#: so it is measured on chapter 8's comparison count.
FRECHET_IMAGES = {"ddpm": 2000}
SEED = 42


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"models to train (default: all of {', '.join(TRAINING)})")
    parser.add_argument("--output-dir", type=Path, default=pretrained.WEIGHTS_DIR,
                        help="where to write the files (default: genlib's shipped copies)")
    parser.add_argument("--mode", choices=("full", "quick"), default="full",
                        help="the run mode whose epochs to train (default full, what ships; "
                             "quick only tries the script out)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(TRAINING))
    if unknown:  # (argparse's choices= rejects an empty list of names)
        parser.error(f"no shipped model is called {', '.join(unknown)}; "
                     f"choose from {', '.join(TRAINING)}")
    return args


def commit() -> str:
    """The repository's commit, with ``+changes`` when genlib's or the tools' code differs."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True,
                              text=True, check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    # The shipped files themselves change as the script runs: they do not count.
    changed = git("status", "--porcelain", "--", "genlib", "tools", ":!genlib/weights")
    return head + ("+changes" if changed else "")


def train_one(name: str, data, run, output_dir: Path, test_set) -> dict:
    genlib.set_random_seed(SEED)
    model = pretrained.build(name)
    result = TRAINING[name](model, data, run)
    weights_path = output_dir / pretrained.weights_file(name).name
    # A fresh copy without the optimizer's state, which save_weights would store too.
    shipped = pretrained.build(name)
    pretrained.weighted_part(shipped).set_weights(pretrained.weighted_part(model).get_weights())
    pretrained.weighted_part(shipped).save_weights(weights_path)
    n_images = min(FRECHET_IMAGES.get(name, frechet.DEFAULT_N_IMAGES), len(data.x_test))
    images = model.sample(n_images, seed=1)
    reference = test_set if n_images == len(data.x_test) else frechet.FrechetReference(
        data.x_test[np.sort(np.random.default_rng(0).choice(len(data.x_test), n_images,
                                                            replace=False))])
    from tools.benchmark import machine  # the description every record of the course uses

    info = machine()

    record = {
        "name": name,
        "description": pretrained.MODELS[name][1],
        "chapter": CHAPTERS[name],
        "architecture": inspect.getsource(pretrained.MODELS[name][0]).strip(),
        "training": inspect.getsource(TRAINING[name]).strip(),
        "mode": run.name,
        "seed": SEED,
        "epochs": len(next(iter(result.history.history.values()))),
        "training_seconds": round(result.seconds, 1),
        "n_parameters": int(pretrained.weighted_part(model).count_params()),
        "frechet": round(reference.distance(images), 2),
        "classes_covered": frechet.class_coverage(images).n_covered,
        "frechet_images": n_images,
        "weights_file": weights_path.name,
        "weights_sha256": pretrained.sha256(weights_path),
        "date": info["date"],
        "commit": commit(),
        "machine": {"cpus": info["cpus"], "processor": info["processor"]},
        "versions": {"python": info["python"], "tensorflow": info["tensorflow"],
                     "keras": info["keras"], "numpy": np.__version__},
    }
    record_path = output_dir / f"{name}.json"
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"{name}: {result.seconds:.0f} s of training, Fréchet {record['frechet']} "
          f"({record['classes_covered']} classes); wrote {weights_path} "
          f"({weights_path.stat().st_size / 1e6:.2f} MB) and {record_path}", flush=True)
    return record


def main(argv=None) -> int:
    args = parse_args(argv)
    run = RunMode.named(args.mode)
    data = genlib.load_fashion_mnist(run)
    test_set = frechet.FrechetReference(data.x_test)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name in args.names or TRAINING:
        train_one(name, data, run, args.output_dir, test_set)
    print(f"Done in {time.perf_counter() - start:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
