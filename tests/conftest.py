"""Shared pytest configuration.

Makes the repository root importable (``import tools.notebooks``), runs everything in quick
mode unless GENLIB_MODE says otherwise (notebook kernels and the book build inherit it), and
makes sure no test ever downloads the data set. ``book_html`` builds the book once per test
run, for every test that needs the site (tests/test_book.py, tests/test_browser.py).
"""

import fcntl
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
    # starts) computes on one thread, as the book's kernels do (tools/book.py), instead of
    # every process starting a thread per core that then waits for the others'.
    from tools.book import THREAD_VARIABLES

    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")


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


@pytest.fixture(scope="session")
def book_html(tmp_path_factory) -> Path:
    """The book built once per test run (quick mode, warnings are errors): its HTML folder.

    Built into a temporary folder, so that ``_build/`` (perhaps a full-mode book) is left alone,
    by ``tools/book.py`` as `make book` builds it (chapters executed in parallel). Under
    pytest-xdist (`make test`) the workers share one build: the first to need it builds it
    while the others wait on a lock. To work on the tests of the site without building it
    each time, set ``GENLIB_TEST_SITE`` to the HTML folder of a book you built
    (``GENLIB_MODE=quick python tools/book.py --path-output DIR``).
    """
    if os.environ.get("GENLIB_TEST_SITE"):
        return Path(os.environ["GENLIB_TEST_SITE"]).resolve()
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder all workers' temporary folders are in
    output, failure = shared / "book", shared / "book-failed.txt"
    with open(shared / "book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (output / "_build" / "html" / "index.html").exists() and not failure.exists():
            environment = {**os.environ, "GENLIB_MODE": os.environ.get("GENLIB_MODE", "quick")}
            result = subprocess.run(
                [sys.executable, str(ROOT / "tools" / "book.py"), "--path-output", str(output)],
                capture_output=True, text=True, env=environment, stdin=subprocess.DEVNULL,
            )
            if result.returncode != 0:
                failure.write_text(result.stderr[-5000:])
    assert not failure.exists(), "the book build failed or warned:\n" + failure.read_text()
    return output / "_build" / "html"
