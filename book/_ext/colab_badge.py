"""Sphinx extension: an "Open in Colab" badge under the title of every chapter page.

Each page ``chapters/NAME`` gets a badge linking to ``notebooks/NAME.ipynb`` in Colab. The
repository URL and branch come from ``_config.yml`` (``repository.url``, ``repository.branch``),
which Jupyter Book passes to Sphinx as ``html_theme_options["repository_url"]`` and
``["repository_branch"]``; the Colab address is made by the same function that makes the
notebooks' own badges (``tools.colab.colab_url_for``), so the two cannot disagree.

The badge image is the book's own (``book/_static/colab-badge.svg``), not Colab's remote
one: a page of the book loads nothing from other sites, so it also reads well offline.

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

from tools.colab import colab_url_for  # noqa: E402 (the repository is on the path now)

logger = logging.getLogger(__name__)

CHAPTERS = "chapters/"
BADGE_IMAGE = "/book/_static/colab-badge.svg"  # a leading slash: relative to the book's root


def _badge(url: str) -> nodes.paragraph:
    """``<p class="colab-badge"><a href=URL><img alt="Open In Colab" ...></a></p>``."""
    image = nodes.image(uri=BADGE_IMAGE, alt="Open In Colab")
    link = nodes.reference("", "", image, refuri=url, internal=False)
    return nodes.paragraph("", "", link, classes=["colab-badge"])


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
    url = colab_url_for(repository_url, options.get("repository_branch") or "main", name)
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        logger.warning("colab_badge: the chapter has no title to put the badge under",
                       location=docname)
        return
    section.insert(1, _badge(url))


def setup(app):
    # Before Sphinx's image collector (priority 500), so that it registers the badge image
    # like any other remote image.
    app.connect("doctree-read", add_colab_badge, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
