"""Sphinx extension: the student edition of the book, every worked solution left out.

With ``course_student_edition`` true (``make book-student`` runs ``tools/book.py --student``,
which sets the environment variable ``COURSE_STUDENT_EDITION=1``), each solution
(``sphinx-exercise``'s ``solution`` node, which holds the gated ``solution-start`` ...
``solution-end`` content, code cells and rubric included) is removed from the page before
anything is written, so that no solution text reaches the HTML, the search index or the
copied sources; the exercises stay. The Colab badge, which opens the full notebook, is left
out too (``colab_badge`` reads the same setting), and the pages' sources are not copied
(``html_copy_source``): they hold the solutions.

``sphinx-exercise``'s own ``hide_solutions`` does not do this: it drops the solution's box,
but the code cells of a gated solution stay on the page.

Enabled in ``_config.yml``::

    sphinx:
      local_extensions:
        student_edition: book/_ext
"""

from __future__ import annotations

import os

from sphinx_exercise.nodes import solution_node

#: The environment variable that asks for the student edition.
ENV_VAR = "COURSE_STUDENT_EDITION"


def remove_solutions(app, doctree) -> None:
    """Drop every solution from a page (``doctree-read``: after the gated content merged)."""
    if not app.config.course_student_edition:
        return
    for node in list(doctree.findall(solution_node)):
        node.parent.remove(node)


def no_sources(app, config) -> None:
    """No copy of the pages' sources, and no button to download them: they hold solutions."""
    if config.course_student_edition:
        config.html_copy_source = False
        config.html_show_sourcelink = False
        config.html_theme_options = {**(config.html_theme_options or {}),
                                     "use_download_button": False}


def setup(app):
    app.add_config_value("course_student_edition", os.environ.get(ENV_VAR) == "1", "env")
    app.connect("config-inited", no_sources)
    app.connect("doctree-read", remove_solutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
