"""A Fréchet distance for Fashion-MNIST: how far generated images are from real ones.

The Fréchet Inception Distance (FID, Heusel et al., 2017) summarizes a set of images by
the mean :math:`\\mu` and covariance :math:`\\Sigma` of their features in a trained
classifier, and compares two sets with the Fréchet (2-Wasserstein) distance between the
Gaussians with those statistics:

.. math::

    d^2 = \\lVert \\mu_a - \\mu_b \\rVert^2
          + \\operatorname{Tr}\\bigl(\\Sigma_a + \\Sigma_b - 2 (\\Sigma_a \\Sigma_b)^{1/2}\\bigr)

Like the FID, genlib reports this squared distance :math:`d^2` and calls it the distance.

The standard FID uses Inception-v3, trained on 299x299 colour photographs; its features
say little about 28x28 grayscale clothes. So genlib ships its own yardstick: a small
convolutional classifier trained on Fashion-MNIST by ``tools/train_classifier.py``, whose
weights (``genlib/weights/``) are installed with the package, so that every chapter and
every machine measures with the same features. The features are the 128 activations of
its penultimate layer (:data:`FEATURE_LAYER`). The numbers are on this classifier's scale:
they cannot be compared with FID values published for other data sets or networks.

The distance estimated from samples is **biased**: two samples of the *same*
distribution are at a positive distance, larger when the samples are smaller. Compare
only distances computed with the same number of images; the course uses
:data:`DEFAULT_N_IMAGES` (as many as Fashion-MNIST's test set) in full mode and the
whole (smaller) test set in quick mode, and prints :func:`real_baseline` next to every
model's score.

>>> from genlib import frechet
>>> frechet.N_FEATURES, frechet.DEFAULT_N_IMAGES
(128, 10000)
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import keras
import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from genlib import pretrained
from genlib._validation import check_real
from genlib.data import CLASS_NAMES, IMAGE_SHAPE

N_CLASSES = len(CLASS_NAMES)
#: Units of the classifier's penultimate layer, whose activations are the features.
N_FEATURES = 128
#: Name of that layer in :func:`build_classifier`'s model.
FEATURE_LAYER = "features"
#: The number of images per set that every comparison of the course uses (full mode).
DEFAULT_N_IMAGES = 10_000
#: Images per forward pass when extracting features (their activations take ~100 MB).
BATCH_SIZE = 500


_ACCEPTED_SHAPES = "(n, 28, 28), (n, 28, 28, 1) or (n, 784)"


# --- The classifier ---------------------------------------------------------------------


def _conv_block(x, filters: int, name: str, seed: int):
    # No bias: the batch normalization that follows has its own offset.
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv",
                            kernel_initializer=keras.initializers.GlorotUniform(seed))(x)
    # Running statistics that follow the weights closely (PyTorch's default; Keras' 0.99
    # lags behind while the learning rate is high, so the model does worse in inference).
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def build_classifier(dropout: float = 0.3, *, seed: int = 0) -> keras.Model:
    """The architecture of the shipped Fashion-MNIST classifier, with fresh weights.

    Four convolution–batch-norm–ReLU blocks (32 filters at 28x28, 64 and 64 at 14x14,
    128 at 7x7), global average pooling, dropout, a dense layer of
    :data:`N_FEATURES` ReLU units named :data:`FEATURE_LAYER` (the penultimate layer,
    whose activations are the features of the Fréchet distance), and a 10-way softmax.
    The weights file is matched to this model layer by layer (in order), so any change
    here needs retrained weights.

    Use :func:`load_classifier` for the trained model; this function is what
    ``tools/train_classifier.py`` trains.

    Parameters
    ----------
    dropout : float
        Dropout rate before the feature layer (active during training only).
    seed : int
        Seeds the initial weights and the dropout masks. Every random part has its own
        seed, so building the model never draws from Keras' or Python's global random
        state: loading the classifier in the middle of a notebook leaves the random
        numbers of the cells that follow unchanged.

    Examples
    --------
    >>> model = build_classifier()
    >>> model.input_shape, model.output_shape, model.layers[-2].name
    ((None, 28, 28, 1), (None, 10), 'features')
    """
    dropout = check_real(dropout, "dropout", low=0, high=1, high_open=True)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    inputs = keras.Input((*IMAGE_SHAPE, 1), name="images")
    x = _conv_block(inputs, 32, "block1", seed)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = _conv_block(x, 64, "block2", seed + 1)
    x = _conv_block(x, 64, "block3", seed + 2)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = _conv_block(x, 128, "block4", seed + 3)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = keras.layers.Dropout(dropout, seed=seed + 4, name="dropout")(x)
    features = keras.layers.Dense(N_FEATURES, activation="relu", name=FEATURE_LAYER,
                                  kernel_initializer=keras.initializers.GlorotUniform(seed + 5))(x)
    outputs = keras.layers.Dense(N_CLASSES, activation="softmax", name="probabilities",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed + 6))(
                                     features)
    return keras.Model(inputs, outputs, name="fashion_classifier")


def classifier_provenance() -> dict:
    """Where the shipped classifier comes from: accuracies, training settings, versions.

    The record ``tools/train_classifier.py`` wrote next to the weights
    (``genlib/weights/fashion_classifier.json``).

    Examples
    --------
    >>> record = classifier_provenance()
    >>> record["test_accuracy"] > 0.9, record["n_features"]
    (True, 128)
    """
    return pretrained.provenance(pretrained.CLASSIFIER)


@functools.lru_cache(maxsize=1)
def load_classifier() -> keras.Model:
    """The trained Fashion-MNIST classifier that ships with genlib (loaded once, cached).

    Its weights are checked against the SHA-256 in the provenance record, so a truncated
    file (or a Git LFS pointer instead of the file) is reported instead of silently
    producing wrong features. Every call returns the *same* model, frozen
    (``trainable=False``): it is a measuring instrument, not something to train.

    Examples
    --------
    >>> model = load_classifier()
    >>> model.output_shape, model.trainable, load_classifier() is model
    ((None, 10), False, True)
    """
    model = build_classifier()
    model.load_weights(pretrained.verified_weights_file(pretrained.CLASSIFIER))
    model.trainable = False
    return model


def _features_and_probabilities(classifier: keras.Model) -> keras.Model:
    # One forward pass gives both the features and the class probabilities.
    return keras.Model(classifier.input,
                       [classifier.get_layer(FEATURE_LAYER).output, classifier.output],
                       name="fashion_features")


@functools.lru_cache(maxsize=1)
def _feature_model() -> keras.Model:
    return _features_and_probabilities(load_classifier())


# --- Input validation --------------------------------------------------------------------


def _rescale_hint(low: float, high: float) -> str:
    if low >= -1.0 and high <= 1.0:
        return ("They look like tanh outputs in [-1, 1] (as a GAN's generator often makes): "
                "rescale them with (images + 1) / 2.")
    advice = "Rescale them to [0, 1]"
    if low >= 0.0 and high <= 255.0:
        advice += " (if they are 8-bit pixel values, 0 to 255: divide them by 255)"
    return advice + ". Clip them with np.clip(images, 0, 1) only if they overshoot by rounding."


def _as_images(images, name: str = "images") -> np.ndarray:
    """``images`` as a float32 array of shape (n, 28, 28, 1), or a clear ValueError."""
    try:
        array = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array of images, got "
                         f"{type(images).__name__} ({error})") from None
    shape = array.shape
    if array.ndim == 3 and shape[1:] == IMAGE_SHAPE:
        array = array[..., None]
    elif array.ndim == 2 and shape[1] == IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
        array = array.reshape(-1, *IMAGE_SHAPE, 1)
    elif not (array.ndim == 4 and shape[1:] == (*IMAGE_SHAPE, 1)):
        hint = (" One image? Add the batch axis: images[None]." if shape == IMAGE_SHAPE else
                " RGB images? The classifier reads grayscale Fashion-MNIST images only."
                if array.ndim == 4 and shape[-1] == 3 else "")
        raise ValueError(
            f"{name} has shape {shape}, but the Fashion-MNIST classifier accepts "
            f"{_ACCEPTED_SHAPES}: n grayscale images of 28x28 pixels.{hint}"
        )
    if len(array) == 0:
        raise ValueError(f"{name} is empty (shape {shape}): pass at least one image")
    finite = np.isfinite(array)
    if not finite.all():
        bad_images = int((~finite).reshape(len(array), -1).any(axis=1).sum())
        raise ValueError(
            f"{name} contains NaN or infinite values (in {bad_images} of {len(array)} images). "
            f"A generator that outputs NaN has usually diverged: check its training losses."
        )
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"{name} has values in [{low:.3g}, {high:.3g}], but the classifier expects "
            f"pixels in [0, 1] like genlib.load_fashion_mnist() returns. "
            f"{_rescale_hint(low, high)}"
        )
    return array


def _as_features(features, name: str) -> np.ndarray:
    try:
        array = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array, got {type(features).__name__} "
                         f"({error})") from None
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_images, n_features), got shape "
                         f"{array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    n, d = array.shape
    if n < 2:
        raise ValueError(f"{name} has {n} row(s): a covariance needs at least 2 images, "
                         f"and a meaningful one many more than features")
    if n <= d:
        raise ValueError(
            f"{name} has {n} images for {d} features: the covariance of {d} features needs "
            f"more images than features, at least {d + 1} (the course compares sets of "
            f"{DEFAULT_N_IMAGES:,} images in full mode)"
        )
    return array


# --- Features and predictions ------------------------------------------------------------


def _forward(images, name: str = "images", model=None) -> tuple[np.ndarray, np.ndarray]:
    """Features and class probabilities; ``model`` defaults to the shipped classifier's."""
    array = _as_images(images, name)
    features, probabilities = [], []
    model = _feature_model() if model is None else model
    for start in range(0, len(array), BATCH_SIZE):
        # predict_on_batch runs a compiled graph (about three times faster than calling
        # the model eagerly) without predict()'s input-pipeline set-up, which dominates
        # for small sets.
        batch_features, batch_probabilities = model.predict_on_batch(
            array[start:start + BATCH_SIZE])
        features.append(np.asarray(batch_features))
        probabilities.append(np.asarray(batch_probabilities))
    return np.concatenate(features), np.concatenate(probabilities)


def classifier_features(images) -> np.ndarray:
    """The penultimate-layer features of the shipped classifier, shape (n, 128).

    Parameters
    ----------
    images : array of shape (n, 28, 28), (n, 28, 28, 1) or (n, 784)
        Pixels in [0, 1], as :func:`genlib.load_fashion_mnist` returns them.

    Returns
    -------
    ndarray of float32, shape (n, :data:`N_FEATURES`)

    Examples
    --------
    >>> import numpy as np
    >>> images = np.random.default_rng(0).random((3, 28, 28))
    >>> classifier_features(images).shape
    (3, 128)
    """
    return _forward(images)[0]


def predict_classes(images) -> np.ndarray:
    """The shipped classifier's predicted class index (0–9) for each image.

    Indices into :data:`genlib.data.CLASS_NAMES`.

    Examples
    --------
    >>> import numpy as np
    >>> from genlib.data import CLASS_NAMES
    >>> images = np.random.default_rng(0).random((4, 28, 28))
    >>> classes = predict_classes(images)
    >>> classes.shape, CLASS_NAMES[classes[0]] in CLASS_NAMES
    ((4,), True)
    """
    return np.argmax(_forward(images)[1], axis=1).astype(np.int64)


def share_per_class(predicted, labels, n_classes: int = 10) -> np.ndarray:
    """For each class, the share of its images that were predicted as that class.

    How well a conditional generator obeys: ``predicted`` holds the classes the shipped
    classifier found (:func:`predict_classes`) in images requested as ``labels``; entry
    ``k`` of the result is the share of the class-``k`` requests recognized as class ``k``
    (NaN for a class never requested).

    Examples
    --------
    >>> share_per_class([0, 1, 1, 1], [0, 0, 1, 1], n_classes=2)
    array([0.5, 1. ])
    """
    labels = np.asarray(labels)
    hits = np.asarray(predicted) == labels
    requested = np.bincount(labels, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(labels, weights=hits, minlength=n_classes) / requested


# --- The distance ------------------------------------------------------------------------


def frechet_distance_from_statistics(mu_a, sigma_a, mu_b, sigma_b, *, eps: float = 1e-6) -> float:
    """Fréchet distance between the Gaussians N(mu_a, sigma_a) and N(mu_b, sigma_b).

    ``||mu_a - mu_b||² + Tr(sigma_a + sigma_b - 2 (sigma_a sigma_b)^(1/2))``, in float64,
    with the matrix square root of :func:`scipy.linalg.sqrtm`. As in the reference FID
    code: when the product is singular and the square root is not finite (or not a
    square root), ``eps`` is added to the diagonals of both covariances (of the whole
    formula, so the distance of a set to itself stays 0); an imaginary part left by
    rounding is dropped when it is negligible, and is an error otherwise. Rounding can
    make the value a hair below zero; it is returned as 0.

    Examples
    --------
    Two 2-D Gaussians with diagonal covariances: the distance is
    ``Σ (μa - μb)² + Σ (σa - σb)²``, here ``(1 + 4) + ((1 - 2)² + (3 - 1)²) = 10``.

    >>> import numpy as np
    >>> frechet_distance_from_statistics([0, 0], np.diag([1, 9]), [1, 2], np.diag([4, 1]))
    10.0
    """
    mu_a, mu_b = (np.atleast_1d(np.asarray(mu, dtype=np.float64)) for mu in (mu_a, mu_b))
    sigma_a, sigma_b = (np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in (sigma_a, sigma_b))
    d = mu_a.shape[0]
    if mu_a.shape != (d,) or mu_b.shape != (d,):
        raise ValueError(f"mu_a and mu_b must be vectors of the same length, got shapes "
                         f"{mu_a.shape} and {mu_b.shape}")
    if sigma_a.shape != (d, d) or sigma_b.shape != (d, d):
        raise ValueError(f"sigma_a and sigma_b must be ({d}, {d}) covariance matrices, got "
                         f"shapes {sigma_a.shape} and {sigma_b.shape}")
    named = {"mu_a": mu_a, "mu_b": mu_b, "sigma_a": sigma_a, "sigma_b": sigma_b}
    for name, value in named.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} contains NaN or infinite values")
    if not eps > 0:
        raise ValueError(f"eps must be a small positive number, got {eps!r}")

    covmean = _sqrtm(sigma_a @ sigma_b)
    if covmean is None:
        # The distance between the Gaussians with eps added to their covariances: the
        # reference code adds eps to the product's factors only, which biases the
        # result by -2 eps d; adding it to the traces as well keeps d(a, a) = 0.
        offset = eps * np.eye(d)
        sigma_a, sigma_b = sigma_a + offset, sigma_b + offset
        covmean = _sqrtm(sigma_a @ sigma_b)
        if covmean is None:
            raise ValueError(
                "the matrix square root of sigma_a @ sigma_b could not be computed, even "
                f"with eps={eps:g} added to the diagonals: are these covariance matrices?"
            )
    if np.iscomplexobj(covmean):
        diagonal = np.diagonal(covmean)
        scale = max(1.0, float(np.max(np.abs(diagonal.real))))
        if np.max(np.abs(diagonal.imag)) > 1e-3 * scale:
            raise ValueError(
                f"the square root of sigma_a @ sigma_b has a large imaginary part "
                f"({np.max(np.abs(diagonal.imag)):.3g}): the matrices are probably not "
                f"valid covariance matrices (symmetric, positive semi-definite)"
            )
        covmean = covmean.real
    diff = mu_a - mu_b
    distance = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(covmean)
    return max(float(distance), 0.0)


def _sqrtm(matrix: np.ndarray):
    """scipy's square root of ``matrix``, or None when it is not finite or not a root."""
    # One BLAS thread: as fast for these small matrices, and not slowed down a hundredfold
    # when the machine's cores are busy (OpenBLAS' threads then wait for one another).
    with np.errstate(all="ignore"), warnings.catch_warnings(), threadpool_limits(1, "blas"):
        # A singular product makes SciPy warn; the checks below decide what to do.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(matrix)
        if isinstance(root, tuple):  # pragma: no cover - SciPy versions with disp=False
            root = root[0]
        if not np.all(np.isfinite(root)):
            return None
        norm = np.linalg.norm(matrix)
        error = np.linalg.norm(root @ root - matrix) / norm if norm > 0 else 0.0
    return root if error < 1e-4 else None


def frechet_distance_from_features(features_a, features_b) -> float:
    """Fréchet distance between two sets of feature vectors (rows are images).

    Fits a Gaussian (mean and covariance) to each set and compares them with
    :func:`frechet_distance_from_statistics`. Each set needs more rows than columns,
    so that its covariance has full rank.

    Parameters
    ----------
    features_a, features_b : arrays of shape (n_a, d) and (n_b, d)

    Examples
    --------
    Shifting every feature by 1 moves the mean by 1 in each of the 4 dimensions and
    leaves the covariance unchanged: the distance is 4.

    >>> import numpy as np
    >>> a = np.random.default_rng(0).normal(size=(1000, 4))
    >>> round(frechet_distance_from_features(a, a + 1.0), 6)
    4.0
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same number of features "
                         f"(columns), got {a.shape[1]} and {b.shape[1]}")
    with threadpool_limits(1, "blas"):  # see _sqrtm: small products, busy machines
        statistics = [(x.mean(axis=0), np.cov(x, rowvar=False)) for x in (a, b)]
    (mu_a, sigma_a), (mu_b, sigma_b) = statistics
    return frechet_distance_from_statistics(mu_a, sigma_a, mu_b, sigma_b)


def frechet_distance(images_a, images_b) -> float:
    """Fréchet distance between two sets of images, on the shipped classifier's features.

    The Fashion-MNIST counterpart of the FID: 0 for identical sets, larger when the sets
    differ in the look or the variety of their images. The value depends on the number
    of images (see the module's docstring): compare only distances computed with the same
    number, e.g. :data:`DEFAULT_N_IMAGES`, next to :func:`real_baseline` with that number.

    Parameters
    ----------
    images_a, images_b : arrays of shape (n, 28, 28), (n, 28, 28, 1) or (n, 784)
        Pixels in [0, 1]; each set needs more than :data:`N_FEATURES` images (129 at
        least; thousands for a useful estimate).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.random((200, 28, 28))
    >>> round(frechet_distance(noise, noise), 6)
    0.0
    >>> frechet_distance(noise, rng.random((200, 28, 28))) > 0
    True
    """
    a, b = _as_images(images_a, "images_a"), _as_images(images_b, "images_b")
    for name, images in (("images_a", a), ("images_b", b)):
        if len(images) <= N_FEATURES:
            raise ValueError(
                f"{name} has {len(images)} images, but the covariance of the classifier's "
                f"{N_FEATURES} features needs more images than features: at least "
                f"{N_FEATURES + 1} (the course compares sets of {DEFAULT_N_IMAGES:,} images "
                f"in full mode)"
            )
    return frechet_distance_from_features(_forward(a, "images_a")[0], _forward(b, "images_b")[0])


class FrechetReference:
    """Reference images (e.g. the test set) to which generated sets are compared.

    The reference's features are computed once, here; :meth:`distance` then only
    computes the features of the images it is given. Compare sets of the same size as
    the reference (see the module's docstring).

    Parameters
    ----------
    images : array of shape (n, 28, 28), (n, 28, 28, 1) or (n, 784)
        Pixels in [0, 1], more than :data:`N_FEATURES` images.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> reference = FrechetReference(rng.random((300, 28, 28)))
    >>> reference.n_images, reference.distance(rng.random((300, 28, 28))) < 1.0
    (300, True)
    """

    def __init__(self, images):
        self.features = classifier_features(images)

    @property
    def n_images(self) -> int:
        return len(self.features)

    def distance(self, images) -> float:
        """The Fréchet distance of ``images`` to the reference images."""
        return frechet_distance_from_features(classifier_features(images), self.features)


def real_baseline(x_train, x_test, *, n_images: int | None = None, seed: int = 0) -> float:
    """The distance between real training images and real test images: the floor to beat.

    Draws ``n_images`` training images and ``n_images`` test images at random (without
    replacement, reproducibly with ``seed``) and returns their :func:`frechet_distance`.
    No generator can be expected to come closer to the test set than other real images
    do, and since the distance shrinks as the sets grow, a model's distance must be
    computed with the same number of images as the baseline it is shown next to.

    Parameters
    ----------
    x_train, x_test : arrays of images in [0, 1]
    n_images : int or None
        Images drawn from each set. ``None`` uses the whole test set (up to
        :data:`DEFAULT_N_IMAGES`: 10,000 in full mode, the smaller test set in quick mode).
    seed : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x_train, x_test = rng.random((500, 28, 28)), rng.random((300, 28, 28))
    >>> 0 < real_baseline(x_train, x_test, n_images=200) < 1
    True
    """
    train_part, test_part = _baseline_samples(x_train, x_test, n_images, seed)
    return frechet_distance(train_part, test_part)


def _baseline_samples(x_train, x_test, n_images, seed):
    x_train = _as_images(x_train, "x_train")
    x_test = _as_images(x_test, "x_test")
    available = min(len(x_train), len(x_test))
    if n_images is None:
        n_images = min(len(x_test), DEFAULT_N_IMAGES)
    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)):
        raise ValueError(f"n_images must be an integer or None, got {n_images!r}")
    if n_images > available:
        raise ValueError(f"n_images={n_images:,} is more than the sets hold "
                         f"({len(x_train):,} training and {len(x_test):,} test images)")
    if n_images <= N_FEATURES:
        raise ValueError(f"n_images must be more than the {N_FEATURES} features, at least "
                         f"{N_FEATURES + 1}, got {n_images}")
    rng = np.random.default_rng(seed)
    train_part = x_train[np.sort(rng.choice(len(x_train), n_images, replace=False))]
    test_part = x_test[np.sort(rng.choice(len(x_test), n_images, replace=False))]
    return train_part, test_part


# --- Which classes a generator covers ----------------------------------------------------


@dataclass(frozen=True, repr=False)
class ClassCoverage:
    """How a set of images spreads over the 10 classes, as the classifier sees them.

    A class is *covered* when at least ``min_share`` of the images are predicted to
    belong to it; a generator that has collapsed onto a few modes covers few classes.

    Attributes
    ----------
    counts : ndarray of int, shape (10,)
        Images predicted in each class.
    shares : ndarray of float, shape (10,)
        ``counts / counts.sum()``.
    n_covered : int
        Classes whose share is at least ``min_share``.
    min_share : float

    Examples
    --------
    >>> import numpy as np
    >>> predicted = np.array([0, 1, 2, 3, 4, 5, 6, 7, 9] * 11 + [8])  # one bag in 100
    >>> coverage = ClassCoverage.from_predictions(predicted)
    >>> coverage
    ClassCoverage(n_covered=9/10, min_share=0.02, n_images=100, missing: Bag)
    >>> coverage.counts[7:], coverage.shares[7:]
    (array([11,  1, 11]), array([0.11, 0.01, 0.11]))
    """

    counts: np.ndarray
    shares: np.ndarray
    n_covered: int
    min_share: float = 0.02

    @classmethod
    def from_predictions(cls, classes, *, min_share: float = 0.02) -> "ClassCoverage":
        """Coverage from predicted class indices (0–9).

        >>> ClassCoverage.from_predictions([7] * 50).n_covered
        1
        """
        classes = np.asarray(classes)
        if classes.ndim != 1 or len(classes) == 0:
            raise ValueError(f"classes must be a non-empty 1-D array of class indices, got "
                             f"shape {classes.shape}")
        if (not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0
                or classes.max() >= N_CLASSES):
            raise ValueError(f"classes must be integers from 0 to {N_CLASSES - 1}")
        min_share = _check_min_share(min_share)
        counts = np.bincount(classes, minlength=N_CLASSES)
        shares = counts / counts.sum()
        return cls(counts=counts, shares=shares, n_covered=int((shares >= min_share).sum()),
                   min_share=min_share)

    @property
    def covered(self) -> np.ndarray:
        """Boolean mask of the covered classes.

        >>> ClassCoverage.from_predictions([0, 1, 1]).covered[:3]
        array([ True,  True, False])
        """
        return self.shares >= self.min_share

    @property
    def missing(self) -> list[str]:
        """Names of the classes that are not covered.

        >>> ClassCoverage.from_predictions(list(range(9)) * 10).missing
        ['Ankle boot']
        """
        return [name for name, ok in zip(CLASS_NAMES, self.covered) if not ok]

    def __repr__(self) -> str:
        missing = f"missing: {', '.join(self.missing)}" if self.missing else "all covered"
        return (f"ClassCoverage(n_covered={self.n_covered}/{N_CLASSES}, "
                f"min_share={self.min_share:g}, n_images={int(self.counts.sum())}, {missing})")

    def __str__(self) -> str:
        lines = [f"{self.n_covered} of {N_CLASSES} classes covered "
                 f"(a class needs {self.min_share:.0%} of the {int(self.counts.sum()):,} images)"]
        for name, count, share, ok in zip(CLASS_NAMES, self.counts, self.shares, self.covered):
            lines.append(f"  {name:<12} {count:>6,}  {share:6.1%}{'' if ok else '  missing'}")
        return "\n".join(lines)


def _check_min_share(min_share) -> float:
    try:
        value = float(min_share)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise ValueError(f"min_share must be a share in (0, 1], got {min_share!r} "
                         f"(e.g. 0.02: a class needs 2% of the images)")
    return value


def class_coverage(images, *, min_share: float = 0.02) -> ClassCoverage:
    """Which classes the shipped classifier sees in a set of (generated) images.

    Parameters
    ----------
    images : array of shape (n, 28, 28), (n, 28, 28, 1) or (n, 784), pixels in [0, 1]
    min_share : float
        The share of the images a class needs to count as covered (2% by default; a
        uniform generator gives each class 10%).

    Examples
    --------
    >>> import numpy as np
    >>> same_image = np.tile(np.random.default_rng(0).random((1, 28, 28)), (100, 1, 1))
    >>> class_coverage(same_image).n_covered
    1
    >>> print(class_coverage(same_image))  # doctest: +ELLIPSIS
    1 of 10 classes covered (a class needs 2% of the 100 images)
      T-shirt/top ...
    """
    min_share = _check_min_share(min_share)  # before the classifier runs
    return ClassCoverage.from_predictions(predict_classes(images), min_share=min_share)
