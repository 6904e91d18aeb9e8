"""What the ablation scripts share: how a run starts, and how its measurements are kept.

``tools/gan_recipes.py``, ``tools/ddpm_recipes.py`` and ``tools/flow_recipes.py`` each train
one variant of a chapter's recipe and append one JSON line to ``genlib/recorded/NAME.jsonl``,
which genlib ships and ``genlib.results.recorded_runs`` reads back as a table for the
chapter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDED_DIR = ROOT / "genlib" / "recorded"


def start_run(*, seed: int, threads: int = 0):
    """Full mode, quiet TensorFlow, ``threads`` threads (0: every core), the seed; the data.

    Call it before anything imports TensorFlow (it sets TensorFlow's environment first).
    """
    os.environ.setdefault("GENLIB_MODE", "full")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow's first import
    import tensorflow as tf

    import genlib

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    genlib.set_random_seed(seed)
    return genlib.load_fashion_mnist()


def save_run(record: dict, name: str, *, save: bool = True) -> str:
    """Add the machine and the date to ``record``, print it as one JSON line, and append
    that line to ``genlib/recorded/NAME.jsonl`` (unless ``save`` is false); return the line.
    """
    from tools.benchmark import machine  # the description every record of the course uses

    info = machine()
    date = info.pop("date")
    record = {**record, "machine": info, "date": date}
    line = json.dumps(record, ensure_ascii=False)
    print(line)
    if save:
        with (RECORDED_DIR / f"{name}.jsonl").open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
    return line
