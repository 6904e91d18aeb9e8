"""Sphinx extension: every page loads each of its scripts once.

Sphinx 7.4 writes twice the inline scripts that extensions add once the HTML builder exists
(sphinx-thebe's configuration, sphinx-togglebutton's selector): ``Sphinx.add_js_file(None,
body=...)`` hands the builder a script named ``None`` while the builder's own list names it
``""``, so the two copies never compare equal. The second ``const THEBE_JS_URL = ...`` is a
``SyntaxError`` in the console of every page, which tests/test_browser.py reports. This drops a
script that is an exact copy (same file, same attributes, same body) of one before it.

Enabled in ``_config.yml``::

    sphinx:
      local_extensions:
        unique_scripts: book/_ext
"""

from __future__ import annotations


def _identity(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Sphinx ``html-page-context`` handler: keep the first of identical scripts."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        if (identity := _identity(script)) not in seen:
            seen.add(identity)
            unique.append(script)
    scripts[:] = unique  # the builder restores its list before the next page


def setup(app):
    # Late, after every other extension has added its scripts to the page.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
