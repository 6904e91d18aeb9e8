"""Shared pytest configuration.

Makes the repository root importable (``import tools.notebooks``), runs everything in quick
mode unless GENLIB_MODE says otherwise (notebook kernels and the book build inherit it), and
makes sure no test ever downloads the data set.
"""

import os
import sys
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("GENLIB_MODE", "quick")
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _never_download(monkeypatch):
    """Tests and CI never download: a test that would is a failing test."""
    import genlib.data

    def refuse():
        raise AssertionError("a test tried to download Fashion-MNIST")

    monkeypatch.setattr(genlib.data, "_download", refuse)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
