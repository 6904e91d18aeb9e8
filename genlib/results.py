"""Record the numbers a chapter measures, for the repository's benchmark script.

A chapter prints its results for the reader and also passes the key ones to
:func:`record_result`. When the environment variable ``GENLIB_RESULTS_FILE`` names a file
(``tools/benchmark.py`` sets it), each result is appended to it as one JSON line; otherwise
nothing is written. The benchmark then compares the results with the course's targets.
"""

from __future__ import annotations

import json
import math
import os

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
