"""Measure flow matching against chapter 8's DDPM at 1-32 network calls (chapter 9's seeds).

    python tools/flow_recipes.py --model flow --seed 7 --threads 1
    python tools/flow_recipes.py --model ddpm --seed 7 --threads 1
    python tools/flow_recipes.py --model ddpm --seed 42 --pretrained   # the shipped DDPM

Each run trains one network with its chapter's full-mode call, at the same budget (chapter
8's U-Net, filters (16, 32, 64), 6,000 steps of 32 images, Adam 2e-3 with warm-up, cosine
decay and an average of the weights): ``--model flow`` chapter 9's flow-matching model
(``genlib.flow``), ``--model ddpm`` chapter 8's diffusion model (``--pretrained`` loads the
DDPM that ships with genlib instead, trained by ``tools/train_pretrained.py`` with seed
42). Then, for each number of network calls in 1, 2, 4, 8, 16, 32, it samples 1,000 images
(seed 1) with each sampler (flow: Euler, and Heun with half as many steps; DDPM: DDIM with
η = 0 and evenly spaced steps, and chapter 8's sampler, η = 1 with spacing 0.5) and
measures them as chapter 9 does: the Fréchet distance to 1,000 test images drawn with seed
0, and the classes covered. One JSON line per sampler and count is appended to
``genlib/recorded/flow_recipes.jsonl``, named ``SAMPLER-CALLS`` (e.g. ``euler-8``);
chapter 9 reads them (``genlib.results.recorded_runs("flow_recipes")``). Full-mode data;
nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `from tools.recording import ...`
    sys.path.insert(0, str(ROOT))

from tools.recording import save_run, start_run  # noqa: E402

#: Chapter 9's measurement: this many samples against as many test images.
N_IMAGES = 1000
#: The numbers of network calls measured.
CALLS = (1, 2, 4, 8, 16, 32)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("flow", "ddpm"), required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pretrained", action="store_true",
                        help="(ddpm, seed 42) measure the shipped DDPM, do not train")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads (0: TensorFlow's default, every core)")
    parser.add_argument("--no-save", action="store_true", help="print, do not append")
    args = parser.parse_args(argv)
    if args.pretrained and (args.model != "ddpm" or args.seed != 42):
        parser.error("--pretrained measures the shipped DDPM: use it with --model ddpm "
                     "--seed 42")
    return args


def samplers(model_kind):
    """(name, network calls → sampling keyword arguments or None if impossible)."""
    if model_kind == "flow":
        return [("euler", lambda calls: {"steps": calls, "method": "euler"}),
                ("heun", lambda calls: ({"steps": calls // 2, "method": "heun"}
                                        if calls >= 2 else None))]
    return [("ddim", lambda calls: {"steps": calls, "eta": 0.0, "spacing": 1.0}),
            ("ddpm-sampler", lambda calls: {"steps": calls, "eta": 1.0, "spacing": 0.5})]


def train(args, data):
    """The trained model and its training seconds, with its chapter's full-mode call."""
    import genlib
    from genlib import pretrained
    from genlib.diffusion import (
        DiffusionModel,
        build_noise_predictor,
        cosine_schedule,
        fit_diffusion,
        to_diffusion_range,
    )
    from genlib.flow import FlowMatchingModel, build_velocity_unet, fit_flow

    run = genlib.current_mode()
    x = to_diffusion_range(data.x_train)
    budget = {"epochs": run.epochs("ddpm"), "steps_per_epoch": run.steps("ddpm_epoch"),
              "batch_size": 32, "learning_rate": 2e-3, "seed": args.seed}
    if args.model == "flow":
        model = FlowMatchingModel(build_velocity_unet(filters=(16, 32, 64)), seed=args.seed)
        return model, fit_flow(model, x, **budget).seconds
    if args.pretrained:
        return pretrained.load("ddpm"), pretrained.provenance("ddpm")["training_seconds"]
    model = DiffusionModel(build_noise_predictor(filters=(16, 32, 64)), cosine_schedule(1000),
                           min_snr_gamma=5.0, seed=args.seed)
    return model, fit_diffusion(model, x, **budget).seconds


def main(argv=None) -> int:
    args = parse(argv)
    data = start_run(seed=args.seed, threads=args.threads)
    import numpy as np

    from genlib import frechet

    model, seconds = train(args, data)
    rng = np.random.default_rng(0)
    test = data.x_test[np.sort(rng.choice(len(data.x_test), N_IMAGES, replace=False))]
    reference = frechet.FrechetReference(test)
    for sampler, options in samplers(args.model):
        for calls in CALLS:
            kwargs = options(calls)
            if kwargs is None:
                continue
            images = model.sample(N_IMAGES, seed=1, **kwargs)
            record = {
                "name": f"{sampler}-{calls}",
                "model": args.model,
                "sampler": sampler,
                "calls": calls,
                "options": {**vars(args), **kwargs},
                "frechet": round(reference.distance(images), 2),
                "classes_covered": frechet.class_coverage(images).n_covered,
                "train_seconds": round(seconds, 1),
            }
            save_run(record, "flow_recipes", save=not args.no_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
