"""The book builds with warnings as errors, in quick mode, and shows no TensorFlow log noise.

Slow (it executes every chapter): about a minute per chapter on two cores.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.md"))
TF_LOG_NOISE = re.compile(r"oneDNN|cuda|absl::|WARNING:tensorflow|I0000 |E0000 |retracing")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    output = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    environment = {**os.environ, "GENLIB_MODE": os.environ.get("GENLIB_MODE", "quick")}
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--builder", "html", "-W", "-n", "--keep-going",
         "--path-output", str(output)],
        capture_output=True, text=True, env=environment,
    )
    assert result.returncode == 0, "the book build failed or warned:\n" + "\n".join(
        line for line in result.stdout.splitlines() if "WARNING" in line or "ERROR" in line
    )[-5000:]
    return output / "_build" / "html"


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
