"""Record the numbers a chapter measures, and read the measurements genlib ships.

A chapter prints its results for the reader and also passes the key ones to
:func:`record_result`. When the environment variable ``GENLIB_RESULTS_FILE`` names a file
(``tools/benchmark.py`` sets it), each result is appended to it as one JSON line; otherwise
nothing is written. The benchmark then compares the results with the course's targets.

Some experiments cost far more than a chapter's budget (an ablation: many variants, each
trained with several seeds). A script of the repository runs them (``tools/gan_recipes.py``,
``tools/ddpm_recipes.py``)
and appends one JSON line per run to ``genlib/recorded/NAME.jsonl``, which is installed with
the package; :func:`recorded_runs` reads it, so that a chapter prints the table from the
measurements themselves, with their machine and date.
"""

from __future__ import annotations

import json
import math
import os
from importlib import resources

RECORDED = ("gan_recipes", "ddpm_recipes", "flow_recipes")

ENV_VAR = "GENLIB_RESULTS_FILE"


def record_result(name: str, value: float) -> float:
    """Record ``value`` under ``name`` (e.g. ``"stacked_ae.val_mse"``) and return it.

    >>> record_result("example.metric", 0.5)
    0.5
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"the result {name!r} is not a finite number: {value}")
    path = os.environ.get(ENV_VAR)
    if path:
        from genlib.modes import current_mode

        with open(path, "a", encoding="utf-8") as stream:
            stream.write(
                json.dumps({"name": name, "value": value, "mode": current_mode().name}) + "\n"
            )
    return value


def recorded_runs(name: str):
    """The runs recorded by one of the repository's measurement scripts, as a table.

    Parameters
    ----------
    name : str
        The measurement, one of :data:`RECORDED`: ``"gan_recipes"`` (chapter 7's DCGAN
        recipes, recorded by ``tools/gan_recipes.py``) or ``"ddpm_recipes"`` (chapter 8's
        DDPM recipes, ``tools/ddpm_recipes.py``).

    Returns
    -------
    pandas.DataFrame
        One row per run, in the order they were recorded: the script's measurements (e.g.
        ``frechet``, ``train_seconds``), its options flattened into columns (e.g. ``seed``,
        ``batch_size``), the machine (``cpus``, ``tensorflow``, ``keras``) and ``date``.

    Examples
    --------
    >>> runs = recorded_runs("gan_recipes")
    >>> {"name", "seed", "frechet", "classes_covered", "train_seconds"} <= set(runs.columns)
    True
    """
    import pandas as pd

    if name not in RECORDED:
        raise ValueError(f"no recorded measurement is called {name!r}; genlib ships "
                         f"{', '.join(map(repr, RECORDED))}")
    text = (resources.files("genlib") / "recorded" / f"{name}.jsonl").read_text("utf-8")
    rows = []
    for record in map(json.loads, text.splitlines()):
        options = {key: value for key, value in record.pop("options").items()
                   if key not in record}
        machine = record.pop("machine", {})
        rows.append({**record, **options, **machine})
    return pd.DataFrame(rows)


def summarize_runs(runs, names, **extra):
    """One row per recipe of a recorded measurement: its seeds and the spread over them.

    Parameters
    ----------
    runs : pandas.DataFrame
        What :func:`recorded_runs` returns.
    names : iterable of str
        The recipes to keep, in the order of the rows (e.g. a dict of descriptions).
    **extra : (column, aggregation)
        More columns, as pandas' named aggregations, e.g.
        ``recall=("recall", "mean")``.

    Returns
    -------
    pandas.DataFrame
        Indexed by recipe: ``seeds`` (runs), ``frechet`` (mean), ``spread`` (its standard
        deviation over the seeds, NaN for one run), ``fewest`` and ``most`` (classes
        covered, over the seeds), and the ``extra`` columns.

    Examples
    --------
    >>> runs = recorded_runs("ddpm_recipes")
    >>> summary = summarize_runs(runs, ["base", "b32-6000"])
    >>> list(summary.index), list(summary.columns)
    (['base', 'b32-6000'], ['seeds', 'frechet', 'spread', 'fewest', 'most'])
    """
    return (runs.groupby("name")
            .agg(seeds=("seed", "size"), frechet=("frechet", "mean"),
                 spread=("frechet", "std"), fewest=("classes_covered", "min"),
                 most=("classes_covered", "max"), **extra)
            .loc[list(names)])


def recorded_distances(runs, name):
    """The Fréchet distances of one recipe's runs, ordered by seed (for ``claims.beats``).

    >>> runs = recorded_runs("ddpm_recipes")
    >>> len(recorded_distances(runs, "base")) == int((runs.name == "base").sum())
    True
    """
    return runs[runs.name == name].sort_values("seed").frechet.to_numpy()
