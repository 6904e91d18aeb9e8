import keras
import numpy as np
import pytest
from sklearn.decomposition import PCA

import genlib
from genlib.linear import (
    build_linear_autoencoder,
    compare_with_pca,
    explained_variance,
    make_3d_dataset,
    principal_angles,
)


def test_principal_angles_known_cases():
    plane = np.eye(3)[:, :2]
    np.testing.assert_allclose(principal_angles(plane, plane @ [[1, 2], [3, 4]]), [0, 0], atol=1e-6)
    tilted = np.array([[1.0, 0], [0, 1], [0, 1]])
    np.testing.assert_allclose(principal_angles(plane, tilted), [45, 0], atol=1e-6)
    orthogonal = np.eye(4)
    np.testing.assert_allclose(principal_angles(orthogonal[:, :2], orthogonal[:, 2:]), [90, 90])


@pytest.mark.parametrize("a, b, message", [
    (np.ones((3, 2)), np.eye(3)[:, :2], "linearly dependent"),
    (np.eye(3)[:, :2], np.eye(4)[:, :2], "same number of rows"),
    (np.eye(3)[:, 0], np.eye(3)[:, :2], "basis_a must be a 2-D array"),
])
def test_principal_angles_rejects_bad_bases(a, b, message):
    with pytest.raises(ValueError, match=message):
        principal_angles(a, b)


def test_explained_variance_matches_sklearn():
    x = make_3d_dataset(seed=3).astype(float)
    pca = PCA(2).fit(x)
    value = explained_variance(x, pca.inverse_transform(pca.transform(x)))
    assert value == pytest.approx(pca.explained_variance_ratio_.sum())
    with pytest.raises(ValueError, match="zero variance"):
        explained_variance(np.ones((4, 2)), np.ones((4, 2)))


def test_comparison_is_blind_to_the_choice_of_axes():
    """Any invertible mix of PCA's axes spans the same subspace: angles 0, same MSE."""
    x = make_3d_dataset(seed=1).astype(float)
    pca = PCA(2).fit(x)
    mixed_axes = np.array([[2.0, 1.0], [-0.5, 3.0]]) @ pca.components_
    result = compare_with_pca(x, pca.inverse_transform(pca.transform(x)), mixed_axes)
    assert result.max_angle < 1e-5 and result.mse_ratio == pytest.approx(1.0)
    assert "principal angles" in str(result)


def test_comparison_detects_a_wrong_subspace():
    x = make_3d_dataset(seed=1).astype(float)
    wrong_axes = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    projection = np.column_stack([x[:, 0], np.full(len(x), x[:, 1].mean()), x[:, 2]])
    result = compare_with_pca(x, projection, wrong_axes)
    assert result.max_angle > 10 and result.mse_ratio > 1.5
    assert result.autoencoder_explained_variance < result.pca_explained_variance


@pytest.mark.parametrize("recon_shape, kernel_shape, message", [
    ((200, 2), (2, 3), "reconstructions must have the shape of x"),
    ((200, 3), (3, 2), r"decoder_kernel must have shape \(n_codings, 3\)"),
    ((200, 3), (3, 3), "undercomplete"),
])
def test_comparison_rejects_bad_shapes(recon_shape, kernel_shape, message):
    x = make_3d_dataset()
    with pytest.raises(ValueError, match=message):
        compare_with_pca(x, np.zeros(recon_shape), np.random.default_rng(0).normal(size=kernel_shape))


def test_dataset_is_almost_flat_and_validated():
    x = make_3d_dataset(n_samples=500)
    assert x.shape == (500, 3) and x.dtype == np.float32
    assert PCA(3).fit(x).explained_variance_ratio_[:2].sum() > 0.95
    with pytest.raises(ValueError, match="noise"):
        make_3d_dataset(noise=-1)
    with pytest.raises(ValueError, match="n_samples"):
        make_3d_dataset(n_samples=2)


def test_trained_linear_autoencoder_finds_pcas_plane():
    """The chapter's central claim, on the chapter's recipe: full-batch Adam."""
    genlib.set_random_seed(0)
    x = make_3d_dataset(seed=0)
    encoder, decoder, autoencoder = build_linear_autoencoder(3, coding_size=2)
    autoencoder.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.05))
    # 300 full-batch steps, as one epoch: Keras' per-epoch overhead was most of the test.
    steps = genlib.make_dataset(x, x, batch_size=len(x)).repeat(300)
    autoencoder.fit(steps, epochs=1, shuffle=False, verbose=0)
    assert int(autoencoder.optimizer.iterations) == 300
    result = compare_with_pca(x, autoencoder.predict(x, verbose=0), decoder.layers[-1].kernel.numpy())
    assert result.max_angle < 1.0
    assert 1.0 - 1e-6 <= result.mse_ratio < 1.01
    assert encoder.output_shape == (None, 2)


def test_builder_validates_sizes():
    with pytest.raises(ValueError, match="coding_size must be an integer >= 1"):
        build_linear_autoencoder(3, coding_size=0)
