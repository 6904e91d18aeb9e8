"""The checkers accept right answers and say specifically what is wrong with wrong ones."""

import numpy as np
from scipy.linalg import subspace_angles

from genlib.exercises import Feedback
from genlib.exercises.ch01 import check_pca_reconstruction, check_principal_angles
from tests.feedback_helpers import assert_not_yet


def right_angles(a, b):
    return np.degrees(subspace_angles(a, b))


def qr_svd_angles(a, b):
    q_a, _ = np.linalg.qr(a)
    q_b, _ = np.linalg.qr(b)
    cosines = np.linalg.svd(q_a.T @ q_b, compute_uv=False)
    return np.degrees(np.arccos(np.clip(cosines, -1, 1)))[::-1]


def no_qr_angles(a, b):
    cosines = np.linalg.svd(a.T @ b, compute_uv=False)
    return np.degrees(np.arccos(np.clip(cosines, -1, 1)))[::-1]


def test_right_answers_pass():
    for answer in (right_angles, qr_svd_angles):
        feedback = check_principal_angles(answer)
        assert isinstance(feedback, Feedback) and feedback.passed, feedback
        assert repr(feedback).startswith("✔ Correct")


def check_says(function, *phrases, checker=check_principal_angles):
    assert_not_yet(checker(function), *phrases)


def test_angle_mistakes_are_named():
    check_says(lambda a, b: subspace_angles(a, b), "radians")
    check_says(lambda a, b: right_angles(a, b)[::-1], "largest first")
    check_says(no_qr_angles, "orthonormal bases only", "np.linalg.qr")
    check_says(lambda a, b: right_angles(a, b)[:1], "expected 2 angles")
    check_says(lambda a, b: np.full(a.shape[1], np.nan), "NaN", "clip")
    check_says(lambda a, b: None, "returns None")
    check_says(lambda a, b: 1 / 0, "ZeroDivisionError")
    check_says(right_angles(np.eye(2), np.eye(2)), "expected a function")
    check_says(lambda a, b: right_angles(a, b) + 3, "expected")


def right_pca(x, k):
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    return (x - mean) @ vt[:k].T @ vt[:k] + mean


def test_pca_right_answer_passes():
    assert check_pca_reconstruction(right_pca).passed


def test_pca_mistakes_are_named():
    def uncentered(x, k):
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        return x @ vt[:k].T @ vt[:k]

    def no_mean_back(x, k):
        return right_pca(x, k) - x.mean(axis=0)

    def one_too_many(x, k):
        return right_pca(x, k + 1)

    def columns_of_u(x, k):
        mean = x.mean(axis=0)
        u, _, _ = np.linalg.svd(x - mean, full_matrices=False)
        return (x - mean) @ u[: x.shape[1], :k] @ u[: x.shape[1], :k].T + mean

    check_says(uncentered, "centers it first", checker=check_pca_reconstruction)
    check_says(no_mean_back, "did not add the mean back", checker=check_pca_reconstruction)
    check_says(one_too_many, "components instead of", checker=check_pca_reconstruction)
    check_says(columns_of_u, "rows of Vt", checker=check_pca_reconstruction)
    check_says(lambda x, k: x[:, :k], "shape of x", checker=check_pca_reconstruction)
