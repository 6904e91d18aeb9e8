"""The supported versions: declared once, tested at both ends, checked at ``import genlib``.

pyproject.toml's lower bounds are the oldest versions genlib supports (Colab's runtime);
requirements-oldest.txt pins exactly them, and `make test-oldest` runs the unit tests and
chapters 3, 5 and 7 with them. These tests keep the three places in agreement and check
what a student with a too-old Keras sees.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from genlib import compat

ROOT = Path(__file__).resolve().parent.parent


def lower_bounds() -> dict[str, str]:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for dependency in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", dependency.replace(" ", ""))
        assert match, f"{dependency!r}: every dependency needs a tested lower bound (name>=version)"
        bounds[match[1].lower()] = match[2]
    return bounds


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            found[name.lower()] = version
    return found


def test_the_oldest_environment_pins_exactly_the_declared_lower_bounds():
    oldest = pins(ROOT / "requirements-oldest.txt")
    for name, bound in lower_bounds().items():
        assert oldest.get(name) == bound, (
            f"pyproject.toml declares {name}>={bound} but requirements-oldest.txt pins "
            f"{oldest.get(name)}: the lower bound must be the version CI tests")


def test_the_pins_satisfy_the_lower_bounds():
    from packaging.version import Version

    newest = pins(ROOT / "requirements.txt")
    for name, bound in lower_bounds().items():
        assert name in newest, f"requirements.txt does not pin {name}"
        assert Version(newest[name]) >= Version(bound), f"{name}=={newest[name]} < {bound}"


def test_genlib_checks_the_lower_bounds_pyproject_declares():
    bounds = lower_bounds()
    assert compat.OLDEST == {"tensorflow": bounds["tensorflow"], "keras": bounds["keras"]}


def test_this_environment_is_supported():
    assert compat.version_problems() == []


@pytest.mark.parametrize("installed, expected", [
    ({"tensorflow": "2.21.0", "keras": "3.9.2"}, ["genlib needs keras >= 3.10.0, found 3.9.2"]),
    ({"tensorflow": "2.16.1", "keras": "3.10.0"},
     ["genlib needs tensorflow >= 2.19.0, found 2.16.1"]),
    ({"tensorflow": None, "keras": "3.15.1"},
     ["genlib needs tensorflow >= 2.19.0, which is not installed"]),
    ({"tensorflow": "2.19.0", "keras": "3.10.0"}, []),
    ({"tensorflow": "2.22.0rc1", "keras": "3.16.0.dev2026"}, []),
])
def test_version_problems(installed, expected):
    assert compat.version_problems(installed) == expected


def test_a_too_old_keras_stops_import_genlib_with_one_clear_line(tmp_path):
    # A fake installed Keras 3.5.0 ahead of the real one on the path: what the metadata says.
    info = tmp_path / "keras-3.5.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: keras\nVersion: 3.5.0\n")
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import genlib"],
        capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == ("ImportError: genlib needs keras >= 3.10.0, found 3.5.0. Fix: pip install "
                         "--upgrade 'keras>=3.10.0' (then restart the kernel)")
    # Stopped before TensorFlow or Keras was imported: no frame of theirs in the traceback.
    assert "site-packages/keras" not in result.stderr
    assert "site-packages/tensorflow" not in result.stderr


def onednn_enabled_after_import_genlib(**environment) -> bool:
    """Whether TensorFlow uses its oneDNN kernels in a fresh process that imports genlib."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"} | environment
    code = ("import genlib\n"
            "from tensorflow.python.util import _pywrap_util_port\n"
            "print(_pywrap_util_port.IsMklEnabled())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=True)
    return result.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.skipif(platform.machine().lower() not in compat.ONEDNN_MACHINES,
                    reason="genlib turns oneDNN on for x86-64 processors only")
def test_import_genlib_turns_on_onednn_unless_the_reader_said_otherwise():
    assert onednn_enabled_after_import_genlib()
    assert not onednn_enabled_after_import_genlib(TF_ENABLE_ONEDNN_OPTS="0")


def test_import_genlib_writes_no_tensorflow_start_up_notice():
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import genlib, keras\nprint(keras.ops.ones(1))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=True)
    assert result.stderr == ""


FAKE_TENSORFLOW = """
import os
os.write(2, b"I0000 00:00:1.0 1 port.cc:153] oneDNN custom operations are on. You may see\\n")
os.write(2, b"E0000 00:00:1.0 1 something.cc:1] a real problem\\n")
class config:
    list_physical_devices = staticmethod(lambda: [])
"""


@pytest.mark.parametrize("level, shown", [("2", ["a real problem"]),
                                          ("0", ["oneDNN custom", "a real problem"])])
def test_tensorflows_other_start_up_lines_still_show(tmp_path, level, shown):
    import os

    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TENSORFLOW)
    # genlib.compat alone (the package would import the real TensorFlow first).
    code = ("import importlib.util, sys\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\n"
            f"spec = importlib.util.spec_from_file_location('compat', {str(ROOT / 'genlib' / 'compat.py')!r})\n"
            "compat = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(compat)\n"
            "print(compat.import_tensorflow().__file__)")
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": level}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, check=True)
    assert result.stdout.strip() == str(tmp_path / "tensorflow" / "__init__.py")
    lines = result.stderr.splitlines()
    assert len(lines) == len(shown) and all(text in line for text, line in zip(shown, lines))


def test_set_random_seed_makes_a_rerun_draw_the_same_numbers():
    # Keras 3.10's own set_random_seed keeps its unseeded generator: a second run of the
    # same cells drew other numbers there. genlib's resets it on every supported Keras.
    import random

    import keras
    import numpy as np

    import genlib

    def run_cells():
        genlib.set_random_seed(7)
        return (float(keras.random.normal(())), float(keras.random.uniform(())),
                random.random(), float(np.random.random()))

    assert run_cells() == run_cells()


@pytest.mark.parametrize("seed", [-1, 1.5, True, "42"])
def test_set_random_seed_refuses_what_is_not_a_seed(seed):
    import genlib

    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        genlib.set_random_seed(seed)
