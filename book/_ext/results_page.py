"""Sphinx extension: the results page is read again at every build.

``book/results.md`` shows what ``tools/benchmark.py`` recorded in ``benchmarks/*.json``; its
code cells read those files when the page is executed. Sphinx reads again only the pages whose
source changed, and the page's source does not change when the benchmark records new numbers,
so this extension marks the page as outdated at every build (it executes in a few seconds).

Enabled in ``_config.yml``::

    sphinx:
      local_extensions:
        results_page: book/_ext
"""

from __future__ import annotations

RESULTS_PAGE = "book/results"


def results_page_is_outdated(app, env, added, changed, removed) -> list[str]:
    """Sphinx ``env-get-outdated`` handler: the results page, whenever it is in the book."""
    return [RESULTS_PAGE] if RESULTS_PAGE in env.found_docs else []


def setup(app):
    app.connect("env-get-outdated", results_page_is_outdated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
