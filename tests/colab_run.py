"""Execute the students' notebooks as Colab does, once per test run, for every test that needs it.

In Colab a student has the notebook and nothing else: no repository around it, genlib installed
by pip as a package. So a notebook is executed here (quick mode, top to bottom) by a fresh
kernel whose working folder is empty and which imports genlib from a wheel built from this
repository and installed with ``pip install --target``, never from the repository itself. A
cell added after the notebook's install cell checks that inside the kernel; the install cell
finds genlib and installs nothing (pip is pointed at no index, so an attempt fails at once).

:class:`ColabRuns` keeps each executed notebook in a folder that all pytest-xdist workers share,
behind one lock per notebook: tests/test_colab.py asks for every notebook, and the book the
tests build (``book_html`` in conftest.py) shows the same executed cells, so each notebook runs
once per test run, whichever test asks first.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import nbclient
import nbformat
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 600
INSTALL_MARKER = 'find_spec("genlib")'
#: TensorFlow's log lines: neither a student's notebook nor the book's pages show them.
TF_LOG_NOISE = re.compile(r"oneDNN|cuda|absl::|WARNING:tensorflow|I0000 |E0000 |retracing")

WHERE_IS_GENLIB = """\
# Added by tests/colab_run.py: genlib must come from the installed package.
import os, pathlib, genlib
_site = pathlib.Path({site!r}).resolve()
_genlib = pathlib.Path(genlib.__file__).resolve()
assert _genlib.is_relative_to(_site), f"genlib was imported from {{_genlib}}, not from {{_site}}"
assert not any(pathlib.Path.cwd().iterdir()), "the working folder is not empty"
"""


class NotebookFailed(Exception):
    """A notebook raised in a Colab-like kernel; the message holds the cell and traceback."""


@contextmanager
def locked(path: Path):
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def pip(command: list[str]) -> None:
    result = subprocess.run(command + ["--quiet", "--disable-pip-version-check"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:4])} failed:\n{result.stderr[-3000:]}")


def install_genlib(folder: Path) -> Path:
    """genlib installed from a wheel of this repository into ``folder/site``, as pip does.

    The wheel is built from a copy of the package's sources (so no build/ folder lands in
    the repository), exactly as ``pip install git+URL`` builds it in Colab: whatever the
    wheel leaves out (a data file not declared as package data) is missing here too.
    """
    source, wheels, site = folder / "source", folder / "wheels", folder / "site"
    shutil.copytree(ROOT / "genlib", source / "genlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    pip([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels),
         str(source)])
    (wheel,) = wheels.glob("genlib-*.whl")
    pip([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
         str(site), str(wheel)])
    return site


def install_cell_index(notebook) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            if INSTALL_MARKER not in cell.source:
                raise AssertionError("the first code cell must install genlib")
            return index
    raise AssertionError("the notebook has no code cell")


def execute_like_colab(path: Path, site: Path, folder: Path) -> nbformat.NotebookNode:
    """``path`` executed in quick mode by a kernel in the empty ``folder``, genlib from ``site``.

    Returns the executed notebook without the added check cell, whose printed lines (the
    first import of genlib, hence of TensorFlow, happens in it) show under the next code
    cell, the chapter's first import, as in Colab; raises NotebookFailed.
    """
    notebook = nbformat.read(path, as_version=4)
    check_at = install_cell_index(notebook) + 1
    notebook.cells.insert(check_at, new_code_cell(WHERE_IS_GENLIB.format(site=str(site))))
    folder.mkdir(parents=True)  # Colab's working folder, /content, starts empty
    environment = {
        **os.environ,
        "PYTHONPATH": str(site),
        "GENLIB_MODE": "quick",
        "PIP_NO_INDEX": "1",  # an install attempt fails at once instead of downloading
    }
    environment.pop("GENLIB_RESULTS_FILE", None)
    # Under pytest (this variable set), ipykernel leaves what C code writes to the standard
    # streams (TensorFlow's log lines) out of the cells' outputs; Jupyter and Colab show it.
    environment.pop("PYTEST_CURRENT_TEST", None)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    try:
        client.execute(env=environment)  # the kernel starts in resources' path
    except nbclient.exceptions.CellExecutionError as error:
        raise NotebookFailed(str(error)) from None
    printed = [output for output in notebook.cells.pop(check_at).outputs
               if output.output_type == "stream"]
    following = next(cell for cell in notebook.cells[check_at:] if cell.cell_type == "code")
    following.outputs[:0] = printed
    return notebook


class ColabRuns:
    """Each notebook executed like in Colab at most once, shared by all workers.

    ``folder`` is a folder every pytest-xdist worker of the run sees (conftest.py's
    ``colab_runs`` fixture). :meth:`executed` returns the executed notebook or raises
    NotebookFailed, executing it first if no worker has yet.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def site(self) -> Path:
        """The folder genlib's wheel is installed in (built once per run)."""
        with locked(self.folder / "package.lock"):
            site = self.folder / "package" / "site"
            if not (site / "genlib" / "__init__.py").is_file():
                shutil.rmtree(self.folder / "package", ignore_errors=True)
                install_genlib(self.folder / "package")
            return site

    def executed(self, name: str) -> nbformat.NotebookNode:
        done, failed = self.folder / f"{name}.ipynb", self.folder / f"{name}.failed.txt"
        with locked(self.folder / f"{name}.lock"):
            if not done.exists() and not failed.exists():
                try:
                    notebook = execute_like_colab(ROOT / "notebooks" / f"{name}.ipynb",
                                                  self.site, self.folder / "content" / name)
                except NotebookFailed as error:
                    failed.write_text(str(error))
                else:
                    nbformat.write(notebook, done)
        if failed.exists():
            raise NotebookFailed(failed.read_text())
        return nbformat.read(done, as_version=4)
