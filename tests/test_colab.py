"""Every notebook runs as it would in Colab: from an empty folder, with genlib installed.

In Colab a student has the notebook and nothing else: no repository around it, genlib
installed by pip as a package. So each ``notebooks/NAME.ipynb`` is executed here (in quick
mode, top to bottom, any error fails) by a fresh kernel whose working directory is an empty
temporary folder and which imports genlib from a wheel built from this repository and
installed with ``pip install --target`` — never from the repository itself. A cell added after
the notebook's install cell checks that inside the kernel. The install cell finds genlib and
installs nothing (pip is pointed at no index, so an attempt would fail at once).

This is also the test that every notebook runs at all: it replaces nbval's run of
``notebooks/`` (same cells, same quick mode, a stricter environment), so that CI executes
each notebook once here and once in the book build, not three times.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 600

pytestmark = pytest.mark.slow

WHERE_IS_GENLIB = """\
# Added by tests/test_colab.py: genlib must come from the installed package.
import os, pathlib, genlib
_site = pathlib.Path({site!r}).resolve()
_genlib = pathlib.Path(genlib.__file__).resolve()
assert _genlib.is_relative_to(_site), f"genlib was imported from {{_genlib}}, not from {{_site}}"
assert not any(pathlib.Path.cwd().iterdir()), "the working folder is not empty"
"""


def pip(command: list[str]) -> None:
    result = subprocess.run(command + ["--quiet", "--disable-pip-version-check"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{' '.join(command[2:4])} failed:\n{result.stderr[-3000:]}"


@pytest.fixture(scope="session")
def installed_genlib(tmp_path_factory) -> Path:
    """A folder holding genlib installed from a wheel of this repository, as pip installs it.

    The wheel is built from a copy of the package's sources (so no build/ folder lands in the
    repository), exactly as ``pip install git+URL`` builds it in Colab: whatever the wheel
    leaves out (a data file not declared as package data) is missing here too.
    """
    folder = tmp_path_factory.mktemp("genlib-package")
    source, wheels, site = folder / "source", folder / "wheels", folder / "site"
    shutil.copytree(ROOT / "genlib", source / "genlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    pip([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source)])
    (wheel,) = wheels.glob("genlib-*.whl")
    pip([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(site),
         str(wheel)])
    assert (site / "genlib" / "__init__.py").is_file()
    return site


def test_the_wheel_holds_every_file_of_the_package(installed_genlib):
    """What the repository's genlib/ has (code and data files), the installed package has."""
    def files(folder: Path) -> set[str]:
        return {str(path.relative_to(folder)) for path in folder.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}

    missing = files(ROOT / "genlib") - files(installed_genlib / "genlib")
    assert not missing, (f"the wheel leaves out {sorted(missing)}: declare them as package data "
                         "in pyproject.toml ([tool.setuptools.package-data]), and make sure git "
                         "does not ignore them (.gitignore), since Colab installs from git")


def install_cell_index(notebook) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert 'find_spec("genlib")' in cell.source, "the first code cell must install genlib"
            return index
    raise AssertionError("the notebook has no code cell")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_like_in_colab(path, installed_genlib, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    check = new_code_cell(WHERE_IS_GENLIB.format(site=str(installed_genlib)))
    notebook.cells.insert(install_cell_index(notebook) + 1, check)
    content = tmp_path / "content"  # Colab's working folder is /content
    content.mkdir()
    environment = {
        **os.environ,
        "PYTHONPATH": str(installed_genlib),
        "GENLIB_MODE": "quick",
        "PIP_NO_INDEX": "1",  # an install attempt fails at once instead of downloading
    }
    environment.pop("GENLIB_RESULTS_FILE", None)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(content)}})
    try:
        client.execute(env=environment)  # the kernel starts in resources' path
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed in a Colab-like environment:\n{error}", pytrace=False)
