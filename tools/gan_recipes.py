"""Measure variants of chapter 7's DCGAN recipe at the chapter's budget (issue 22's ablation).

    python tools/gan_recipes.py --name base
    python tools/gan_recipes.py --name no-dropout --dropout 0 --seed 7
    python tools/gan_recipes.py --name ema --ema 0.99 --threads 1   # two runs side by side

Each run trains the chapter's DCGAN (``genlib.gan``: 100 codings, generator filters (64, 32),
discriminator filters (32, 64), batches of 128, Adam(2e-4, β₁ = 0.5), 2,000 steps) with one
change, then measures 10,000 samples from fixed codings against the test set as chapter 7
does: the Fréchet distance, the classes covered, the smallest class share, and precision and
recall. One JSON line per run is appended to ``benchmarks/gan-recipes.jsonl`` (with the
machine, the training seconds and the options), so that a table with spreads over seeds can
be made from the file. Full-mode data; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "benchmarks" / "gan-recipes.jsonl"


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="a label for the variant")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr-d", type=float, default=2e-4, help="discriminator's Adam rate")
    parser.add_argument("--lr-g", type=float, default=2e-4, help="generator's Adam rate")
    parser.add_argument("--beta-1", type=float, default=0.5)
    parser.add_argument("--dropout", type=float, default=0.3, help="discriminator dropout")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="momentum of an average of the generator's weights (0: none)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads (0: TensorFlow's default, every core)")
    parser.add_argument("--no-save", action="store_true", help="print, do not append")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    os.environ.setdefault("GENLIB_MODE", "full")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow's first import
    import keras
    import tensorflow as tf

    import genlib
    from genlib import frechet
    from genlib.gan import (
        GAN,
        build_dcgan_discriminator,
        build_dcgan_generator,
        gan_dataset,
        to_gan_range,
    )
    from genlib.precision_recall import precision_recall

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    genlib.set_random_seed(args.seed)
    data = genlib.load_fashion_mnist()
    gan = GAN(build_dcgan_generator(coding_size=100, filters=(64, 32)),
              build_dcgan_discriminator(filters=(32, 64), dropout=args.dropout),
              seed=args.seed)
    gan.compile(keras.optimizers.Adam(args.lr_d, beta_1=args.beta_1),
                keras.optimizers.Adam(args.lr_g, beta_1=args.beta_1, use_ema=args.ema > 0,
                                      ema_momentum=args.ema or 0.99))
    dataset = gan_dataset(to_gan_range(data.x_train), batch_size=args.batch_size,
                          seed=args.seed).repeat()
    start = time.perf_counter()
    gan.fit(dataset, epochs=1, steps_per_epoch=args.steps, verbose=0)
    seconds = time.perf_counter() - start
    if args.ema:
        gan.g_optimizer.finalize_variable_values(gan.generator.trainable_variables)
    images = gan.sample(len(data.x_test), seed=1)
    coverage = frechet.class_coverage(images)
    quality = precision_recall(data.x_test, images)
    record = {
        "name": args.name, "options": vars(args),
        "frechet": round(frechet.FrechetReference(data.x_test).distance(images), 2),
        "classes_covered": coverage.n_covered,
        "smallest_share": round(float(coverage.shares.min()), 4),
        "precision": round(quality.precision, 3), "recall": round(quality.recall, 3),
        "train_seconds": round(seconds, 1),
        "machine": {"cpus": os.cpu_count(), "tensorflow": tf.__version__,
                    "keras": keras.__version__},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    line = json.dumps(record, ensure_ascii=False)
    print(line)
    if not args.no_save:
        with OUTPUT.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
