"""Sphinx extension: the reference list is a list that screen readers can read.

docutils writes the bibliography as ``<div role="list" class="citation-list">`` whose entries
are ``<div role="doc-biblioentry">``; ARIA requires a list's children to be list items, and
``doc-biblioentry`` is deprecated (ARIA's DPUB module), so axe-core reports a critical
violation (aria-required-children) on the references page. Each entry becomes a list item.

Enabled in ``_config.yml``::

    sphinx:
      local_extensions:
        accessible_citations: book/_ext
"""

from __future__ import annotations


def fix_citation_roles(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``: entries of a citation list get the ``listitem`` role."""
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app):
    app.connect("html-page-context", fix_citation_roles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
