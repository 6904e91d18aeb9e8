"""The TensorFlow and Keras versions genlib supports, and what differs between them.

genlib runs on every version from :data:`OLDEST` (what Colab's runtime has) to the pins
of ``requirements.txt`` (what builds the book), and CI tests both ends. Where Keras
changed its behaviour inside that range, genlib asks Keras once how it behaves instead of
assuming a version:

- :func:`keras_divides_activity_losses`: Keras 3.14 and later divide a layer's
  activity-regularization loss by the batch size; Keras 3.10–3.13 add it as it is.
- :func:`set_random_seed`: in Keras 3.15, ``keras.utils.set_random_seed`` also resets the
  generator behind ``keras.random`` calls without a seed; in Keras 3.10 it does not, so
  running a notebook's cells a second time in the same session printed other numbers.

(Keras 3.10 also refuses ``Conv2DTranspose(output_padding=0)``; genlib never passes it.)

>>> from genlib import compat
>>> compat.OLDEST["keras"], compat.OLDEST["tensorflow"]
('3.10.0', '2.19.0')
"""

from __future__ import annotations

import functools
from importlib import metadata

# Colab's runtime was last announced with TensorFlow 2.19.0 and Keras 3.10.0.
OLDEST = {"tensorflow": "2.19.0", "keras": "3.10.0"}

# The processor architectures (``platform.machine()``, lower case) where TensorFlow has
# oneDNN kernels but may leave them off by default; `import genlib` turns them on there.
ONEDNN_MACHINES = ("x86_64", "amd64")

# What TensorFlow's C++ side writes to the process's standard error while it loads and
# looks for a GPU, on a machine without one: notices, not problems. TensorFlow 2.19 to 2.21
# write them whatever TF_CPP_MIN_LOG_LEVEL says (tensorflow/tensorflow#100442), and Jupyter
# shows them under the first cell that imports genlib. TensorFlow 2.19 (Colab's) also
# reports, as errors, plugins it registers twice.
STARTUP_NOTICES = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on.",
    "Could not find cuda drivers on your machine, GPU will not be used.",
    "failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "when one has already been registered",  # cuFFT, cuDNN and cuBLAS (TensorFlow 2.19)
    "computation placer already registered.",  # TensorFlow 2.19
)

# The distributions that provide each module (TensorFlow has CPU-only and macOS builds).
_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"),
    "keras": ("keras", "keras-nightly"),
}


def _installed_version(module: str) -> str | None:
    for distribution in _DISTRIBUTIONS[module]:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def version_problems(installed: dict[str, str | None] | None = None) -> list[str]:
    """What is too old or missing among TensorFlow and Keras, one sentence each.

    Reads the installed versions from the packages' metadata, without importing
    them, so that a version genlib does not support never gets the chance to fail
    deep inside its own import.

    Parameters
    ----------
    installed : dict or None, default None
        ``{"tensorflow": version, "keras": version}`` to judge instead of what is
        installed (a version of None means not installed).

    Examples
    --------
    >>> version_problems({"tensorflow": "2.21.0", "keras": "3.15.1"})
    []
    >>> version_problems({"tensorflow": "2.21.0", "keras": "3.5.0"})
    ['genlib needs keras >= 3.10.0, found 3.5.0']
    """
    from packaging.version import Version

    if installed is None:
        installed = {module: _installed_version(module) for module in OLDEST}
    problems = []
    for module, oldest in OLDEST.items():
        found = installed.get(module)
        if found is None:
            problems.append(f"genlib needs {module} >= {oldest}, which is not installed")
        elif Version(found) < Version(oldest):
            problems.append(f"genlib needs {module} >= {oldest}, found {found}")
    return problems


def check_versions() -> None:
    """Raise an ImportError in one line when TensorFlow or Keras is too old or missing.

    ``import genlib`` calls it before it imports TensorFlow. The message names the
    version found, the version needed and the command that fixes it.

    Examples
    --------
    >>> check_versions()  # the versions of this environment are supported
    """
    problems = version_problems()
    if problems:
        # Upgrade only what is too old: in Colab, the rest stays as the runtime has it.
        fix = " ".join(f"'{module}>={oldest}'" for module, oldest in OLDEST.items()
                       if any(f"needs {module} " in problem for problem in problems))
        raise ImportError(f"{'; '.join(problems)}. Fix: pip install --upgrade {fix} "
                          "(then restart the kernel)") from None


@functools.cache
def keras_divides_activity_losses() -> bool:
    """Whether this Keras divides a layer's activity-regularization loss by the batch size.

    Keras 3.14 and later do (the penalty then applies per example); older versions
    add it as the regularizer returns it. Found out once, by asking Keras: an
    ``ActivityRegularization(l1=1)`` layer called on a batch of two ones adds 1 if
    Keras divides, 2 if it does not.

    Examples
    --------
    >>> import keras
    >>> from packaging.version import Version
    >>> keras_divides_activity_losses() == (Version(keras.__version__) >= Version("3.14"))
    True
    """
    import keras
    import numpy as np
    import tensorflow as tf

    # Eagerly, even when first asked while a tf.function is being traced.
    with tf.init_scope():
        layer = keras.layers.ActivityRegularization(l1=1.0)
        layer(np.ones((2, 1), dtype="float32"))
        added = float(keras.ops.convert_to_numpy(layer.losses[0]))
    if added not in (1.0, 2.0):
        raise RuntimeError(f"Keras added an activity loss of {added} for two activations of 1 "
                           "with an L1 weight of 1; genlib expected 1 or 2. Please report it.")
    return added == 1.0


def activity_loss(loss, activations):
    """What a regularizer's ``__call__`` returns so that Keras adds exactly ``loss``.

    Keras 3.14 and later divide what an activity regularizer returns by the batch
    size, older versions do not (:func:`keras_divides_activity_losses`). A penalty
    meant to be added as it is (a KL divergence of batch means, or a per-image
    penalty already averaged over the batch) goes through this function.

    Parameters
    ----------
    loss : scalar tensor
        The loss to add to the model's cost.
    activations : tensor of shape (batch, ...)
        The activations the regularizer was called on (for the batch size).

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> class MeanSquare(keras.regularizers.Regularizer):
    ...     def __call__(self, activations):
    ...         per_image = keras.ops.sum(activations ** 2, axis=-1)
    ...         return activity_loss(keras.ops.mean(per_image), activations)
    >>> layer = keras.layers.Identity(activity_regularizer=MeanSquare())
    >>> _ = layer(np.ones((8, 3), dtype="float32"))
    >>> float(layer.losses[0])  # 3 per image, on every Keras version
    3.0
    """
    import keras

    if not keras_divides_activity_losses():
        return loss
    batch_size = keras.ops.shape(activations)[0]
    return loss * keras.ops.cast(batch_size, loss.dtype)


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, so that what follows draws the same numbers.

    ``keras.utils.set_random_seed``, plus what Keras 3.10's leaves out: the
    generator behind ``keras.random`` calls without a seed (made on first use and
    kept for the session) is reset too, so that running the cells of a notebook
    again gives the same numbers on every supported Keras.

    Parameters
    ----------
    seed : int
        The seed, a non-negative integer.

    Examples
    --------
    >>> import keras
    >>> set_random_seed(42)
    >>> first = float(keras.random.normal(()))
    >>> set_random_seed(42)
    >>> float(keras.random.normal(())) == first
    True
    """
    import keras
    import numpy as np
    from keras.src.backend.common import global_state

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, e.g. 42; got {seed!r}")
    keras.utils.set_random_seed(int(seed))
    # The name Keras keeps its unseeded generator under (keras.src.random.seed_generator).
    global_state.set_global_attribute("global_seed_generator", None)


def import_tensorflow():
    """Import TensorFlow and let it find its devices, without its start-up notices.

    The lines TensorFlow's C++ side writes to standard error meanwhile are caught (at the
    level of the file descriptor, where they are written) and written back to
    ``sys.stderr``, except the :data:`STARTUP_NOTICES` of a machine without a GPU; when
    ``TF_CPP_MIN_LOG_LEVEL`` is ``0`` (every message asked for), all of them. Anything else,
    an error or an unknown warning, still shows.

    Returns
    -------
    module
        ``tensorflow``.

    Examples
    --------
    >>> tf = import_tensorflow()
    >>> tf.__name__
    'tensorflow'
    """
    import os
    import sys
    import tempfile

    with tempfile.TemporaryFile() as caught:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no file descriptor 2 to catch: import as it is
            import tensorflow as tf

            return tf
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # where it looks for CUDA, and says so
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode(errors="replace").splitlines()
            everything = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") == "0"
            shown = [line for line in lines
                     if everything or not any(notice in line for notice in STARTUP_NOTICES)]
            if shown:
                print("\n".join(shown), file=sys.stderr)
    return tf
