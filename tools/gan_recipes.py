"""Measure variants of chapter 7's GAN recipes at the chapter's budget (issue 22's ablations).

    python tools/gan_recipes.py --name base
    python tools/gan_recipes.py --name d-batchnorm --d-norm batch --seed 7
    python tools/gan_recipes.py --name hinge-sn --loss hinge --d-norm spectral --dropout 0
    # chapter 7's dense GAN (batches of 128, 3,000 steps, no dropout), its generator faster:
    python tools/gan_recipes.py --name dense-lrg4 --networks dense --steps 3000 --dropout 0 \
        --lr-g 4e-4
    # chapter 7's recipe; --threads 1 lets two runs share a two-core machine:
    python tools/gan_recipes.py --name bn-lrg4-b32-nodrop --d-norm batch --dropout 0 \
        --lr-g 4e-4 --batch-size 32 --steps 8000 --threads 1
    # chapter 7's conditional GAN exercise (4,000 steps of 32), with an auxiliary classifier:
    python tools/gan_recipes.py --name conditional-aux1 --networks conditional \
        --batch-size 32 --lr-g 4e-4 --steps 4000 --class-loss 1 --threads 1

Each run trains chapter 7's DCGAN networks (``genlib.gan``: 100 codings, generator filters
(64, 32), discriminator filters (32, 64)); the defaults are the tutorials' recipe the
chapter started from (batches of 128, both networks Adam(2e-4, β₁ = 0.5), dropout 0.3 in
the discriminator, 2,000 steps), and each option changes one thing. Then 10,000 samples
from fixed codings are measured against the test set as chapter 7 does (``--networks dense``
trains the dense GAN's networks instead, for the remedies of its collapse): the Fréchet
distance, the classes covered, the smallest class share, and precision and recall. One JSON
line per run is appended to ``genlib/recorded/gan_recipes.jsonl`` (with the machine, the
training seconds and the options); chapter 7 prints its table, with spreads over seeds,
from that file (``genlib.results.recorded_runs``). Full-mode data; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `from tools.recording import ...`
    sys.path.insert(0, str(ROOT))

from tools.recording import save_run, start_run  # noqa: E402


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
    parser.add_argument("--g-filters", default="64,32",
                        help="the generator's two transposed convolutions' filters")
    parser.add_argument("--g-kernel", type=int, default=5,
                        help="their kernel size (4: a third fewer multiply-adds than 5)")
    parser.add_argument("--d-filters", default="32,64", help="the discriminator's filters")
    parser.add_argument("--g-norm", choices=("none", "batch"), default="none",
                        help="normalization of the dense generator's hidden layers")
    parser.add_argument("--d-norm", choices=("none", "batch", "spectral"), default="none",
                        help="normalization of the discriminator's hidden layers (for the "
                        "dense one: batch only)")
    parser.add_argument("--loss", choices=("bce", "hinge"), default="bce",
                        help="non-saturating cross-entropy, or the hinge loss")
    parser.add_argument("--r1", type=float, default=0.0,
                        help="weight γ of the R1 penalty, γ/2·E‖∇D(x)‖² on real images")
    parser.add_argument("--instance-noise", type=float, default=0.0,
                        help="standard deviation of the noise added to every image the "
                             "discriminator sees (genlib.gan.GAN's instance_noise)")
    parser.add_argument("--label-smoothing", type=float, default=0.0,
                        help="the target for real images is 1 minus this "
                             "(genlib.gan.GAN's label_smoothing)")
    parser.add_argument("--minibatch-stddev", action="store_true",
                        help="the discriminator sees the batch's standard deviation "
                             "(the builders' minibatch_stddev=True)")
    parser.add_argument("--networks", choices=("dcgan", "dense", "conditional"),
                        default="dcgan",
                        help="chapter 7's DCGAN networks, or its dense GAN's (30 codings, "
                             "hidden layers 100-150 and 150-100; --d-filters, --g-filters, "
                             "--g-kernel and --d-norm do not apply), or its conditional "
                             "GAN's (the exercise's: a projection discriminator, "
                             "batch-normalized, no dropout; --d-norm and --dropout do not "
                             "apply)")
    parser.add_argument("--class-loss", type=float, default=0.0,
                        help="with --networks conditional: the weight of an auxiliary "
                             "classifier's loss (genlib.gan.AuxiliaryClassifierGAN; 0: a "
                             "plain conditional GAN)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads (0: TensorFlow's default, every core)")
    parser.add_argument("--no-save", action="store_true", help="print, do not append")
    args = parser.parse_args(argv)
    if args.networks == "dense" and args.d_norm == "spectral":
        parser.error("--d-norm spectral is for the convolutional discriminator; the dense "
                     "one takes --d-norm batch")
    if args.minibatch_stddev and args.d_norm == "spectral":
        parser.error("--minibatch-stddev is not available with --d-norm spectral")
    if args.networks == "conditional" and (args.loss != "bce" or args.r1 or args.ema
                                           or args.minibatch_stddev):
        parser.error("--networks conditional trains with the chapter's losses only: no "
                     "--loss, --r1, --ema or --minibatch-stddev")
    if args.g_norm != "none" and args.networks != "dense":
        parser.error("--g-norm applies to the dense generator: add --networks dense")
    if args.class_loss and args.networks != "conditional":
        parser.error("--class-loss needs --networks conditional")
    return args


def spectral_discriminator(keras, filters, dropout):
    """The DCGAN discriminator with spectral normalization of its convolutions."""
    layers = [keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1))]
    for n_filters in filters:
        convolution = keras.layers.Conv2D(n_filters, 5, strides=2, padding="same")
        layers += [keras.layers.SpectralNormalization(convolution),
                   keras.layers.LeakyReLU(0.2), keras.layers.Dropout(dropout)]
    layers += [keras.layers.Flatten(), keras.layers.Dense(1)]
    return keras.Sequential(layers, name="dcgan_discriminator")


def variant_gan(base, keras, *, loss, r1):
    """``genlib.gan.GAN`` with the hinge loss and/or an R1 penalty (Mescheder et al. 2018)."""
    if loss == "bce" and not r1:
        return base
    import tensorflow as tf
    from keras import ops

    class VariantGAN(base):
        def discriminator_loss(self, real_logits, fake_logits):
            if loss == "bce":
                return super().discriminator_loss(real_logits, fake_logits)
            return (ops.mean(ops.relu(1.0 - real_logits))
                    + ops.mean(ops.relu(1.0 + fake_logits)))

        def generator_loss(self, fake_logits):
            if loss == "bce":
                return super().generator_loss(fake_logits)
            return -ops.mean(fake_logits)

        def discriminator_step(self, real_images, real_labels=None):
            if not r1:
                return super().discriminator_step(real_images, real_labels)
            fake_images, _ = self.fakes(ops.shape(real_images)[0])
            with tf.GradientTape() as tape:
                with tf.GradientTape() as inner:
                    inner.watch(real_images)
                    real_logits = self.judge(real_images)
                    total = ops.sum(real_logits)  # inside the tape, or no gradient
                slopes = inner.gradient(total, real_images)
                penalty = ops.mean(ops.sum(ops.square(slopes), axis=(1, 2)))
                fake_logits = self.judge(fake_images)
                d_loss = (self.discriminator_loss(real_logits, fake_logits)
                          + 0.5 * r1 * penalty)
            weights = self.discriminator.trainable_variables
            self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, weights), weights))
            return d_loss

    return VariantGAN


def recompute_batch_statistics(keras, gan, n_images=4096):
    """Set the generator's batch-normalization statistics to those of its averaged weights.

    The moving averages were collected with the live weights, not with their average (which
    is why a plain weight average makes the samples worse): with momentum 0, one large
    batch in training mode replaces each layer's statistics by that batch's.
    """
    layers = [layer for layer in gan.generator.layers
              if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    gan.generator(gan.codings(n_images), training=True)
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum


def main(argv=None) -> int:
    args = parse(argv)
    data = start_run(seed=args.seed, threads=args.threads)
    import keras
    import numpy as np

    from genlib import frechet
    from genlib.gan import (
        GAN,
        AuxiliaryClassifierGAN,
        build_conditional_discriminator,
        build_conditional_generator,
        build_dcgan_discriminator,
        build_dcgan_generator,
        build_dense_discriminator,
        build_dense_generator,
        gan_dataset,
        to_gan_range,
    )
    from genlib.precision_recall import precision_recall

    g_filters = tuple(int(f) for f in args.g_filters.split(","))
    d_filters = tuple(int(f) for f in args.d_filters.split(","))
    generator = build_dcgan_generator(coding_size=100, filters=g_filters,
                                      kernel_size=args.g_kernel)
    if args.networks == "dense":
        generator = build_dense_generator(coding_size=30,
                                          batch_norm=args.g_norm == "batch")
        discriminator = build_dense_discriminator(dropout=args.dropout,
                                                  batch_norm=args.d_norm == "batch",
                                                  minibatch_stddev=args.minibatch_stddev)
    elif args.d_norm == "spectral":
        discriminator = spectral_discriminator(keras, d_filters, args.dropout)
    else:
        discriminator = build_dcgan_discriminator(filters=d_filters, dropout=args.dropout,
                                                  batch_norm=args.d_norm == "batch",
                                                  minibatch_stddev=args.minibatch_stddev)
    options = dict(seed=args.seed, instance_noise=args.instance_noise,
                   label_smoothing=args.label_smoothing)
    labels = None
    if args.networks == "conditional":
        generator = build_conditional_generator(100, filters=g_filters,
                                                kernel_size=args.g_kernel)
        discriminator = build_conditional_discriminator(filters=d_filters,
                                                        class_head=args.class_loss > 0)
        labels = data.y_train
        if args.class_loss:
            gan = AuxiliaryClassifierGAN(generator, discriminator, n_classes=10,
                                         class_loss_weight=args.class_loss, **options)
        else:
            gan = GAN(generator, discriminator, n_classes=10, **options)
    else:
        gan_class = variant_gan(GAN, keras, loss=args.loss, r1=args.r1)
        gan = gan_class(generator, discriminator, **options)
    gan.compile(keras.optimizers.Adam(args.lr_d, beta_1=args.beta_1),
                keras.optimizers.Adam(args.lr_g, beta_1=args.beta_1, use_ema=args.ema > 0,
                                      ema_momentum=args.ema or 0.99))
    dataset = gan_dataset(to_gan_range(data.x_train), labels, batch_size=args.batch_size,
                          seed=args.seed).repeat()
    start = time.perf_counter()
    gan.fit(dataset, epochs=1, steps_per_epoch=args.steps, verbose=0)
    seconds = time.perf_counter() - start
    if args.ema:
        gan.g_optimizer.finalize_variable_values(gan.generator.trainable_variables)
        recompute_batch_statistics(keras, gan)
    extra = {}
    if labels is not None:
        # As chapter 7's exercise measures it: 100 images per requested class (seed 2),
        # and how often the classifier finds the class; the rest on 1,000 per class.
        requested = np.repeat(np.arange(10), 100)
        images = gan.sample(1000, labels=requested, seed=2)
        per_class = frechet.share_per_class(frechet.predict_classes(images), requested)
        extra = {"obeyed": round(float(per_class.mean()), 4),
                 "obeyed_worst": round(float(per_class.min()), 2),
                 "obeyed_per_class": [round(float(share), 2) for share in per_class]}
    images = gan.sample(len(data.x_test), seed=1, labels=None if labels is None else
                        np.repeat(np.arange(10), len(data.x_test) // 10))
    coverage = frechet.class_coverage(images)
    quality = precision_recall(data.x_test, images)
    record = {
        "name": args.name, "options": vars(args),
        "frechet": round(frechet.FrechetReference(data.x_test).distance(images), 2),
        "classes_covered": coverage.n_covered,
        "smallest_share": round(float(coverage.shares.min()), 4),
        "precision": round(quality.precision, 3), "recall": round(quality.recall, 3),
        "train_seconds": round(seconds, 1), **extra,
    }
    save_run(record, "gan_recipes", save=not args.no_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
