"""Show genlib's own code in a notebook, so that chapters explain it without copying it."""

from __future__ import annotations

import ast
import inspect
import textwrap


def show_source(obj, *, docstrings: bool = False):
    """The source code of a genlib function or class, as a highlighted code block.

    Parameters
    ----------
    obj : function, class or method
        What to show.
    docstrings : bool, default=False
        Keep the docstrings (with their doctests). The page's prose explains the code, so by
        default the reader sees only the code itself; ``help(obj)`` shows the docstring.

    Returned as Markdown, so that Jupyter, Colab and the book each highlight it in their
    own style (and the book's pages carry no extra style sheet per cell).

    >>> from genlib.layers import DenseTranspose
    >>> code = show_source(DenseTranspose)
    >>> code.data.startswith("```python") and "class DenseTranspose" in code.data
    True
    >>> len(show_source(DenseTranspose, docstrings=True).data) > len(code.data)
    True
    """
    from IPython.display import Markdown

    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError) as error:
        raise ValueError(f"cannot show the source of {obj!r}: {error}") from None
    if not docstrings:
        source = without_docstrings(source)
    return Markdown(f"```python\n{source.rstrip()}\n```")


def without_docstrings(source: str) -> str:
    """``source`` with the docstrings of its module, classes and functions left out.

    A docstring and the blank line after it are removed; a body that held nothing else
    becomes ``...``. Comments and code are kept exactly as written.

    >>> print(without_docstrings("def f(x):\\n    'Twice x.'\\n\\n    return 2 * x\\n"))
    def f(x):
        return 2 * x
    <BLANKLINE>
    """
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()  # 0-based line numbers
    replace: dict[int, str] = {}
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if not isinstance(body, list) or not body or not _is_docstring(body[0]):
            continue
        first, last = body[0].lineno - 1, body[0].end_lineno - 1
        if not lines[first].lstrip().lstrip("rRuU").startswith(('"', "'")):
            continue  # the docstring shares its line with other code: keep it
        span = range(first, last + 1)
        if len(body) == 1:  # a body of only a docstring must still be a body
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            replace[first] = f"{indent}...\n"
            drop.update(span[1:])
            continue
        drop.update(span)
        if last + 1 < len(lines) and not lines[last + 1].strip():
            drop.add(last + 1)
    return "".join(replace.get(i, line) for i, line in enumerate(lines) if i not in drop)


def _is_docstring(statement) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))
