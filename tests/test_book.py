"""The book builds with warnings as errors, in quick mode, and shows no TensorFlow log noise.

Slow: the book is built once per test run (``book_html`` in conftest.py, shared with
tests/test_browser.py), from the notebooks executed as in Colab (tests/colab_run.py, shared
with tests/test_colab.py): each chapter is executed once per run.
"""

import re
from pathlib import Path

import pytest

from tests.colab_run import TF_LOG_NOISE
from tests.toc import toc_chapters

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = toc_chapters()  # the chapters the book publishes

pytestmark = pytest.mark.slow


@pytest.fixture()
def site(book_html):
    return book_html


def test_every_chapter_is_in_the_toc():
    """A chapter left out of _toc.yml would silently not be published (only_build_toc_files)."""
    files = sorted(path.stem for path in (ROOT / "chapters").glob("*.md"))
    missing = [name for name in files if name not in CHAPTERS]
    assert not missing, f"add these chapters to _toc.yml, or they are not in the book: {missing}"


def test_every_page_of_the_toc_is_built(site):
    assert (site / "book" / "intro.html").exists()
    for chapter in CHAPTERS:
        assert (site / "chapters" / f"{chapter}.html").exists()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page(site, chapter):
    html = (site / "chapters" / f"{chapter}.html").read_text()
    assert not TF_LOG_NOISE.search(html), f"TensorFlow log lines in {chapter}: {TF_LOG_NOISE.search(html)}"
    assert "Traceback (most recent call last)" not in html
    assert not re.search(r"\{(cite|ref|doc|term)(:[a-z]+)?\}`|:::\{", html), "raw MyST in the page"
    assert f"blob/main/notebooks/{chapter}.ipynb" in html, "no Colab badge pointing at the notebook"
    solutions = re.findall(r'class="solution[^"]*"', html)
    assert solutions and all("dropdown" in s for s in solutions), "solutions must be collapsed"
    assert html.count('src="../_images/') >= 3, "the chapter's figures are missing"


def test_landing_page_shows_the_whole_plan_and_links_only_existing_pages(site):
    html = (site / "book" / "intro.html").read_text()
    for title in ["Efficient data representations", "Stacked autoencoders", "Convolutional and recurrent",
                  "Denoising autoencoders", "Sparse autoencoders", "Variational autoencoders",
                  "Generative adversarial networks", "Diffusion models"]:
        assert title in html
    for target in re.findall(r'href="([^"#:]+\.html)', html):
        assert (site / "book" / target).resolve().exists(), f"the landing page links to missing {target}"


def test_results_page_is_generated_from_the_benchmark_files(site):
    from tools.results_page import Report

    html = (site / "book" / "results.html").read_text()
    report = Report.load()
    for chapter in report.chapters():
        assert report.chapter_title(chapter) in html, f"{chapter} is missing from the results page"
    if report.recorded("full") or report.recorded("quick"):
        assert '<img alt="Horizontal bar charts' in html, "no chart of the time per chapter"
    else:
        assert "No results were recorded yet" in html


def test_each_free_worker_takes_the_next_chapter(tmp_path):
    """The two longest chapters (first in the cache) start at once, on two workers.

    Handed to the pool in chunks (jupyter-cache's executor), nine chapters on two workers
    went two by two, and one worker ran the two longest one after the other.
    """
    import nbformat
    from jupyter_cache import get_cache
    from nbformat.v4 import new_code_cell, new_notebook

    from tools.book import execute_in_parallel

    cache = get_cache(str(tmp_path / "cache"))
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    for number in range(9):
        # A kernel's parent process is the worker that executes its notebook.
        code = f"import os\nopen('{number}.worker', 'w').write(str(os.getppid()))"
        path = tmp_path / f"chapter{number}.ipynb"
        nbformat.write(new_notebook(cells=[new_code_cell(code)], metadata=kernel), path)
        cache.add_nb_to_project(str(path))

    assert execute_in_parallel(cache, processes=2) == []

    workers = [(tmp_path / f"{number}.worker").read_text() for number in range(9)]
    assert workers[0] != workers[1], "the first two chapters ran on one worker"
    assert len(set(workers)) == 2
