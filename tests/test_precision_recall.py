"""Precision and recall (Kynkäänniemi et al. 2019) on synthetic features with known answers."""

import numpy as np
import pytest

from genlib.precision_recall import (
    PrecisionRecall,
    precision_recall,
    precision_recall_from_features,
)

rng = np.random.default_rng(0)
TWO_MODES = np.concatenate([rng.normal(-5, 1, (1000, 2)), rng.normal(5, 1, (1000, 2))])


def test_a_sample_of_the_same_distribution_is_precise_and_complete():
    other = np.concatenate([rng.normal(-5, 1, (1000, 2)), rng.normal(5, 1, (1000, 2))])
    result = precision_recall_from_features(TWO_MODES, other)
    assert result.precision > 0.9 and result.recall > 0.9


def test_mode_collapse_keeps_precision_and_halves_recall():
    one_mode = rng.normal(5, 1, (2000, 2))
    result = precision_recall_from_features(TWO_MODES, one_mode)
    assert result.precision > 0.9
    assert 0.4 < result.recall < 0.55


def test_unrealistic_samples_have_neither():
    far = rng.normal(50, 1, (2000, 2))
    assert precision_recall_from_features(TWO_MODES, far) == PrecisionRecall(0.0, 0.0, 3)


def test_samples_spread_wider_than_the_data_cover_it_but_are_often_unrealistic():
    # "Blurry" in feature space: everywhere, the data's modes included.
    wide = rng.uniform(-15, 15, (8000, 2))
    result = precision_recall_from_features(TWO_MODES, wide)
    assert result.recall > 0.9 and result.precision < 0.5


def test_a_larger_k_gives_larger_manifolds():
    one_mode = rng.normal(5, 1.5, (2000, 2))
    small = precision_recall_from_features(TWO_MODES, one_mode, k=1)
    large = precision_recall_from_features(TWO_MODES, one_mode, k=10)
    assert large.precision > small.precision and large.recall > small.recall


def test_images_are_compared_on_the_classifiers_features():
    images = rng.random((300, 28, 28))
    dark = 0.05 * rng.random((300, 28, 28))  # nearly black images: nothing like noise
    same = precision_recall(images, rng.random((300, 28, 28)))
    assert same.precision > 0.8 and same.recall > 0.8
    assert precision_recall(images, dark) == PrecisionRecall(0.0, 0.0, 3)
    assert "precision" in str(same) and "recall" in str(same)


@pytest.mark.parametrize("real, generated, k, match", [
    (np.zeros((10, 2)), np.zeros((10, 3)), 3, "same number of features"),
    (np.zeros((3, 2)), np.zeros((10, 2)), 3, "real_features has 3 rows"),
    (np.zeros((10, 2)), np.zeros(10), 3, "generated_features must be a 2-D array"),
    (np.zeros((10, 2)), np.zeros((10, 2)), 0, "k"),
])
def test_bad_input_is_named(real, generated, k, match):
    with pytest.raises((ValueError, TypeError), match=match):
        precision_recall_from_features(real, generated, k=k)
