"""Fashion-MNIST, loaded from verified local files, and ``tf.data`` input pipelines.

Where the data comes from, in this order:

1. the directory named by the environment variable ``GENLIB_DATA_DIR``;
2. ``/usr/share/datasets/fashion-mnist/`` (Debian's package ``dataset-fashion-mnist``);
3. Keras' own cache (``$KERAS_HOME/datasets/fashion-mnist``, by default under ``~/.keras``);
4. a download from the official mirror through ``keras.datasets.fashion_mnist`` (what
   happens in Colab), unless ``download=False``.

Each file may be gzip-compressed (``*.gz``) or not; its *decompressed* content is checked
against the SHA-256 sums of the official release, so a corrupt or truncated file is
reported by name instead of producing wrong images.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genlib.modes import RunMode, current_mode

DATA_DIR_ENV_VAR = "GENLIB_DATA_DIR"
SYSTEM_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")

#: SHA-256 of the decompressed official files (Xiao, Rasul & Vollgraf, 2017).
SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

IMAGE_SHAPE = (28, 28)  # height and width of a Fashion-MNIST image
N_VALID = 5_000  # the last 5,000 training images form the validation set

_HOW_TO_FIX = (
    "To get the official files offline, install Debian's package "
    "(`sudo apt-get install dataset-fashion-mnist`), or put the four files "
    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
    f"t10k-labels-idx1-ubyte.gz) in a folder and set {DATA_DIR_ENV_VAR} to that folder."
)


class DatasetError(RuntimeError):
    """The Fashion-MNIST files are missing, corrupt or truncated.

    Its message names the file and says what to do.

    >>> try:
    ...     load_fashion_mnist(download=False)
    ... except DatasetError as error:
    ...     print(error)  # doctest: +SKIP
    """


@dataclass(frozen=True)
class FashionMNIST:
    """Fashion-MNIST split into training, validation and test sets.

    Images are ``float32`` arrays of shape ``(n, 28, 28)`` with pixels in [0, 1];
    labels are ``uint8`` class indices into :attr:`class_names`.

    >>> data = load_fashion_mnist("quick", download=False)  # doctest: +SKIP
    >>> data.class_names[data.y_valid[0]], data.x_valid.shape  # doctest: +SKIP
    ('Sandal', (1000, 28, 28))
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple = CLASS_NAMES
    source: str = ""

    def __repr__(self) -> str:
        return (
            f"FashionMNIST(train={len(self.x_train):,}, valid={len(self.x_valid):,}, "
            f"test={len(self.x_test):,}, source={self.source!r})"
        )


def keras_cache_dir() -> Path:
    """The folder where Keras caches Fashion-MNIST (``$KERAS_HOME`` or ``~/.keras``).

    >>> keras_cache_dir().parts[-2:]
    ('datasets', 'fashion-mnist')
    """
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return Path(home).expanduser() / "datasets" / "fashion-mnist"


def _file_in(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _files_in(folder: Path) -> dict[str, Path | None]:
    return {name: _file_in(folder, name) for name in SHA256}


def find_data_dir(download: bool = True) -> Path:
    """Return the first folder that holds the four Fashion-MNIST files.

    Follows the search order of this module's docstring. A folder named by
    ``GENLIB_DATA_DIR`` must hold all four files; so must any other folder that
    holds some of them (a half-installed copy is reported, not skipped).

    Examples
    --------
    >>> folder = find_data_dir(download=False)  # doctest: +SKIP
    >>> sorted(p.name for p in folder.glob("*idx*"))[:1]  # doctest: +SKIP
    ['t10k-images-idx3-ubyte.gz']
    """
    explicit = os.environ.get(DATA_DIR_ENV_VAR)
    if explicit:
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            raise DatasetError(
                f"{DATA_DIR_ENV_VAR}={explicit!r} is not a folder. Point it at the folder "
                f"that holds the Fashion-MNIST files, or unset it. {_HOW_TO_FIX}"
            )
        _require_all(folder, f"the folder named by {DATA_DIR_ENV_VAR}")
        return folder
    for folder, what in ((SYSTEM_DATA_DIR, "Debian's dataset-fashion-mnist folder"),
                         (keras_cache_dir(), "Keras' cache")):
        files = _files_in(folder)
        if all(files.values()):
            return folder
        if any(files.values()):
            _require_all(folder, what)
    if not download:
        raise DatasetError(
            "Fashion-MNIST was not found: looked in $"
            f"{DATA_DIR_ENV_VAR} (unset), {SYSTEM_DATA_DIR} and {keras_cache_dir()}, "
            f"and downloading is switched off. {_HOW_TO_FIX}"
        )
    return _download()


def _require_all(folder: Path, what: str) -> None:
    missing = [name for name, path in _files_in(folder).items() if path is None]
    if missing:
        raise DatasetError(
            f"{what} ({folder}) lacks {', '.join(f + '.gz' for f in missing)}. {_HOW_TO_FIX}"
        )


def _download() -> Path:  # pragma: no cover - tests and CI never download
    import keras

    try:
        keras.datasets.fashion_mnist.load_data()
    except Exception as error:
        raise DatasetError(
            f"Fashion-MNIST is not installed here and the download failed ({error}). {_HOW_TO_FIX}"
        ) from error
    return keras_cache_dir()


def _read_verified(path: Path, name: str) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                content = stream.read()
        else:
            content = path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(
            f"{path} is corrupt or truncated ({error}). Delete it and get a fresh copy. "
            f"{_HOW_TO_FIX}"
        ) from error
    digest = hashlib.sha256(content).hexdigest()
    if digest != SHA256[name]:
        raise DatasetError(
            f"{path} does not hold the official Fashion-MNIST content (its SHA-256 is "
            f"{digest[:12]}…, expected {SHA256[name][:12]}…): the file is corrupt, truncated or "
            f"a different data set. Delete it and get a fresh copy. {_HOW_TO_FIX}"
        )
    return content


def _parse_idx(content: bytes, expected_magic: int, path: Path) -> np.ndarray:
    magic = int.from_bytes(content[:4], "big")
    if magic != expected_magic:  # pragma: no cover - ruled out by the checksum
        raise DatasetError(f"{path} is not an IDX file of the expected kind (magic {magic}).")
    n_dims = magic & 0xFF
    dims = [int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims)]
    return np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(dims)


@functools.lru_cache(maxsize=4)
def _load_raw(folder: Path):
    arrays = {}
    for name, path in _files_in(folder).items():
        if path is None:
            _require_all(folder, "the data folder")
        content = _read_verified(path, name)
        arrays[name] = _parse_idx(content, 2051 if "images" in name else 2049, path)
    return (arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"],
            arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"])


def load_fashion_mnist(mode: RunMode | str | None = None, *, download: bool = True) -> FashionMNIST:
    """Load Fashion-MNIST, verified, scaled to [0, 1] and split for the run mode.

    The standard split: the first 55,000 training images for training, the last
    5,000 for validation, and the 10,000 test images. In quick mode each set is cut
    to the first ``n_train``/``n_valid``/``n_test`` images of :class:`~genlib.modes.RunMode`
    (the official files are already shuffled, so the subsets keep all classes).

    Parameters
    ----------
    mode : RunMode, "full", "quick" or None
        The run mode; ``None`` means :func:`genlib.current_mode`.
    download : bool
        Whether to download through Keras when no local copy exists.

    Examples
    --------
    >>> data = load_fashion_mnist("quick", download=False)  # doctest: +SKIP
    >>> data.x_train.shape, data.x_train.dtype, float(data.x_train.max())  # doctest: +SKIP
    ((3000, 28, 28), dtype('float32'), 1.0)
    >>> data.class_names[data.y_train[0]]  # doctest: +SKIP
    'Ankle boot'
    """
    if mode is None:
        mode = current_mode()
    elif isinstance(mode, str):
        mode = RunMode.named(mode)
    elif not isinstance(mode, RunMode):
        raise TypeError(
            f"mode must be a RunMode, 'full', 'quick' or None, not {type(mode).__name__}"
        )
    folder = find_data_dir(download=download)
    train_images, train_labels, test_images, test_labels = _load_raw(folder.resolve())
    n_fit = len(train_images) - N_VALID

    def scaled(images):
        return (images.astype(np.float32) / 255.0)

    return FashionMNIST(
        x_train=scaled(train_images[:n_fit][: mode.n_train]),
        y_train=train_labels[:n_fit][: mode.n_train].copy(),
        x_valid=scaled(train_images[n_fit:][: mode.n_valid]),
        y_valid=train_labels[n_fit:][: mode.n_valid].copy(),
        x_test=scaled(test_images[: mode.n_test]),
        y_test=test_labels[: mode.n_test].copy(),
        source=str(folder),
    )


def make_dataset(inputs, targets=None, *, batch_size: int = 32,
                 shuffle: bool = False, seed: int | None = None,
                 drop_remainder: bool = False):
    """A ``tf.data`` pipeline over arrays: (optionally) shuffle, batch, prefetch.

    The course's one input pipeline: the autoencoders train on it, and so do the GANs
    (:func:`genlib.gan.gan_dataset`) and the diffusion model
    (:func:`genlib.diffusion.diffusion_dataset`), which check their images first.

    Parameters
    ----------
    inputs : array of shape (n, ...)
    targets : array of shape (n, ...) or None, default=None
        For an autoencoder pass the inputs themselves (``targets=inputs``); with
        ``None`` the dataset yields inputs only (as a GAN needs).
    batch_size : int, default=32
    shuffle : bool, default=False
        Reshuffle every epoch (with ``seed`` for a reproducible order).
    seed : int, optional
        The shuffling's seed.
    drop_remainder : bool, default=False
        Drop the last, incomplete batch, so that every step sees ``batch_size`` examples
        (and a compiled training step is traced only once).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((100, 28, 28), dtype="float32")
    >>> dataset = make_dataset(x, x, batch_size=32, shuffle=True, seed=42)
    >>> [tuple(batch[0].shape) for batch in dataset][-1]
    (4, 28, 28)
    >>> len(list(make_dataset(x, batch_size=32, drop_remainder=True)))
    3
    """
    import tensorflow as tf

    inputs, targets = _check_dataset(inputs, targets, batch_size, drop_remainder)
    if targets is None:
        dataset = tf.data.Dataset.from_tensor_slices(inputs)
    else:
        dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        dataset = dataset.shuffle(len(inputs), seed=seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _check_dataset(inputs, targets, batch_size, drop_remainder):
    inputs = np.asarray(inputs)
    if inputs.ndim == 0 or len(inputs) == 0:
        raise ValueError(f"inputs must be a non-empty array of examples, got shape {inputs.shape}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if drop_remainder and batch_size > len(inputs):
        raise ValueError(f"batch_size={batch_size} is larger than the {len(inputs)} "
                         "examples, and the incomplete batch is dropped: lower it, or pass "
                         "more examples")
    if targets is not None:
        targets = np.asarray(targets)
        if len(targets) != len(inputs):
            raise ValueError(
                f"inputs and targets must have the same number of examples, got "
                f"{len(inputs)} inputs and {len(targets)} targets"
            )
    return inputs, targets
