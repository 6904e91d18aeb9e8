"""Measure variants of chapter 8's DDPM recipe at the chapter's budget (issue 22's ablation).

    python tools/ddpm_recipes.py --name base
    python tools/ddpm_recipes.py --name b32-4000 --batch-size 32 --steps 4000 --threads 1
    python tools/ddpm_recipes.py --name b32-6000 --batch-size 32 --steps 6000 --threads 1 \
        --samplers 0:1 1:1 0:0.5 1:0.5

Each run trains chapter 8's noise predictor (``genlib.diffusion.build_noise_predictor``,
filters (16, 32, 64)) with ``fit_diffusion``; the defaults are the chapter's recipe before
this ablation (batches of 64, 2,000 steps, Adam 2e-3 with warm-up and cosine decay, an
average of the weights with momentum 0.99, the cosine schedule with 1,000 steps, Min-SNR
weighting with γ = 5), and each option changes one thing. Then 2,000 images sampled with
50 DDIM steps (seed 1) are measured as chapter 8's comparison measures them: the Fréchet
distance to 2,000 test images drawn with seed 0, and the classes covered, once for each
sampler of ``--samplers`` (DDIM's η and the spacing of its steps; recorded as
``NAME-etaX-pY`` unless they are 0 and 1). One JSON line per run and sampler is appended
to ``genlib/recorded/ddpm_recipes.jsonl`` (with the machine, the training seconds and the
options); chapter 8 prints the table from that file
(``genlib.results.recorded_runs``). Full-mode data; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `from tools.recording import ...`
    sys.path.insert(0, str(ROOT))

from tools.recording import save_run, start_run  # noqa: E402

#: Chapter 8's measurement: this many samples against as many test images.
N_IMAGES = 2000


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="a label for the variant")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="Adam's peak rate")
    parser.add_argument("--ema", type=float, default=0.99,
                        help="momentum of the average of the weights (0: none)")
    parser.add_argument("--min-snr", type=float, default=5.0,
                        help="γ of the Min-SNR loss weights (0: unweighted)")
    parser.add_argument("--filters", default="16,32,64", help="the U-Net's filters")
    parser.add_argument("--sampling-steps", type=int, default=50, help="DDIM steps")
    parser.add_argument("--samplers", nargs="+", default=["0:1"], metavar="ETA:SPACING",
                        help="the DDIM samplers measured, one record each: η (0: "
                        "deterministic, 1: as much noise as the DDPM sampler) and the "
                        "spacing power of the steps (1: even)")
    parser.add_argument("--weights", help="also save the trained model's weights here")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads (0: TensorFlow's default, every core)")
    parser.add_argument("--no-save", action="store_true", help="print, do not append")
    args = parser.parse_args(argv)
    if args.steps % 100:
        parser.error(f"--steps must be a multiple of 100 (epochs of 100 steps), got {args.steps}")
    wrong = f"--samplers takes ETA:SPACING pairs such as 1:0.5, got {' '.join(args.samplers)}"
    try:
        args.samplers = [tuple(float(part) for part in sampler.split(":"))
                         for sampler in args.samplers]
    except ValueError:
        parser.error(wrong)
    if any(len(sampler) != 2 for sampler in args.samplers):
        parser.error(wrong)
    return args


def record_name(name, eta, spacing):
    """The recipe's name, with the sampler's η and spacing when they are not 0 and 1."""
    return (name + (f"-eta{eta:g}" if eta else "")
            + (f"-p{spacing:g}" if spacing != 1 else ""))


def main(argv=None) -> int:
    args = parse(argv)
    data = start_run(seed=args.seed, threads=args.threads)
    import numpy as np

    from genlib import frechet
    from genlib.diffusion import (
        DiffusionModel,
        build_noise_predictor,
        cosine_schedule,
        fit_diffusion,
        to_diffusion_range,
    )

    network = build_noise_predictor(filters=tuple(int(f) for f in args.filters.split(",")))
    model = DiffusionModel(network, cosine_schedule(1000), min_snr_gamma=args.min_snr or None,
                           sampling_steps=args.sampling_steps, seed=args.seed)
    # Epochs of 100 steps, as the chapter's; the schedule spans all of them.
    result = fit_diffusion(model, to_diffusion_range(data.x_train),
                           epochs=-(-args.steps // 100), steps_per_epoch=100,
                           batch_size=args.batch_size, learning_rate=args.learning_rate,
                           ema_momentum=args.ema or None, seed=args.seed)
    rng = np.random.default_rng(0)
    test = data.x_test[np.sort(rng.choice(len(data.x_test), N_IMAGES, replace=False))]
    if args.weights:
        model.save_weights(args.weights)
    reference = frechet.FrechetReference(test)
    for eta, spacing in args.samplers:  # the same network, sampled each way
        images = model.sample(N_IMAGES, eta=eta, spacing=spacing, seed=1)
        coverage = frechet.class_coverage(images)
        record = {
            "name": record_name(args.name, eta, spacing),
            "options": {**vars(args), "samplers": None, "eta": eta, "spacing": spacing},
            "frechet": round(reference.distance(images), 2),
            "classes_covered": coverage.n_covered,
            "smallest_share": round(float(coverage.shares.min()), 4),
            "parameters": int(network.count_params()),
            "train_seconds": round(result.seconds, 1),
        }
        save_run(record, "ddpm_recipes", save=not args.no_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
