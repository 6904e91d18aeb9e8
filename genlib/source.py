"""Show genlib's own code in a notebook, so that chapters explain it without copying it."""

from __future__ import annotations

import inspect


def show_source(obj):
    """The source code of a genlib function or class, syntax-highlighted in a notebook.

    >>> from genlib.layers import DenseTranspose
    >>> code = show_source(DenseTranspose)
    >>> "class DenseTranspose" in code.data
    True
    """
    from IPython.display import Code

    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise ValueError(f"cannot show the source of {obj!r}: {error}") from None
    return Code(source, language="python")
