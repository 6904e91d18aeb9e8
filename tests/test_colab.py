"""Every notebook runs as it would in Colab: from an empty folder, with genlib installed.

How a notebook is executed (genlib from a wheel of this repository, an empty working folder,
quick mode, any error fails) is in tests/colab_run.py. Each notebook is executed once per
test run: the book the tests build shows the same executed cells (conftest.py's
``book_html``), so CI executes each notebook once, not once here and once in the book.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.colab_run import NOTEBOOKS, ROOT, TF_LOG_NOISE, NotebookFailed

pytestmark = pytest.mark.slow

# TensorFlow 2.19 (Colab's) writes its XLA service's start-up lines and "Compiled cluster
# using XLA!" when a chapter first compiles with XLA (chapters 7 and 8 time it), long after
# genlib caught the import's: a known gap on the oldest versions only, which the pins' run
# does not excuse.
_OLDEST_TENSORFLOW = version("tensorflow").startswith("2.19.")
LATE_XLA_LINES = re.compile(r"absl::InitializeLog|XLA|StreamExecutor device"
                            if _OLDEST_TENSORFLOW else r"(?!)")


def test_the_wheel_holds_every_file_of_the_package(colab_runs):
    """What the repository's genlib/ has (code and data files), the installed package has."""
    def files(folder: Path) -> set[str]:
        return {str(path.relative_to(folder)) for path in folder.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}

    missing = files(ROOT / "genlib") - files(colab_runs.site / "genlib")
    assert not missing, (f"the wheel leaves out {sorted(missing)}: declare them as package data "
                         "in pyproject.toml ([tool.setuptools.package-data]), and make sure git "
                         "does not ignore them (.gitignore), since Colab installs from git")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_like_in_colab(path, colab_runs):
    try:
        notebook = colab_runs.executed(path.stem)
    except NotebookFailed as error:
        pytest.fail(f"{path.name} failed in a Colab-like environment:\n{error}", pytrace=False)
    # What the student sees under the cells: no TensorFlow start-up or log lines.
    noise = [line for cell in notebook.cells for output in cell.get("outputs", [])
             if output.output_type == "stream" for line in output.text.splitlines()
             if TF_LOG_NOISE.search(line) and not LATE_XLA_LINES.search(line)]
    assert not noise, f"TensorFlow's log lines under {path.name}'s cells: {noise[:3]}"
