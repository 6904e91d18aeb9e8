"""Show genlib's own code in a notebook, so that chapters explain it without copying it."""

from __future__ import annotations

import inspect


def show_source(obj):
    """The source code of a genlib function or class, as a highlighted code block.

    Returned as Markdown, so that Jupyter, Colab and the book each highlight it in their
    own style (and the book's pages carry no extra style sheet per cell).

    >>> from genlib.layers import DenseTranspose
    >>> code = show_source(DenseTranspose)
    >>> code.data.startswith("```python") and "class DenseTranspose" in code.data
    True
    """
    from IPython.display import Markdown

    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise ValueError(f"cannot show the source of {obj!r}: {error}") from None
    return Markdown(f"```python\n{source.rstrip()}\n```")
