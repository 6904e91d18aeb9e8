"""Train the Fashion-MNIST classifier whose features genlib's Fréchet distance uses.

The weights ship with genlib (``genlib/weights/``), so readers never run this script: it is
here so that anyone can see, and reproduce, how the yardstick of chapters 6–8 was made.

It trains :func:`genlib.frechet.build_classifier` on the 55,000 training images, keeps the
epoch with the best accuracy on the 5,000 validation images (the test set is looked at once,
at the end, to report the accuracy), and writes two files:

- ``fashion_classifier.weights.h5``: the weights (the architecture is built in code);
- ``fashion_classifier.json``: provenance: accuracies, epochs, seed, date, the SHA-256 of
  the data files and of the weights, library versions, and the real-vs-real baseline.

Usage (from the repository root)::

    python tools/train_classifier.py --output-dir /tmp/classifier   # a trial run
    python tools/train_classifier.py --force                        # replace the shipped one
    python tools/train_classifier.py --check                        # evaluate the shipped one

About ten minutes on two quiet CPU cores (twenty on a busy machine). Training is
deterministic for a given seed, machine and library versions (TensorFlow's op determinism
is switched on, and the initial weights are seeded).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import genlib  # noqa: E402  (first: it quiets TensorFlow)
from genlib import frechet, pretrained  # noqa: E402
from genlib.data import SHA256  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15, help="maximum epochs (default 15)")
    parser.add_argument("--patience", type=int, default=5,
                        help="stop after this many epochs without a better validation accuracy")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3,
                        help="peak learning rate of the warm-up + cosine schedule")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", type=Path, default=pretrained.WEIGHTS_DIR,
                        help="where to write the two files (default: genlib's shipped copy)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing files in --output-dir")
    parser.add_argument("--check", action="store_true",
                        help="only evaluate the shipped classifier on the test set")
    args = parser.parse_args(argv)
    for name in ("epochs", "patience", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def check_shipped(data) -> int:
    record = frechet.classifier_provenance()
    classes = frechet.predict_classes(data.x_test)
    accuracy = float(np.mean(classes == data.y_test))
    print(f"Shipped classifier: test accuracy {accuracy:.4f} "
          f"(recorded when trained: {record['test_accuracy']:.4f})")
    return 0 if abs(accuracy - record["test_accuracy"]) < 1e-3 else 1


class EpochLog(keras.callbacks.Callback):
    """One short line per epoch: enough to follow a ten-minute run."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        print(f"epoch {epoch + 1:2d}: {time.perf_counter() - self.start:5.1f} s, "
              f"loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f}, "
              f"validation accuracy {logs['val_accuracy']:.4f}", flush=True)


def train(args, data):
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    model = frechet.build_classifier(seed=args.seed)
    steps = args.epochs * math.ceil(len(data.x_train) / args.batch_size)
    # A short warm-up, then cosine decay to zero over the maximum number of epochs.
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps - steps // 20, warmup_target=args.learning_rate,
        warmup_steps=steps // 20)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                            patience=args.patience,
                                            restore_best_weights=True)
    history = model.fit(data.x_train[..., None], data.y_train, batch_size=args.batch_size,
                        epochs=args.epochs, validation_data=(data.x_valid[..., None], data.y_valid),
                        callbacks=[stopper, EpochLog()], verbose=0)
    return model, history.history


def main(argv=None) -> int:
    args = parse_args(argv)
    data = genlib.load_fashion_mnist("full")
    if args.check:
        return check_shipped(data)

    weights_path = args.output_dir / pretrained.weights_file(pretrained.CLASSIFIER).name
    record_path = args.output_dir / f"{pretrained.CLASSIFIER}.json"
    existing = [path for path in (weights_path, record_path) if path.exists()]
    if existing and not args.force:
        print(f"Refusing to overwrite {', '.join(map(str, existing))}: pass --force to replace "
              f"them, or --output-dir to write elsewhere.", file=sys.stderr)
        return 2
    args.output_dir.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    model, history = train(args, data)
    seconds = time.perf_counter() - start
    best = int(np.argmax(history["val_accuracy"]))
    valid_accuracy = float(history["val_accuracy"][best])
    _, test_accuracy = model.evaluate(data.x_test[..., None], data.y_test, verbose=0)
    print(f"Best epoch {best + 1} of {len(history['loss'])}: validation accuracy "
          f"{valid_accuracy:.4f}, test accuracy {test_accuracy:.4f} ({seconds / 60:.1f} min)")

    # A fresh copy without the optimizer's state, which save_weights would store too
    # (three times the size, and useless to anyone who only measures with the model).
    shipped = frechet.build_classifier()
    shipped.set_weights(model.get_weights())
    shipped.save_weights(weights_path)
    record = {
        "description": "Fashion-MNIST classifier whose penultimate-layer features genlib's "
                       "Frechet distance uses (genlib.frechet)",
        "weights_file": weights_path.name,
        "weights_sha256": pretrained.sha256(weights_path),
        "architecture": "genlib.frechet.build_classifier()",
        "feature_layer": frechet.FEATURE_LAYER,
        "n_features": frechet.N_FEATURES,
        "n_parameters": int(model.count_params()),
        "test_accuracy": round(float(test_accuracy), 4),
        "validation_accuracy": round(valid_accuracy, 4),
        "best_epoch": best + 1,
        "epochs_run": len(history["loss"]),
        "max_epochs": args.epochs,
        "patience": args.patience,
        "batch_size": args.batch_size,
        "optimizer": f"Adam, {args.learning_rate:g} peak, 5% warm-up then cosine decay",
        "seed": args.seed,
        "training_seconds": round(seconds, 1),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "data": {
            "name": "Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017)",
            "split": f"train {len(data.x_train)}, validation {len(data.x_valid)} "
                     f"(the last 5,000 training images), test {len(data.x_test)}",
            "sha256_decompressed": dict(SHA256),
        },
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__},
        "machine": f"{platform.machine()}, {platform.system()}",
    }

    # The real-vs-real baseline of these weights, as genlib.frechet.real_baseline computes
    # it with the shipped ones (chapters compute and print it themselves).
    features = frechet._features_and_probabilities(model)
    train_part, test_part = frechet._baseline_samples(data.x_train, data.x_test, None, 0)
    baseline = frechet.frechet_distance_from_features(
        frechet._forward(train_part, model=features)[0],
        frechet._forward(test_part, model=features)[0])
    record["real_baseline"] = {"n_images": len(test_part), "seed": 0, "value": round(baseline, 4)}
    print(f"Real-vs-real baseline (training vs test, {len(test_part):,} images each): "
          f"{baseline:.3f}")
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {weights_path} ({weights_path.stat().st_size / 1e6:.2f} MB) and {record_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
