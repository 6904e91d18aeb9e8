"""The built site in a real browser: headless Chromium opens every page of the book.

The quick-mode book (built once per test run, ``book_html`` in conftest.py) is served over
HTTP on localhost, and Debian's Chromium, driven by Playwright, opens each page of
``_toc.yml`` plus the index and search pages. On every page:

- no console error, uncaught exception, failed request or HTTP error (so nothing is loaded
  from other sites: MathJax is served by the book itself);
- MathJax typeset every formula: no raw ``$$``, ``\\frac``, ``\\(`` … left in the text;
- every image loaded and has alt text that describes it (not its file name);
- worked solutions are collapsed;
- no MyST directive or role shows as text (``:::{note}``, ``{ref}`label```, …);
- headings nest: one ``h1``, then no level skipped;
- a chapter's Colab and Kaggle links open ``notebooks/NAME.ipynb`` of the repository in
  ``_config.yml``, and its download link gets the notebook from the site itself.

Screenshots of the landing page and of a chapter are kept in ``_build/test-artifacts/``.
Chromium: ``apt-get install chromium`` (``make test`` installs it).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
import yaml

from tests.toc import toc_pages

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# The network here is closed: no background connections, no QUIC, no GPU, no sandbox (root).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "_build" / "test-artifacts"
SPECIAL_PAGES = ["genindex", "search"]  # made by Sphinx, not listed in _toc.yml

pytestmark = pytest.mark.slow


def repository() -> tuple[str, str]:
    """``("owner/name", branch)`` from ``_config.yml``, read here independently of the book."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    owner_repo = re.sub(r"^https://github\.com/|\.git$|/$", "", config["url"])
    return owner_repo, config.get("branch", "main")


PAGES = toc_pages()


# --- serving the site and driving the browser -------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per request would bury pytest's report
        pass


@contextlib.contextmanager
def served(folder: Path):
    """A folder served over HTTP on localhost for as long as the block runs: its address."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site_url(book_html):
    with served(book_html) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium; "
                    "`make test` does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Visit:
    """One page opened in a fresh tab, with everything that went wrong while loading it.

    ``site`` is the address of the site: a request anywhere else is an error, and it is
    blocked before it leaves the browser, so the test sends nothing off this machine and gives
    the same verdict with or without a network.
    """

    def __init__(self, browser, url: str, site: str, *, settle: bool = True):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        page = self.page
        page.route("**/*", lambda route: self._only_from(site, route))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught exception: {error}"))
        page.on("requestfailed", lambda request: self.errors.append(
            f"request failed: {request.url} ({request.failure})"))
        page.on("response", lambda response: response.status >= 400 and self.errors.append(
            f"HTTP {response.status}: {response.url}"))
        page.goto(url, wait_until="load")
        if not settle:  # a page that moves on (a redirect) is left to the test
            return
        # Typesetting is asynchronous: wait until MathJax says it is done (when on the page).
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) "
                      "await MathJax.startup.promise; }")
        page.wait_for_load_state("networkidle")  # fonts MathJax asked for, lazy images

    def _only_from(self, site: str, route) -> None:
        url = route.request.url
        if url.startswith((site + "/", "data:", "blob:")):
            route.continue_()
        else:
            self.errors.append(f"loaded from another site: {url}")
            route.abort("blockedbyclient")

    def _console(self, message):
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"console error: {message.text} ({where})")

    def close(self):
        self.page.close()


@pytest.fixture()
def visit(browser, site_url):
    opened = []

    def open_page(docname: str, settle: bool = True) -> Visit:
        opened.append(Visit(browser, f"{site_url}/{docname}.html", site_url, settle=settle))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


# --- what is checked on each page ---------------------------------------------------------------

# The page's own content: its article (the search page has none: then its main part).
CONTENT = ('(document.querySelector("article.bd-article") || document.querySelector("main") '
           '|| document.body)')
# The text a reader sees (hidden solutions included), without code, scripts and typeset math.
READER_TEXT = """() => {
  const copy = CONTENT.cloneNode(true);
  copy.querySelectorAll("pre, code, script, style, textarea, mjx-container, .MathJax")
      .forEach((element) => element.remove());
  return copy.textContent;
}""".replace("CONTENT", CONTENT)

RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\(frac|begin|end|sum|mathbf|mathrm|left|right|sqrt|log)\b")
RAW_MYST = re.compile(
    r"(```|~~~|:::)\s*\{[\w:-]+\}"  # a directive's fence: ```{note}, :::{exercise}
    r"|\{[a-z][\w:-]*\}`"  # a role: {ref}`...`, {cite:p}`...`
    r"|^\s*\([\w:-]+\)=\s*$"  # a label line: (ch-intro)=
    r"|^\s*:(label|class|tags|name|alt):\s",  # a directive option
    re.MULTILINE,
)


def math_problems(visit: Visit) -> list[str]:
    problems = []
    counts = visit.page.evaluate("""() => ({
      formulas: document.querySelectorAll("span.math, div.math").length,
      untypeset: Array.from(document.querySelectorAll("span.math, div.math"))
          .filter((element) => !element.querySelector("mjx-container"))
          .map((element) => element.textContent.slice(0, 80)),
      typeset: document.querySelectorAll("mjx-container").length,
    })""")
    if counts["untypeset"]:
        problems.append(f"{len(counts['untypeset'])} formula(s) not typeset by MathJax, e.g. "
                        f"{counts['untypeset'][:3]}")
    if counts["formulas"] and not counts["typeset"]:
        problems.append("the page has math but no mjx-container: MathJax did not run")
    text = visit.page.evaluate(READER_TEXT)
    for match in list(RAW_TEX.finditer(text))[:3]:
        problems.append(f"raw TeX in the text: …{text[max(0, match.start() - 40):match.end() + 40]!r}…")
    return problems


def image_problems(visit: Visit) -> list[str]:
    images = visit.page.evaluate("""async () => {
      const images = Array.from(document.images);
      images.forEach((image) => { image.loading = "eager"; });
      await Promise.all(images.map((image) => image.decode().catch(() => null)));
      return images.map((image) => ({
        src: image.getAttribute("src"), alt: image.getAttribute("alt"),
        width: image.naturalWidth, complete: image.complete,
      }));
    }""")
    problems = []
    for image in images:
        src, alt = image["src"], (image["alt"] or "").strip()
        if not image["complete"] or image["width"] == 0:
            problems.append(f"image did not load: {src}")
        # Sphinx writes the file's path as alt text when a figure has none.
        if not alt or alt == src or Path(alt).name == Path(src).name or re.search(
                r"\.(png|svg|jpe?g|gif|webp)$", alt, re.IGNORECASE):
            problems.append(f"image without alt text describing it: {src} (alt={alt!r})")
    return problems


def solution_problems(visit: Visit) -> list[str]:
    # sphinx-exercise writes a solution as div.solution; with :class: dropdown,
    # sphinx-togglebutton hides everything but its title (visibility: hidden, height 0)
    # until the reader clicks its button, which says so to screen readers (aria-expanded).
    solutions = visit.page.evaluate("""() => Array.from(document.querySelectorAll("div.solution"))
      .map((solution) => ({
        title: (solution.querySelector(".admonition-title") || solution).textContent.trim()
            .slice(0, 60),
        dropdown: solution.classList.contains("dropdown"),
        shown: Array.from(solution.children)
            .filter((child) => !child.classList.contains("admonition-title"))
            .filter((child) => child.checkVisibility({visibilityProperty: true,
                                                      opacityProperty: true})
                               && child.getBoundingClientRect().height > 0).length,
        expanded: (solution.querySelector("button.toggle-button") || {getAttribute: () => null})
            .getAttribute("aria-expanded"),
      }))""")
    return [f"solution shown, not collapsed: {solution['title']!r}"
            for solution in solutions
            if not solution["dropdown"] or solution["shown"] or solution["expanded"] != "false"]


def myst_problems(visit: Visit) -> list[str]:
    text = visit.page.evaluate(READER_TEXT)
    return [f"raw MyST in the text: …{text[max(0, m.start() - 40):m.end() + 40]!r}…"
            for m in list(RAW_MYST.finditer(text))[:3]]


def heading_problems(visit: Visit) -> list[str]:
    headings = visit.page.evaluate("""() => ({
      article: Array.from(CONTENT.querySelectorAll("h1, h2, h3, h4, h5, h6"))
          .map((h) => [Number(h.tagName[1]), h.textContent.replace("#", "").trim().slice(0, 60)]),
      visibleH1: Array.from(document.querySelectorAll("h1"))
          .filter((h) => h.checkVisibility()).length,
    })""".replace("CONTENT", CONTENT))
    levels = headings["article"]
    problems = []
    if [level for level, _ in levels].count(1) != 1 or headings["visibleH1"] != 1:
        problems.append(f"{headings['visibleH1']} visible h1 on the page; the article has "
                        f"{[title for level, title in levels if level == 1]} (must be exactly one)")
    if levels and levels[0][0] != 1:
        problems.append(f"the first heading is h{levels[0][0]}, not h1: {levels[0][1]!r}")
    for (previous, _), (level, title) in zip(levels, levels[1:]):
        if level > previous + 1:
            problems.append(f"heading level jumps from h{previous} to h{level}: {title!r}")
    return problems


def _link_problems(links: list[str], expected: str, what: str) -> list[str]:
    """Each link goes to ``expected``, and there is one."""
    problems = [f"{what} link {link} is not {expected}" for link in links if link != expected]
    return problems if links else [*problems, f"no {what} link; expected {expected}"]


def colab_problems(visit: Visit, docname: str) -> list[str]:
    links = visit.page.evaluate("""() => Array.from(document.querySelectorAll(
        'a[href^="https://colab.research.google.com/"]')).map((a) => a.href)""")
    if not docname.startswith("chapters/"):
        return [f"a Colab link on a page that is not a chapter: {link}" for link in links]
    name = docname.removeprefix("chapters/")
    owner_repo, branch = repository()
    expected = (f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}"
                f"/notebooks/{name}.ipynb")
    problems = _link_problems(links, expected, "Colab")
    if not (ROOT / "notebooks" / f"{name}.ipynb").is_file():
        problems.append(f"the Colab link's notebook notebooks/{name}.ipynb is not in the repository")
    return problems


def launch_problems(visit: Visit, docname: str) -> list[str]:
    """Next to the Colab badge: an Open in Kaggle badge and a download of the notebook,
    served by the site itself."""
    kaggle = visit.page.evaluate("""() => Array.from(document.querySelectorAll(
        'a[href*="kaggle.com/"]')).map((a) => a.href)""")
    downloads = visit.page.evaluate("""() => Array.from(document.querySelectorAll(
        'a.download-notebook')).map((a) => [a.href, a.hasAttribute("download")])""")
    if not docname.startswith("chapters/"):
        return [f"a launch link on a page that is not a chapter: {link}"
                for link in [*kaggle, *(href for href, _ in downloads)]]
    name = docname.removeprefix("chapters/")
    owner_repo, branch = repository()
    expected = (f"https://kaggle.com/kernels/welcome?src=https://github.com/{owner_repo}/blob/"
                f"{branch}/notebooks/{name}.ipynb")
    problems = _link_problems(kaggle, expected, "Kaggle")
    if len(downloads) != 1:
        return [*problems, f"expected one link to download the notebook, found {len(downloads)}"]
    href, has_download = downloads[0]
    if not (href.endswith(f"/notebooks/{name}.ipynb") and has_download):
        problems.append(f"the download link {href} is not notebooks/{name}.ipynb with `download`")
    response = visit.page.request.get(href)
    if not response.ok or response.json().get("nbformat") != 4:
        problems.append(f"{href} does not serve the notebook (HTTP {response.status})")
    return problems


# --- the tests -----------------------------------------------------------------------------------


def test_every_page_of_the_site_is_in_the_toc(book_html):
    """No page escapes the browser test: what was built is what _toc.yml lists."""
    built = {str(path.relative_to(book_html).with_suffix(""))
             for path in book_html.rglob("*.html")
             if not path.relative_to(book_html).parts[0].startswith("_")}
    assert built - {"index"} == set(PAGES) | set(SPECIAL_PAGES)


@pytest.mark.parametrize("docname", PAGES + SPECIAL_PAGES)
def test_page_in_a_real_browser(visit, docname):
    page = visit(docname)
    problems = [*page.errors, *math_problems(page), *image_problems(page),
                *solution_problems(page), *myst_problems(page), *heading_problems(page),
                *colab_problems(page, docname), *launch_problems(page, docname)]
    assert not problems, f"{docname}.html:\n" + "\n".join(problems)


def test_index_redirects_to_the_landing_page(visit):
    page = visit("index", settle=False)
    page.page.wait_for_url(re.compile(r"/book/intro\.html$"), timeout=10_000)
    page.page.wait_for_load_state("networkidle")
    assert not page.errors


def test_a_solution_opens_on_click(visit):
    """Collapsed is not gone: a click on the title shows the solution (first chapter with one)."""
    for docname in PAGES:
        if not docname.startswith("chapters/"):
            continue
        page = visit(docname)
        solution = page.page.locator("div.solution.dropdown").first
        if solution.count() == 0:
            continue
        solution.locator(".admonition-title").click()
        body = solution.locator(":scope > :not(.admonition-title)").first
        body.wait_for(state="visible", timeout=5_000)
        return
    pytest.skip("no chapter has a solution yet")


BROKEN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>broken</title>
<script>console.error("boom")</script></head><body><main><article class="bd-article">
<h1>Title</h1><h3>A skipped level</h3><h1>A second title</h1>
<p>Raw math: $$x^2$$ and \\frac{a}{b}; a role {ref}`some-label`; a fence :::{note}</p>
<span class="math notranslate nohighlight">\\(x\\)</span>
<img src="missing.png" alt="missing.png"><img src="http://127.0.0.1:9/remote.png" alt="Elsewhere">
<div class="solution dropdown admonition"><p class="admonition-title">Solution to Exercise 1</p>
<section><p>The answer, in plain view.</p></section></div>
</article></main></body></html>"""


def test_the_checks_catch_a_broken_page(browser, tmp_path):
    """Each check finds what it looks for: a page with every fault fails every check."""
    (tmp_path / "broken.html").write_text(BROKEN_PAGE)
    with served(tmp_path) as site:
        page = Visit(browser, f"{site}/broken.html", site)
        found = "\n".join([*page.errors, *math_problems(page), *image_problems(page),
                           *solution_problems(page), *myst_problems(page),
                           *heading_problems(page), *colab_problems(page, "chapters/99_x")])
        page.close()
    for expected in ["console error: boom", "HTTP 404", "loaded from another site",
                     "formula(s) not typeset", "raw TeX", "image did not load: missing.png",
                     "image without alt text describing it: missing.png",
                     "solution shown, not collapsed", "raw MyST", "h1 on the page",
                     "heading level jumps from h1 to h3", "no Colab link"]:
        assert expected in found, f"the checks missed: {expected}\n{found}"


def test_screenshots(visit):
    """The landing page and the first chapter, kept as test artefacts to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    landing = visit(PAGES[0])
    landing.page.screenshot(path=ARTIFACTS / "landing.png", full_page=True)
    chapter = next(docname for docname in PAGES if docname.startswith("chapters/"))
    page = visit(chapter)
    # The top of the chapter: title, Colab badge, prose, typeset math and the first figures.
    height = page.page.evaluate("document.documentElement.scrollHeight")
    page.page.screenshot(path=ARTIFACTS / "chapter.png", full_page=True,
                         clip={"x": 0, "y": 0, "width": 1280, "height": min(height, 3200)})
    for name in ("landing.png", "chapter.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000


# --- the student edition (make book-student) ----------------------------------------------------

# The page's whole text, hidden parts included (a collapsed solution is in the page).
PAGE_TEXT = "() => document.body.textContent"
PROSE_MARKUP = re.compile(r"[$`*_\[\]{}<>|\\]")


@functools.cache
def solution_snippets() -> dict[str, list[str]]:
    """Per chapter page, lines that only its worked solutions hold, whitespace collapsed:
    code lines of 20 characters or more, and plain prose lines (no markup) of 40 or more."""
    from tools.notebooks import chapter_to_notebook, is_solution

    def lines(cell):
        for line in cell.source.splitlines():
            text = " ".join(line.removeprefix(">").split())
            if text:
                yield text

    snippets = {}
    for md_path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md")):
        cells = chapter_to_notebook(md_path).cells
        # A solution's line that also occurs outside the solutions, even inside a longer
        # line (a prompt that names the checker call), proves nothing.
        elsewhere = "\n".join(text for cell in cells if not is_solution(cell)
                              for text in lines(cell))
        chosen = []
        for cell in filter(is_solution, cells):
            for text in lines(cell):
                if text in elsewhere or text.startswith("#"):
                    continue
                if cell.cell_type == "code" and len(text) >= 20:
                    chosen.append(text)
                elif (cell.cell_type == "markdown" and len(text) >= 40
                      and not PROSE_MARKUP.search(text) and text[0] not in "-0123456789"):
                    chosen.append(text)
        snippets[f"chapters/{md_path.stem}"] = chosen
    return snippets


# The same, without the worked solutions: on the full site, what is not a solution's.
TEXT_WITHOUT_SOLUTIONS = """() => { const copy = document.body.cloneNode(true);
  copy.querySelectorAll("div.solution").forEach((solution) => solution.remove());
  return copy.textContent; }"""


def _text_of(browser, url: str, site: str, script: str = PAGE_TEXT) -> tuple[str, Visit]:
    page = Visit(browser, url, site)
    return " ".join(page.page.evaluate(script).split()), page


@pytest.fixture(scope="module")
def student_site_url(student_book_html):
    with served(student_book_html) as url:
        yield url


@pytest.mark.parametrize("docname", [page for page in PAGES if page.startswith("chapters/")])
def test_the_student_edition_shows_no_solution(browser, site_url, student_site_url, docname):
    # A line of a solution that the page also shows elsewhere (genlib's source printed by
    # show_source, the same call in the chapter) proves nothing: only the others count.
    rest, full = _text_of(browser, f"{site_url}/{docname}.html", site_url,
                          TEXT_WITHOUT_SOLUTIONS)
    full.close()
    own = [snippet for snippet in solution_snippets()[docname] if snippet not in rest]
    text, page = _text_of(browser, f"{student_site_url}/{docname}.html", student_site_url)
    try:
        assert not page.errors, page.errors
        assert len(own) >= 10, f"only {len(own)} lines belong to {docname}'s solutions alone"
        leaked = [snippet for snippet in own if snippet in text]
        assert not leaked, f"solution text on the student edition's page: {leaked[:5]}"
        assert page.page.locator("div.solution").count() == 0
        assert "Solution to" not in text
        assert page.page.locator("div.exercise").count() > 0, "the exercises must stay"
        assert page.page.locator("p.colab-badge").count() == 0, "the badges open solutions"
    finally:
        page.close()


def test_the_solution_text_check_finds_solutions(browser, site_url):
    """The check above can fail: on the full site, the same snippets are found."""
    for docname, snippets in solution_snippets().items():
        text, page = _text_of(browser, f"{site_url}/{docname}.html", site_url)
        page.close()
        found = [snippet for snippet in snippets if snippet in text]
        assert len(snippets) >= 10 and len(found) >= 0.5 * len(snippets), (
            f"{docname}: {len(found)} of {len(snippets)} solution lines found on the full site")


def test_no_file_of_the_student_edition_holds_a_solution(student_book_html, book_html):
    """Nor any other file of the site (its pages are checked above): copied sources,
    notebooks, the search index."""
    code = {snippet for snippets in solution_snippets().values() for snippet in snippets
            if not re.search(r"[<>&\"']", snippet)}

    def holders(folder: Path) -> set[str]:
        found = set()
        for path in folder.rglob("*"):
            if path.suffix in {".js", ".txt", ".md", ".ipynb", ".py", ".json"}:
                content = " ".join(path.read_text(encoding="utf-8", errors="ignore").split())
                found |= {snippet for snippet in code if snippet in content}
        return found

    assert not holders(student_book_html)
    assert holders(book_html), "the full site's copied sources hold the solutions"


# --- interactive figures (genlib.widgets) ----------------------------------------------------------

SLIDER_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>slider</title>
</head><body><main>{}</main></body></html>"""


def _slider_state(page) -> dict:
    return page.evaluate("""() => {
      const root = document.querySelector("figure.genlib-slider");
      const slider = root.querySelector("input");
      return {src: root.querySelector("img").src, caption: root.querySelector("output").textContent,
              value: Number(slider.value), valuetext: slider.getAttribute("aria-valuetext")};
    }""")


def test_a_frame_slider_follows_the_keyboard_and_the_mouse(browser, tmp_path):
    import numpy as np

    from genlib.widgets import FrameSlider

    frames = np.linspace(0, 1, 5)[:, None, None, None] * np.ones((5, 2, 8, 8))
    captions = [f"frame {k}" for k in range(5)]
    slider = FrameSlider(frames, captions=captions, alt="Two squares", start=1)
    (tmp_path / "slider.html").write_text(SLIDER_PAGE.format(slider._repr_html_()))
    uris = slider.frame_images()
    with served(tmp_path) as site:
        page = Visit(browser, f"{site}/slider.html", site)
        assert _slider_state(page.page) == {"src": uris[1], "caption": "frame 1", "value": 1,
                                            "valuetext": "frame 1"}
        range_input = page.page.locator("figure.genlib-slider input")
        range_input.focus()
        for key, expected in [("ArrowRight", 2), ("End", 4), ("ArrowLeft", 3), ("Home", 0)]:
            page.page.keyboard.press(key)
            state = _slider_state(page.page)
            assert (state["src"], state["caption"], state["valuetext"]) == (
                uris[expected], captions[expected], captions[expected]), key
        box = range_input.bounding_box()  # a click near the right end: the last frame
        page.page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
        assert _slider_state(page.page)["src"] == uris[4]
        assert not page.errors, page.errors
        page.close()


# Each chapter's interactive figure: its caption after Home (the first frame), and after End.
CHAPTER_SLIDERS = {
    "chapters/04_denoising_autoencoders": (r"0% of the pixels dropped: MSE 0\.\d+ .*",
                                           r"90% of the pixels dropped: MSE 0\.\d+ .*"),
    "chapters/07_generative_adversarial_networks": (
        r"epoch 1 of (\d+) \(step [\d,]+\): \d+ classes covered, the most frequent .+ \(\d+%\)",
        r"epoch (\d+) of \1 \(step [\d,]+\): \d+ classes covered, the most frequent .+"),
    "chapters/08_diffusion_models": (r"step 0 of [\d,]+ \(t = \d+\): noise level 1\.00",
                                     r"step [\d,]+ of [\d,]+: the final image"),
    "chapters/09_flow_matching": (r"step 0 of 32: t = 1\.000 \(pure noise\)",
                                  r"step 32 of 32: t = 0\.000, the final images"),
}


@pytest.mark.parametrize("docname", CHAPTER_SLIDERS)
def test_a_chapter_slider_in_the_book(visit, docname):
    """The figure is in the built page, and the keyboard moves it from frame to frame."""
    first, last = CHAPTER_SLIDERS[docname]
    page = visit(docname)
    figure = page.page.locator("figure.genlib-slider")
    assert figure.count() == 1, f"{docname} has one interactive figure"
    figure.locator("input").focus()
    page.page.keyboard.press("Home")
    start = _slider_state(page.page)
    assert start["value"] == 0 and re.fullmatch(first, start["caption"]), start["caption"]
    page.page.keyboard.press("End")
    end = _slider_state(page.page)
    assert end["src"] != start["src"] and re.fullmatch(last, end["caption"]), end["caption"]
    assert not page.errors, page.errors


def _explorer_state(page) -> dict:
    return page.evaluate("""() => {
      const root = document.querySelector("figure.genlib-latent");
      return {position: root.querySelector(".latent-image").style.backgroundPosition,
              coding: root.querySelector("output").textContent, cell: root.dataset.cell};
    }""")


def test_a_latent_explorer_follows_the_pointer_and_the_keys(browser, tmp_path):
    import numpy as np

    from genlib.widgets import LatentExplorer

    grid = np.random.default_rng(0).random((5, 5, 28, 28))
    widget = LatentExplorer(grid, points=np.zeros((3, 2)), labels=[0, 1, 2],
                            class_names=["a", "b", "c"], extent=(-2, 2), alt="A map")
    (tmp_path / "explorer.html").write_text(SLIDER_PAGE.format(widget._repr_html_()))
    with served(tmp_path) as site:
        page = Visit(browser, f"{site}/explorer.html", site)
        assert _explorer_state(page.page) == {"position": "-336px -336px",
                                              "coding": "coding (0.00, 0.00)", "cell": "2,2"}
        box = page.page.locator(".latent-map").bounding_box()  # the top left corner
        page.page.mouse.move(box["x"] + 2, box["y"] + 2)
        assert _explorer_state(page.page) == {"position": "0px 0px",
                                              "coding": "coding (-2.00, 2.00)", "cell": "0,0"}
        page.page.locator(".latent-map").focus()
        for key in ("ArrowRight", "ArrowDown", "ArrowDown"):
            page.page.keyboard.press(key)
        assert _explorer_state(page.page) == {"position": "-168px -336px",
                                              "coding": "coding (-1.00, 0.00)", "cell": "2,1"}
        assert not page.errors, page.errors
        page.close()


def test_chapter_6_latent_explorer_in_the_book(visit):
    page = visit("chapters/06_variational_autoencoders")
    assert page.page.locator("figure.genlib-latent").count() == 1
    before = _explorer_state(page.page)
    page.page.locator(".latent-map").focus()
    page.page.keyboard.press("ArrowUp")
    after = _explorer_state(page.page)
    assert after["position"] != before["position"]
    assert re.fullmatch(r"coding \(0\.00, 0\.20\)", after["coding"]), after["coding"]
    assert not page.errors, page.errors


# --- accessibility, dark mode, the weight of the interactive figures ------------------------------

SERIOUS = ("serious", "critical")


def _set_theme(page, theme: str) -> None:
    """What the theme's switch does: the page's colours follow html[data-theme]. Then wait
    for the colours' transitions to end (a check in between sees colours half-way)."""
    page.evaluate("""async (theme) => {
      document.documentElement.dataset.theme = theme;
      document.documentElement.dataset.mode = theme;
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      await Promise.all(document.getAnimations().map((animation) => animation.finished));
    }""", theme)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_passes_an_accessibility_audit(browser, site_url, theme):
    """axe-core (shipped by axe-playwright-python): no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe, problems = Axe(), []
    for docname in PAGES + SPECIAL_PAGES:
        page = Visit(browser, f"{site_url}/{docname}.html", site_url)
        try:
            _set_theme(page.page, theme)
            for violation in axe.run(page.page).response["violations"]:
                if violation["impact"] in SERIOUS:
                    targets = [node["target"] for node in violation["nodes"]][:5]
                    problems.append(f"{docname}: {violation['id']} ({violation['impact']}): "
                                    f"{violation['help']}: {targets}")
        finally:
            page.close()
    assert not problems, "\n".join(problems)


OPAQUE_FIGURES = """() => Array.from(document.querySelectorAll(
    "div.cell_output img, figure.genlib-slider img, figure.genlib-latent img")).map((img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const corner = context.getImageData(0, 0, 1, 1).data[3];
  const background = getComputedStyle(img).backgroundColor;
  return {src: img.src.slice(0, 80), corner,
          backed: background !== "rgba(0, 0, 0, 0)" && background !== "transparent"};
})"""


@pytest.mark.parametrize("docname", [page for page in PAGES if page.startswith("chapters/")])
def test_figures_stay_readable_in_the_dark_theme(visit, docname):
    """A transparent figure would draw black ink on the dark page: every figure is opaque,
    or has a background of its own."""
    page = visit(docname)
    _set_theme(page.page, "dark")
    figures = page.page.evaluate(OPAQUE_FIGURES)
    assert figures, f"{docname} has no figure"
    see_through = [f["src"] for f in figures if f["corner"] < 255 and not f["backed"]]
    assert not see_through, f"transparent figures on the dark page: {see_through}"


def test_the_interactive_figures_weigh_at_most_3_mb(book_html):
    """Their HTML (images included) in the whole site."""
    total = 0
    for path in book_html.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r'<figure class="genlib-(slider|latent)".*?</figure>', text,
                                 re.DOTALL):
            total += len(match[0].encode())
    print(f"interactive figures: {total / 1e6:.2f} MB in the whole site")
    assert 0 < total <= 3e6
