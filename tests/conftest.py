"""Shared pytest configuration.

Makes the repository root importable (``import tools.notebooks``), runs everything in quick
mode unless GENLIB_MODE says otherwise (notebook kernels and the book build inherit it), and
makes sure no test ever downloads the data set. ``book_html`` builds the book once per test
run, for every test that needs the site (tests/test_book.py, tests/test_browser.py).
"""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("GENLIB_MODE", "quick")
matplotlib.use("Agg")

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs a pytest-xdist worker per core: each (and the notebook kernels it
    # starts) computes on one thread, instead of every process starting a thread per core
    # that then waits for the others'. Quick mode checks no claim, so the numbers may differ
    # from a reader's run; the full-mode book keeps TensorFlow's defaults (tools/book.py).
    # TensorFlow's, then those of the BLAS and OpenMP libraries under NumPy and SciPy.
    for variable in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                     "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


#: The longest tests: each executes a whole chapter (as in Colab, or graded by otter).
LONGEST = ("test_notebook_runs_like_in_colab", "test_grading")


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what does not run
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, start every worker on its share of the longest tests.

    The worksteal scheduler hands each worker a contiguous share of the collected tests and
    an idle worker later steals from the *end* of a busy one's share. Left where they are,
    the chapters sit in one share and run one after the other at its end; placed at the
    head of every share (one of every n, for n workers), they run side by side from the
    start and the short tests fill in around them.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    longest = [item for item in items if any(name in item.nodeid for name in LONGEST)]
    if workers < 2 or not longest:
        return
    rest = [item for item in items if item not in longest]
    ordered = []
    for worker in range(workers):
        share = (len(items) - len(ordered)) // (workers - worker)  # worksteal's split
        head = longest[worker::workers]
        filler = max(0, share - len(head))
        ordered += head + rest[:filler]
        del rest[:filler]
    items[:] = ordered + rest


@pytest.fixture(autouse=True)
def _never_download(monkeypatch):
    """Tests and CI never download: a test that would is a failing test."""
    import genlib.data

    def refuse():
        raise AssertionError("a test tried to download Fashion-MNIST")

    monkeypatch.setattr(genlib.data, "_download", refuse)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _shared_folder(tmp_path_factory) -> Path:
    """A temporary folder of this test run that every pytest-xdist worker sees."""
    folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = folder.parent  # the folder all workers' temporary folders are in
    return folder


@pytest.fixture(scope="session")
def colab_runs(tmp_path_factory):
    """The notebooks executed as in Colab, each once per test run (tests/colab_run.py)."""
    from tests.colab_run import ColabRuns

    return ColabRuns(_shared_folder(tmp_path_factory) / "colab")


@pytest.fixture(scope="session")
def book_html(tmp_path_factory, colab_runs) -> Path:
    """The book built once per test run (quick mode, warnings are errors): its HTML folder.

    Its pages show the notebooks executed as in Colab (``colab_runs``): each chapter is
    executed once per test run, for tests/test_colab.py and for the book, and rendered by
    ``tools/book.py``'s renderer with the book's checks. Built into a temporary folder, so
    that ``_build/`` (perhaps a full-mode book) is left alone. Under pytest-xdist (`make
    test`) the workers share one build: the first to need it builds it while the others
    wait on a lock. To work on the tests of the site without building it each time, set
    ``GENLIB_TEST_SITE`` to the HTML folder of a book you built
    (``GENLIB_MODE=quick python tools/book.py --path-output DIR``).
    """
    if os.environ.get("GENLIB_TEST_SITE"):
        return Path(os.environ["GENLIB_TEST_SITE"]).resolve()
    from tests.colab_run import NOTEBOOKS, NotebookFailed, locked

    shared = _shared_folder(tmp_path_factory)
    output, failure = shared / "book", shared / "book-failed.txt"
    with locked(shared / "book.lock"):
        if not (output / "_build" / "html" / "index.html").exists() and not failure.exists():
            try:
                # The last notebooks first: tests/test_colab.py asks for the first ones first.
                executed = {path.stem: colab_runs.executed(path.stem)
                            for path in reversed(NOTEBOOKS)}
                _render_book(output, executed)
            except (NotebookFailed, SystemExit, ValueError) as error:
                failure.write_text(f"{type(error).__name__}: {error}"[-5000:])
    assert not failure.exists(), "the book build failed or warned:\n" + failure.read_text()
    return output / "_build" / "html"


@pytest.fixture(scope="session")
def student_book_html(tmp_path_factory, book_html) -> Path:
    """The student edition of the same book (``tools/book.py --student``): its HTML folder.

    Rendered from the notebooks ``book_html`` executed, so no chapter runs again. Set
    ``GENLIB_TEST_STUDENT_SITE`` to the HTML folder of one you built to skip the build.
    """
    if os.environ.get("GENLIB_TEST_STUDENT_SITE"):
        return Path(os.environ["GENLIB_TEST_STUDENT_SITE"]).resolve()
    from tests.colab_run import locked

    shared = _shared_folder(tmp_path_factory)
    output, failure = shared / "student-book", shared / "student-book-failed.txt"
    with locked(shared / "student-book.lock"):
        if not (output / "_build" / "html" / "index.html").exists() and not failure.exists():
            result = subprocess.run(
                [sys.executable, str(ROOT / "tools" / "book.py"), "--student",
                 "--path-output", str(output), "--executed", str(shared / "book-notebooks")],
                capture_output=True, text=True, stdin=subprocess.DEVNULL,
                env={**os.environ, "GENLIB_MODE": os.environ.get("GENLIB_MODE", "quick")})
            if result.returncode != 0:
                failure.write_text(result.stderr[-5000:])
    assert not failure.exists(), "the student edition failed or warned:\n" + failure.read_text()
    return output / "_build" / "html"


def _render_book(output: Path, executed: dict) -> None:
    """Render the book from already executed notebooks, in a child process (Sphinx is noisy
    and keeps global state), with tools/book.py's cache and checks."""
    import nbformat

    folder = output.parent / "book-notebooks"
    folder.mkdir(exist_ok=True)
    for name, notebook in executed.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    environment = {**os.environ, "GENLIB_MODE": os.environ.get("GENLIB_MODE", "quick")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "book.py"), "--path-output", str(output),
         "--executed", str(folder)],
        capture_output=True, text=True, env=environment, stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-5000:])
