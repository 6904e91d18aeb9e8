"""Precision and recall of a generative model, in the classifier's feature space.

One number such as the Fréchet distance cannot tell *why* generated images are far from the
real ones: are they unrealistic, or realistic but too few kinds? Kynkäänniemi et al. (2019)
separate the two. Around every real image's features, draw a ball that reaches its
``k``-th nearest real neighbour; the union of the balls estimates where real images lie (the
real *manifold*). Then

- **precision** is the share of generated images that fall inside the real manifold
  (realistic samples; low when the images look wrong);
- **recall** is the share of real images that fall inside the manifold estimated, in the
  same way, from the generated images (the variety covered; low under mode collapse).

A sharp generator that draws only a few kinds of images has a high precision and a low
recall; a blurry one that spreads over everything may have the reverse. The features are
those of :mod:`genlib.frechet`'s classifier, as for the Fréchet distance. Like it, the
estimate depends on the number of images: compare sets of the same size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import pairwise_distances_chunked
from sklearn.neighbors import NearestNeighbors

from genlib._validation import as_array, check_positive_int


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision and recall of generated samples (both in [0, 1], higher is better).

    >>> print(PrecisionRecall(precision=0.9, recall=0.4, k=3))
    precision 90.0% (realistic samples), recall 40.0% (variety covered), k = 3
    """

    precision: float
    recall: float
    k: int

    def __str__(self) -> str:
        return (f"precision {self.precision:.1%} (realistic samples), recall "
                f"{self.recall:.1%} (variety covered), k = {self.k}")


def _radii(features, k):
    # The distance from each point to its k-th nearest neighbour among the others: the
    # first neighbour NearestNeighbors returns is the point itself.
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features)
    return distances[:, k]


def _share_inside(points, centres, radii):
    """The share of ``points`` inside at least one ball (``centres``, ``radii``)."""
    inside = [
        (chunk <= radii[None, :]).any(axis=1)
        for chunk in pairwise_distances_chunked(points, centres, working_memory=256)
    ]
    return float(np.concatenate(inside).mean())


def _check_features(features, name, k):
    array = as_array(features, name, ndim=2)
    if len(array) <= k:
        raise ValueError(f"{name} has {len(array)} rows: a k-nearest-neighbour radius with "
                         f"k = {k} needs more than {k} (use thousands for a useful estimate)")
    return array


def precision_recall_from_features(real_features, generated_features, *,
                                   k: int = 3) -> PrecisionRecall:
    """Precision and recall (Kynkäänniemi et al. 2019) of two sets of feature vectors.

    Parameters
    ----------
    real_features, generated_features : arrays of shape (n, d) and (m, d)
        One row per image, e.g. :func:`genlib.frechet.classifier_features`.
    k : int, default 3
        Each ball reaches a point's ``k``-th nearest neighbour in its own set (3 in the
        paper: larger values make the manifolds, and both numbers, larger).

    Examples
    --------
    Generated points drawn from one half of the real distribution are all realistic, but
    cover only about half of it:

    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(2000, 2))
    >>> half = rng.normal(size=(4000, 2))
    >>> result = precision_recall_from_features(real, half[half[:, 0] > 0])
    >>> round(result.precision, 1), round(result.recall, 1)
    (1.0, 0.5)
    """
    k = check_positive_int(k, "k")
    real = _check_features(real_features, "real_features", k)
    generated = _check_features(generated_features, "generated_features", k)
    if real.shape[1] != generated.shape[1]:
        raise ValueError(f"real_features and generated_features must have the same number of "
                         f"features (columns), got {real.shape[1]} and {generated.shape[1]}")
    precision = _share_inside(generated, real, _radii(real, k))
    recall = _share_inside(real, generated, _radii(generated, k))
    return PrecisionRecall(precision=precision, recall=recall, k=k)


def precision_recall(real_images, generated_images, *, k: int = 3) -> PrecisionRecall:
    """Precision and recall of ``generated_images`` against ``real_images``, on the
    features of :mod:`genlib.frechet`'s Fashion-MNIST classifier.

    Parameters
    ----------
    real_images, generated_images : arrays of shape (n, 28, 28), pixels in [0, 1]
        Use the same number of each (thousands), as for the Fréchet distance.
    k : int, default 3
        See :func:`precision_recall_from_features`.

    Examples
    --------
    Two sets of the same kind of images (here noise) lie in each other's manifolds:

    >>> rng = np.random.default_rng(0)
    >>> result = precision_recall(rng.random((500, 28, 28)), rng.random((500, 28, 28)))
    >>> result.precision > 0.8 and result.recall > 0.8
    True
    """
    from genlib.frechet import classifier_features

    return precision_recall_from_features(classifier_features(real_images),
                                          classifier_features(generated_images), k=k)
