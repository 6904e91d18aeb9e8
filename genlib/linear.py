"""The linear autoencoder and its comparison with PCA (chapter 1).

A linear autoencoder (no activation functions) trained with the mean squared error
learns the same *subspace* as principal component analysis, but not PCA's individual,
ordered axes. This module builds such autoencoders and measures how close they get.

>>> from genlib.linear import make_3d_dataset, principal_angles
>>> x = make_3d_dataset(n_samples=100, seed=0)
>>> x.shape
(100, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import subspace_angles

from genlib._validation import as_array, check_positive_int


def make_3d_dataset(n_samples: int = 200, *, noise: float = 0.1, seed: int = 42) -> np.ndarray:
    """A 3-D toy data set lying close to a tilted plane, as ``float32``.

    The points follow a curved band in two dimensions; the third coordinate is a
    linear function of the first two plus noise, so the data is almost 2-D.

    Examples
    --------
    >>> x = make_3d_dataset(n_samples=50, seed=1)
    >>> x.dtype, x.shape
    (dtype('float32'), (50, 3))
    """
    n_samples = check_positive_int(n_samples, "n_samples", minimum=3)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    angles = rng.uniform(-0.5, 3 * np.pi / 2 - 0.5, n_samples)
    x = np.empty((n_samples, 3))
    x[:, 0] = np.cos(angles) + np.sin(angles) / 2 + noise * rng.normal(size=n_samples) / 2
    x[:, 1] = np.sin(angles) * 0.7 + noise * rng.normal(size=n_samples) / 2
    x[:, 2] = x[:, 0] * 0.1 + x[:, 1] * 0.3 + noise * rng.normal(size=n_samples)
    return x.astype(np.float32)


def build_linear_autoencoder(n_inputs: int, *, coding_size: int):
    """Encoder, decoder and autoencoder, each a single ``Dense`` layer without activation.

    Returns the three (uncompiled) Keras models ``(encoder, decoder, autoencoder)``;
    the autoencoder chains the other two, so training it trains them.

    Examples
    --------
    >>> encoder, decoder, autoencoder = build_linear_autoencoder(3, coding_size=2)
    >>> autoencoder.output_shape, encoder.output_shape
    ((None, 3), (None, 2))
    """
    import keras

    n_inputs = check_positive_int(n_inputs, "n_inputs")
    coding_size = check_positive_int(coding_size, "coding_size")
    encoder = keras.Sequential([keras.Input((n_inputs,)), keras.layers.Dense(coding_size)],
                               name="encoder")
    decoder = keras.Sequential([keras.Input((coding_size,)), keras.layers.Dense(n_inputs)],
                               name="decoder")
    autoencoder = keras.Sequential([encoder, decoder], name="linear_autoencoder")
    return encoder, decoder, autoencoder


def principal_angles(basis_a, basis_b) -> np.ndarray:
    """Principal angles, in degrees and largest first, between two subspaces.

    Each subspace is given by a matrix whose *columns* span it (they need not be
    orthonormal). Zero angles everywhere mean the two subspaces are the same; the
    largest angle says how far apart they are at worst. Computed with
    :func:`scipy.linalg.subspace_angles`.

    Examples
    --------
    >>> import numpy as np
    >>> plane = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # the xy-plane
    >>> same_plane = plane @ np.array([[2.0, 1.0], [0.0, 3.0]])   # other, skewed axes
    >>> np.round(principal_angles(plane, same_plane), 6).tolist()
    [0.0, 0.0]
    >>> tilted = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> np.round(principal_angles(plane, tilted), 1).tolist()
    [45.0, 0.0]
    """
    a = as_array(basis_a, "basis_a", ndim=2)
    b = as_array(basis_b, "basis_b", ndim=2)
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"basis_a and basis_b must live in the same space (same number of rows), got "
            f"{a.shape[0]} and {b.shape[0]} rows; pass the spanning vectors as columns"
        )
    for name, m in (("basis_a", a), ("basis_b", b)):
        if np.linalg.matrix_rank(m) < m.shape[1]:
            raise ValueError(f"the columns of {name} are linearly dependent: they do not span a "
                             f"{m.shape[1]}-D subspace")
    return np.degrees(subspace_angles(a, b))


def explained_variance(x, reconstructions) -> float:
    """Fraction of the variance of ``x`` that the reconstructions keep: 1 - SSE / SST.

    For PCA with k components this equals the sum of scikit-learn's
    ``explained_variance_ratio_``.

    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [2.0, 2.0]])
    >>> explained_variance(x, x)
    1.0
    """
    x = as_array(x, "x", ndim=2)
    reconstructions = as_array(reconstructions, "reconstructions", ndim=2)
    if x.shape != reconstructions.shape:
        raise ValueError(
            f"x and reconstructions must have the same shape, got {x.shape} and "
            f"{reconstructions.shape}"
        )
    total = np.sum((x - x.mean(axis=0)) ** 2)
    if total == 0:
        raise ValueError(
            "x has zero variance: every row is the same, so no variance can be explained"
        )
    return float(1.0 - np.sum((x - reconstructions) ** 2) / total)


@dataclass(frozen=True)
class PCAComparison:
    """How a linear autoencoder compares with PCA on the same data (see :func:`compare_with_pca`).

    >>> result = PCAComparison(np.array([2.0, 0.5]), 0.0102, 0.0100, 0.70, 0.71)
    >>> round(result.mse_ratio, 3), result.max_angle
    (1.02, 2.0)
    """

    angles: np.ndarray                 #: principal angles in degrees, largest first
    autoencoder_mse: float
    pca_mse: float
    autoencoder_explained_variance: float
    pca_explained_variance: float
    pca: object = field(repr=False, compare=False, default=None)  #: the fitted sklearn PCA

    @property
    def max_angle(self) -> float:
        """The largest principal angle, in degrees."""
        return float(self.angles.max())

    @property
    def mse_ratio(self) -> float:
        """Autoencoder MSE / PCA MSE: at least 1 on the data PCA was fitted on."""
        return self.autoencoder_mse / self.pca_mse

    def __str__(self) -> str:
        angles = ", ".join(f"{a:.2f}" for a in self.angles[:8]) + (
            " …" if len(self.angles) > 8 else ""
        )
        return "\n".join([
            f"{'':28}{'autoencoder':>12}{'PCA':>12}",
            f"{'reconstruction MSE':28}{self.autoencoder_mse:>12.6f}{self.pca_mse:>12.6f}",
            f"{'explained variance':28}{self.autoencoder_explained_variance:>12.2%}"
            f"{self.pca_explained_variance:>12.2%}",
            f"MSE ratio (autoencoder / PCA): {self.mse_ratio:.4f}",
            f"principal angles (degrees):    {angles}",
        ])


def compare_with_pca(x, reconstructions, decoder_kernel) -> PCAComparison:
    """Compare a linear autoencoder with scikit-learn's PCA fitted on ``x``.

    Parameters
    ----------
    x : array of shape (n_samples, n_features)
        The data both models are judged on (the autoencoder's training data, for
        a fair comparison: PCA is the optimum there).
    reconstructions : array of shape (n_samples, n_features)
        The autoencoder's outputs for ``x``.
    decoder_kernel : array of shape (n_codings, n_features)
        The weights of the decoder's ``Dense`` layer. Its rows span the subspace in
        which every reconstruction lies (shifted by the bias).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> x = make_3d_dataset(seed=0).astype(float)
    >>> pca = PCA(2).fit(x)   # a perfect "autoencoder": PCA itself
    >>> result = compare_with_pca(x, pca.inverse_transform(pca.transform(x)), pca.components_)
    >>> round(result.mse_ratio, 6), round(result.max_angle, 6)
    (1.0, 0.0)
    """
    from sklearn.decomposition import PCA

    x = as_array(x, "x", ndim=2)
    reconstructions = as_array(reconstructions, "reconstructions", ndim=2)
    kernel = as_array(decoder_kernel, "decoder_kernel", ndim=2)
    if reconstructions.shape != x.shape:
        raise ValueError(
            f"reconstructions must have the shape of x {x.shape}, got {reconstructions.shape}"
        )
    if kernel.shape[1] != x.shape[1]:
        raise ValueError(
            f"decoder_kernel must have shape (n_codings, {x.shape[1]}), got {kernel.shape}; "
            "pass decoder.layers[-1].kernel (Keras stores it as inputs x outputs)"
        )
    n_codings = kernel.shape[0]
    if n_codings >= min(x.shape):
        raise ValueError(
            f"an undercomplete autoencoder needs fewer codings than features and samples; "
            f"got {n_codings} codings for x of shape {x.shape}"
        )
    # "covariance_eigh" is exact and fast when there are far fewer features than samples.
    solver = "covariance_eigh" if x.shape[0] >= 10 * x.shape[1] else "full"
    pca = PCA(n_components=n_codings, svd_solver=solver).fit(x)
    pca_reconstructions = pca.inverse_transform(pca.transform(x))
    return PCAComparison(
        angles=principal_angles(kernel.T, pca.components_.T),
        autoencoder_mse=float(np.mean((x - reconstructions) ** 2)),
        pca_mse=float(np.mean((x - pca_reconstructions) ** 2)),
        autoencoder_explained_variance=explained_variance(x, reconstructions),
        pca_explained_variance=explained_variance(x, pca_reconstructions),
        pca=pca,
    )
