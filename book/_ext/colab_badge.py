"""Sphinx extension: under the title of every chapter page, where to run its notebook.

Each page ``chapters/NAME`` gets a row of links to ``notebooks/NAME.ipynb``: an "Open in
Colab" badge, an "Open in Kaggle" badge (a second free place to run it) and a link that
downloads the notebook, served by the book itself (``notebooks/NAME.ipynb`` in the site,
copied there when the build finishes). The repository URL and branch come from
``_config.yml`` (``repository.url``, ``repository.branch``), which Jupyter Book passes to
Sphinx as ``html_theme_options["repository_url"]`` and ``["repository_branch"]``; the
addresses are made by the same functions that make the notebooks' own badges
(``tools.colab``), so the two cannot disagree.

The badge images are the book's own (``book/_static/*-badge.svg``), not the services'
remote ones: a page of the book loads nothing from other sites, so it also reads well
offline. The student edition (``student_edition.py``) has none of these links: they open
or download the notebook with its solutions.

Enabled in ``_config.yml``::

    sphinx:
      local_extensions:
        colab_badge: book/_ext
"""

from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

REPO_ROOT = Path(__file__).resolve().parents[2]  # this file is ROOT/book/_ext/colab_badge.py
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tools.colab import colab_url_for, kaggle_url_for  # noqa: E402 (the root is on the path now)

logger = logging.getLogger(__name__)

CHAPTERS = "chapters/"
COLAB_IMAGE = "/book/_static/colab-badge.svg"  # a leading slash: relative to the book's root
KAGGLE_IMAGE = "/book/_static/kaggle-badge.svg"
NOTEBOOKS = "notebooks"  # where the chapters' notebooks are, in the repository and the site


def _link(url: str, image: str, alt: str) -> nodes.reference:
    return nodes.reference("", "", nodes.image(uri=image, alt=alt), refuri=url, internal=False)


def _badges(colab: str, kaggle: str, name: str) -> nodes.paragraph:
    """``<p class="colab-badge">`` Colab badge, Kaggle badge, download link ``</p>``."""
    download = nodes.raw(
        "", f'<a class="download-notebook" href="../{NOTEBOOKS}/{name}.ipynb" download>'
            f"Download the notebook ({name}.ipynb)</a>", format="html")
    return nodes.paragraph("", "", _link(colab, COLAB_IMAGE, "Open In Colab"), nodes.Text(" "),
                           _link(kaggle, KAGGLE_IMAGE, "Open In Kaggle"), nodes.Text(" "),
                           download, classes=["colab-badge"])


def add_colab_badge(app, doctree: nodes.document) -> None:
    """Insert the badge right after the title of a chapter page."""
    docname = app.env.docname
    # The student edition (book/_ext/student_edition.py) has no badge: it opens the notebook
    # with its solutions.
    if not docname.startswith(CHAPTERS) or getattr(app.config, "course_student_edition", False):
        return
    options = app.config.html_theme_options or {}
    repository_url = options.get("repository_url")
    if not repository_url:
        logger.warning("colab_badge: set repository.url in _config.yml", location=docname)
        return
    name = docname[len(CHAPTERS) :]
    branch = options.get("repository_branch") or "main"
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        logger.warning("colab_badge: the chapter has no title to put the badge under",
                       location=docname)
        return
    section.insert(1, _badges(colab_url_for(repository_url, branch, name),
                              kaggle_url_for(repository_url, branch, name), name))


def copy_notebooks(app, exception) -> None:
    """Serve the chapters' notebooks from the site, for the download links."""
    if exception is not None or app.builder.format != "html":
        return
    if getattr(app.config, "course_student_edition", False):
        return
    target = Path(app.outdir) / NOTEBOOKS
    target.mkdir(exist_ok=True)
    for docname in sorted(app.env.found_docs):
        if not docname.startswith(CHAPTERS):
            continue
        name = docname[len(CHAPTERS) :]
        source = Path(app.srcdir) / NOTEBOOKS / f"{name}.ipynb"
        if not source.is_file():
            logger.warning(f"colab_badge: {source} is missing: run `make notebooks`")
            continue
        (target / source.name).write_bytes(source.read_bytes())


def setup(app):
    # Before Sphinx's image collector (priority 500), so that it registers the badge image
    # like any other remote image.
    app.connect("doctree-read", add_colab_badge, priority=400)
    app.connect("build-finished", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
