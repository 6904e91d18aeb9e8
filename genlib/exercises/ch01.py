"""Checkers for the exercises of chapter 1 (efficient data representations, PCA).

>>> import numpy as np
>>> from scipy.linalg import subspace_angles
>>> check_principal_angles(lambda a, b: np.degrees(subspace_angles(a, b)))
✔ Correct: your angles match scipy.linalg.subspace_angles on all 5 test cases (degrees, largest
first).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import subspace_angles

from genlib.exercises.feedback import Feedback, call_student, correct, wrong

_ANGLE_TOLERANCE = 1e-3  # degrees: loose enough for an arccos-based answer


def _angle_cases():
    """(name, basis_a, basis_b, orthonormal?) test cases, the same at every call."""
    rng = np.random.default_rng(2024)

    def orthonormal(n, k):
        return np.linalg.qr(rng.normal(size=(n, k)))[0]

    plane = orthonormal(3, 2)
    return [
        ("two orthonormal 2-D bases in 5-D", orthonormal(5, 2), orthonormal(5, 2), True),
        ("two orthonormal 3-D bases in 10-D", orthonormal(10, 3), orthonormal(10, 3), True),
        (
            "a plane and the same plane with other axes",
            plane,
            plane @ np.array([[2.0, 1.0], [0.0, 0.5]]),
            False,
        ),
        (
            "two non-orthonormal 2-D bases in 4-D",
            rng.normal(size=(4, 2)) * [1.0, 5.0],
            rng.normal(size=(4, 2)),
            False,
        ),
        (
            "two non-orthonormal 3-D bases in 6-D",
            rng.normal(size=(6, 3)) * 3.0,
            rng.normal(size=(6, 3)) + 1.0,
            False,
        ),
    ]


def check_principal_angles(function) -> Feedback:
    """Check a function ``function(basis_a, basis_b)`` that returns principal angles.

    The expected answer: a 1-D array with one angle per dimension of the subspaces,
    in degrees, largest first, for bases whose columns span the subspaces (and are
    not necessarily orthonormal).

    >>> check_principal_angles(lambda a, b: np.radians(np.degrees(subspace_angles(a, b))))
    ✘ Not yet: your angles are in radians; return degrees (np.degrees)
    """
    failures_orthonormal, failures_general = [], []
    for name, a, b, is_orthonormal in _angle_cases():
        expected = np.degrees(subspace_angles(a, b))
        result, error = call_student(function, a.copy(), b.copy())
        if error is not None:
            return error
        if result is None:
            return wrong("your function returns None: did you forget the `return` statement?")
        try:
            got = np.asarray(result, dtype=float).reshape(-1) if np.ndim(result) <= 1 else None
        except (TypeError, ValueError):
            got = None
        if got is None or got.shape != expected.shape:
            shape = np.shape(result) if got is None else got.shape
            return wrong(f"for {name} expected {len(expected)} angles (one per dimension of the "
                         f"subspaces), got an array of shape {shape}")
        if np.isnan(got).any():
            return wrong(f"NaN angles for {name}: rounding can push a cosine slightly above 1; "
                         "clip the singular values to [-1, 1] before np.arccos")
        if np.allclose(got, expected, atol=_ANGLE_TOLERANCE):
            continue
        if np.allclose(got, np.radians(expected), atol=1e-5):
            return wrong("your angles are in radians; return degrees (np.degrees)")
        if np.allclose(np.sort(got)[::-1], expected, atol=_ANGLE_TOLERANCE):
            return wrong(
                f"the right angles in the wrong order for {name}: sort them largest first, "
                "as scipy.linalg.subspace_angles does"
            )
        (failures_orthonormal if is_orthonormal else failures_general).append(
            f"{name}: expected {np.round(expected, 3).tolist()}, got {np.round(got, 3).tolist()}")
    if failures_general and not failures_orthonormal:
        return wrong("correct for orthonormal bases only. The columns you receive need not be "
                     "orthonormal: orthonormalize each basis first (np.linalg.qr). First failure: "
                     + failures_general[0])
    if failures_orthonormal or failures_general:
        return wrong((failures_orthonormal + failures_general)[0])
    return correct(f"your angles match scipy.linalg.subspace_angles on all {len(_angle_cases())} "
                   "test cases (degrees, largest first).")


def _pca_cases():
    rng = np.random.default_rng(7)
    base = rng.normal(size=(60, 6)) @ rng.normal(size=(6, 6)) + rng.uniform(2, 5, size=6)
    return [
        ("60 x 6 data, k=2", base, 2),
        ("60 x 6 data, k=1", base, 1),
        ("60 x 6 data, k=5", base, 5),
    ]


def _reference_pca(x, k, *, center=True):
    mean = x.mean(axis=0) if center else np.zeros(x.shape[1])
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    components = vt[:k]
    return (x - mean) @ components.T @ components + mean, mean


def check_pca_reconstruction(function) -> Feedback:
    """Check a function ``function(x, k)`` that reconstructs ``x`` from its top ``k`` components.

    The expected answer equals ``PCA(k).inverse_transform(PCA(k).fit_transform(x))`` in
    scikit-learn: center, project onto the top ``k`` right singular vectors, map back,
    add the mean back.

    >>> check_pca_reconstruction(lambda x, k: x)  # doctest: +ELLIPSIS
    ✘ Not yet: for 60 x 6 data, k=2 your reconstruction differs from scikit-learn's PCA by up to ...
    """
    from sklearn.decomposition import PCA

    for name, x, k in _pca_cases():
        pca = PCA(n_components=k, svd_solver="full").fit(x)
        expected = pca.inverse_transform(pca.transform(x))
        result, error = call_student(function, x.copy(), k)
        if error is not None:
            return error
        if result is None:
            return wrong("your function returns None: did you forget the `return` statement?")
        got = np.asarray(result, dtype=float)
        if got.shape != x.shape:
            return wrong(
                f"for {name} the reconstruction should have the shape of x {x.shape}, "
                f"got {got.shape}"
            )
        if np.allclose(got, expected, atol=1e-6 * np.abs(x).max()):
            continue
        uncentered, _ = _reference_pca(x, k, center=False)
        centered, mean = _reference_pca(x, k)
        if np.allclose(got, uncentered, atol=1e-6 * np.abs(x).max()):
            return wrong("your reconstruction uses the raw data: PCA centers it first. Subtract "
                         "x.mean(axis=0) before the SVD and add it back at the end")
        if np.allclose(got, centered - mean, atol=1e-6 * np.abs(x).max()):
            return wrong(
                "you centered the data but did not add the mean back to the reconstruction"
            )
        for other in (k - 1, k + 1):
            if 0 < other <= x.shape[1] and np.allclose(got, _reference_pca(x, other)[0],
                                                       atol=1e-6 * np.abs(x).max()):
                return wrong(
                    f"for {name} you kept {other} components instead of {k}: use the first k "
                    "rows of Vt (the right singular vectors)"
                )
        error_size = np.abs(got - expected).max()
        return wrong(f"for {name} your reconstruction differs from scikit-learn's PCA by up to "
                     f"{error_size:.3g}. Use the rows of Vt from np.linalg.svd(x - mean, "
                     "full_matrices=False) as the components, not the columns of U")
    return correct(
        f"your reconstructions match scikit-learn's PCA on all {len(_pca_cases())} test cases."
    )
