"""The Fréchet distance on classifier features (genlib.frechet) and the shipped classifier.

The formula is checked on small synthetic Gaussians against closed forms and an independent
computation; the shipped classifier on a few thousand real images (a few seconds in all).
"""

import json
import math

import numpy as np
import pytest
import scipy.linalg

import genlib
from genlib import frechet, pretrained
from genlib.data import CLASS_NAMES


@pytest.fixture(scope="module")
def data():
    return genlib.load_fashion_mnist("full", download=False)


@pytest.fixture(scope="module")
def real_a(data):
    return data.x_train[:1000]


@pytest.fixture(scope="module")
def real_b(data):
    return data.x_test[:1000]


def trace_sqrt_product(sigma_a, sigma_b):
    """Tr((Σa Σb)^½) computed another way: as Tr((Σa^½ Σb Σa^½)^½), with eigh only."""
    values, vectors = np.linalg.eigh(sigma_a)
    root_a = vectors @ np.diag(np.sqrt(np.clip(values, 0, None))) @ vectors.T
    inner = np.linalg.eigvalsh(root_a @ sigma_b @ root_a)
    return np.sqrt(np.clip(inner, 0, None)).sum()


# --- The formula -----------------------------------------------------------------------------


def test_diagonal_gaussians_match_the_closed_form():
    # For diagonal covariances the distance is Σ (μa - μb)² + Σ (σa - σb)².
    rng = np.random.default_rng(0)
    for d in (1, 3, 50):
        mu_a, mu_b = rng.normal(size=d), rng.normal(size=d)
        std_a, std_b = rng.uniform(0.1, 3, size=d), rng.uniform(0.1, 3, size=d)
        expected = np.sum((mu_a - mu_b) ** 2) + np.sum((std_a - std_b) ** 2)
        value = frechet.frechet_distance_from_statistics(mu_a, np.diag(std_a**2),
                                                         mu_b, np.diag(std_b**2))
        assert value == pytest.approx(expected, rel=1e-9)
    # 1-D, from samples: exactly the closed form with the samples' mean and std (ddof=1).
    a, b = rng.normal(1.0, 2.0, size=500), rng.normal(-0.5, 0.5, size=700)
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet.frechet_distance_from_features(a[:, None], b[:, None]) == pytest.approx(
        expected, rel=1e-9)


def test_correlated_features_match_an_independent_computation():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 0.3
    sigma_a, sigma_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(sigma_a) + np.trace(sigma_b)
                - 2 * trace_sqrt_product(sigma_a, sigma_b))
    assert frechet.frechet_distance_from_features(a, b) == pytest.approx(expected, rel=1e-8)


def test_identical_sets_are_at_zero_and_the_distance_is_symmetric():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(500, 20)), rng.gamma(2.0, size=(400, 20))
    assert frechet.frechet_distance_from_features(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet.frechet_distance_from_features(a, b) == pytest.approx(
        frechet.frechet_distance_from_features(b, a), rel=1e-9)


def test_a_mean_shift_adds_its_squared_length():
    a = np.random.default_rng(3).normal(size=(1000, 8))
    shift = np.arange(8) / 4
    assert frechet.frechet_distance_from_features(a, a + shift) == pytest.approx(
        np.sum(shift**2), rel=1e-6)


def test_dead_features_make_a_singular_covariance_without_breaking_the_distance():
    # ReLU features that are zero for every image give singular covariances.
    rng = np.random.default_rng(4)
    a, b = (np.maximum(rng.normal(size=(300, 128)) - 0.5, 0) for _ in range(2))
    a[:, :20] = b[:, :20] = 0.0
    value = frechet.frechet_distance_from_features(a, b)
    assert math.isfinite(value)
    assert value == pytest.approx(frechet.frechet_distance_from_features(a[:, 20:], b[:, 20:]),
                                  rel=1e-6)


def test_a_failed_square_root_is_retried_with_eps_on_the_diagonals(monkeypatch):
    calls = []
    real_sqrtm = scipy.linalg.sqrtm

    def flaky_sqrtm(matrix):
        calls.append(matrix)
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real_sqrtm(matrix)

    monkeypatch.setattr(scipy.linalg, "sqrtm", flaky_sqrtm)
    value = frechet.frechet_distance_from_statistics(np.zeros(2), np.eye(2), np.ones(2),
                                                     np.eye(2), eps=1e-3)
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1], (1 + 1e-3) ** 2 * np.eye(2))
    assert value == pytest.approx(2.0)


def test_imaginary_parts_are_dropped_when_negligible_and_an_error_otherwise(monkeypatch):
    real_sqrtm = scipy.linalg.sqrtm
    monkeypatch.setattr(scipy.linalg, "sqrtm",
                        lambda matrix: real_sqrtm(matrix) + 1e-9j * np.eye(len(matrix)))
    assert frechet.frechet_distance_from_statistics([0.0], [[4.0]], [0.0], [[1.0]]) == \
        pytest.approx(1.0)
    monkeypatch.undo()
    # A "covariance" with a negative variance: the square root of -4 is 2i.
    with pytest.raises(ValueError, match="large imaginary part.*not valid covariance"):
        frechet.frechet_distance_from_statistics([0.0], [[4.0]], [0.0], [[-1.0]])


# --- Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, message", [
    ((200, 32, 32), r"accepts \(n, 28, 28\), \(n, 28, 28, 1\) or \(n, 784\)"),
    ((200, 28, 28, 3), "grayscale"),
    ((28, 28), r"images\[None\]"),
    ((200, 783), "accepts"),
])
def test_wrong_shapes_say_which_shapes_are_accepted(shape, message):
    with pytest.raises(ValueError, match=message):
        frechet.frechet_distance(np.zeros(shape), np.zeros((200, 28, 28)))
    with pytest.raises(ValueError, match=message):
        frechet.classifier_features(np.zeros(shape))


def test_values_outside_0_1_say_how_to_rescale():
    rng = np.random.default_rng(5)
    tanh_outputs = rng.uniform(-1, 1, size=(200, 28, 28))
    with pytest.raises(ValueError, match=r"\(images \+ 1\) / 2"):
        frechet.frechet_distance(tanh_outputs, rng.random((200, 28, 28)))
    with pytest.raises(ValueError, match="divide them by 255"):
        frechet.class_coverage(rng.integers(0, 256, size=(10, 28, 28)))
    message = r"images_b has values in \[.*, 3\].*Rescale them to \[0, 1\]"
    with pytest.raises(ValueError, match=message):
        frechet.frechet_distance(rng.random((200, 28, 28)), 3 * rng.random((200, 28, 28)))


def test_nan_images_are_reported():
    images = np.random.default_rng(6).random((200, 28, 28))
    images[[3, 7], 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values \\(in 2 of 200 images\\)"):
        frechet.frechet_distance(images, images)
    with pytest.raises(ValueError, match="NaN"):
        frechet.frechet_distance_from_features(np.full((5, 2), np.nan), np.ones((5, 2)))


def test_too_few_images_for_a_covariance():
    images = np.random.default_rng(7).random((300, 28, 28))
    with pytest.raises(ValueError, match=r"images_b has 128 images.*at least 129"):
        frechet.frechet_distance(images, images[:128])
    with pytest.raises(ValueError, match="at least 2 images"):
        frechet.frechet_distance_from_features(np.ones((1, 3)), np.ones((10, 3)))
    with pytest.raises(ValueError, match="10 images for 10 features.*at least 11"):
        frechet.frechet_distance_from_features(np.ones((10, 10)), np.ones((50, 10)))
    with pytest.raises(ValueError, match="empty"):
        frechet.classifier_features(np.zeros((0, 28, 28)))


def test_other_bad_arguments():
    rng = np.random.default_rng(8)
    with pytest.raises(ValueError, match="same number of features"):
        frechet.frechet_distance_from_features(rng.random((20, 3)), rng.random((20, 4)))
    with pytest.raises(ValueError, match="2-D"):
        frechet.frechet_distance_from_features(rng.random(20), rng.random(20))
    with pytest.raises(ValueError, match="covariance matrices"):
        frechet.frechet_distance_from_statistics([0, 0], np.eye(3), [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="numeric"):
        frechet.classifier_features("images")
    images = rng.random((300, 28, 28))
    with pytest.raises(ValueError, match="more than the sets hold"):
        frechet.real_baseline(images, images[:200], n_images=250)
    with pytest.raises(ValueError, match="at least 129"):
        frechet.real_baseline(images, images, n_images=100)
    with pytest.raises(ValueError, match="min_share"):
        frechet.class_coverage(images[:5], min_share=0)
    with pytest.raises(ValueError, match="from 0 to 9"):
        frechet.ClassCoverage.from_predictions([0, 10])
    with pytest.raises(ValueError, match="seed"):
        frechet.build_classifier(seed=-1)
    with pytest.raises(ValueError, match="dropout"):
        frechet.build_classifier(dropout=1.0)


# --- The shipped classifier ------------------------------------------------------------------


def test_the_shipped_classifier_is_accurate(data):
    model = frechet.load_classifier()
    assert frechet.load_classifier() is model  # cached
    assert not model.trainable
    assert model.layers[-2].name == frechet.FEATURE_LAYER
    accuracy = np.mean(frechet.predict_classes(data.x_test[:2000]) == data.y_test[:2000])
    assert accuracy >= 0.9


def test_the_provenance_record_describes_the_shipped_weights():
    record = json.loads((pretrained.WEIGHTS_DIR / "fashion_classifier.json").read_text())
    assert record == frechet.classifier_provenance()
    assert record["weights_sha256"] == pretrained.sha256(
        pretrained.weights_file(pretrained.CLASSIFIER))
    assert record["test_accuracy"] >= 0.92
    assert record["validation_accuracy"] >= 0.9
    assert record["n_features"] == frechet.N_FEATURES
    assert record["data"]["sha256_decompressed"] == genlib.data.SHA256
    assert record["real_baseline"]["n_images"] == frechet.DEFAULT_N_IMAGES
    for key in ("seed", "date", "epochs_run", "best_epoch", "versions"):
        assert key in record


def test_corrupt_weights_are_reported(monkeypatch, tmp_path):
    record = pretrained.WEIGHTS_DIR / "fashion_classifier.json"
    (tmp_path / record.name).write_bytes(record.read_bytes())
    fake = tmp_path / "fashion_classifier.weights.h5"
    fake.write_text("version https://git-lfs.github.com/spec/v1\n")
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    frechet.load_classifier.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="do not match their provenance"):
            frechet.load_classifier()
        fake.unlink()
        with pytest.raises(FileNotFoundError, match="Reinstall genlib"):
            frechet.load_classifier()
    finally:
        frechet.load_classifier.cache_clear()


def test_loading_the_classifier_leaves_the_random_state_of_the_notebook_alone():
    import random

    import keras

    def draws():
        return float(keras.random.normal(())), random.random(), float(np.random.random())

    genlib.set_random_seed(3)
    expected = draws()
    genlib.set_random_seed(3)
    frechet.load_classifier.cache_clear()
    frechet._feature_model.cache_clear()
    images = np.random.default_rng(0).random((20, 28, 28))
    features = frechet.classifier_features(images)
    assert draws() == expected
    # Chapters clear Keras' session between experiments: the cached model still works.
    keras.backend.clear_session()
    np.testing.assert_array_equal(frechet.classifier_features(images), features)


def test_features_do_not_depend_on_the_input_layout_or_batching(real_b):
    images = real_b[: frechet.BATCH_SIZE + 7]  # one full batch and a partial one
    features = frechet.classifier_features(images)
    assert features.shape == (len(images), frechet.N_FEATURES)
    assert features.dtype == np.float32
    np.testing.assert_allclose(frechet.classifier_features(images[..., None]), features,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(frechet.classifier_features(images.reshape(len(images), 784)),
                               features, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(frechet.classifier_features(images[-7:]), features[-7:],
                               rtol=1e-4, atol=1e-4)


def test_real_images_self_distance_symmetry_and_noise(real_a, real_b):
    a, b = real_a[:500], real_b[:500]
    assert frechet.frechet_distance(b, b) == pytest.approx(0.0, abs=1e-6)
    d_ab = frechet.frechet_distance(a, b)
    assert d_ab == pytest.approx(frechet.frechet_distance(b, a), rel=1e-6)
    # Ever stronger Gaussian noise on the test images takes them ever further away.
    features_a = frechet.classifier_features(a)
    noise = np.random.default_rng(9).normal(size=b.shape).astype("float32")
    distances = [
        frechet.frechet_distance_from_features(
            features_a, frechet.classifier_features(np.clip(b + sigma * noise, 0, 1)))
        for sigma in (0.0, 0.05, 0.1, 0.2, 0.4)
    ]
    assert distances[0] == pytest.approx(d_ab, rel=1e-5)
    assert all(np.diff(distances) > 0), distances
    assert distances[-1] > 10 * distances[0], distances


def test_real_baseline_is_reproducible_and_depends_on_the_seed(real_a, real_b):
    x_train, x_test = real_a[:400], real_b[:300]
    first = frechet.real_baseline(x_train, x_test, n_images=300, seed=0)
    assert frechet.real_baseline(x_train, x_test, n_images=300, seed=0) == first
    assert frechet.real_baseline(x_train, x_test, n_images=300, seed=1) != first
    # None draws as many images as the test set holds: all of them.
    rng = np.random.default_rng(0)
    train_part = x_train[np.sort(rng.choice(400, 300, replace=False))]
    assert frechet.real_baseline(x_train, x_test) == pytest.approx(
        frechet.frechet_distance(train_part, x_test), rel=1e-6)
    # Fewer images, larger distance (the estimate is biased): why n must stay fixed.
    assert frechet.real_baseline(x_train, x_test, n_images=150) > first


def test_class_coverage_of_real_images_and_of_a_collapsed_generator(real_b):
    coverage = frechet.class_coverage(real_b)
    assert coverage.n_covered == 10 and coverage.missing == []
    assert coverage.counts.sum() == len(real_b)
    assert coverage.shares.sum() == pytest.approx(1.0)
    assert "all covered" in repr(coverage)
    collapsed = frechet.class_coverage(np.repeat(real_b[:1], 100, axis=0))
    assert collapsed.n_covered == 1
    assert collapsed.counts.max() == 100
    assert len(collapsed.missing) == 9
    text = str(collapsed)
    assert text.startswith("1 of 10 classes covered")
    assert all(name in text for name in CLASS_NAMES)


# --- The training script ---------------------------------------------------------------------


def test_the_training_script_refuses_to_overwrite(tmp_path, capsys):
    from tools import train_classifier

    (tmp_path / "fashion_classifier.weights.h5").write_bytes(b"")
    assert train_classifier.main(["--output-dir", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
