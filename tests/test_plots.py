import numpy as np
import pytest

from genlib import plots

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 28, 28, 1), (5, 784), (5, 8, 8, 3)])
def test_image_grid_accepts_common_layouts(shape):
    fig = plots.plot_image_grid(RNG.random(shape), n_cols=3)
    assert sum(ax.get_visible() for ax in fig.axes) == 5


@pytest.mark.parametrize("images, message", [
    (np.zeros((5, 30)), "square number of pixels"),
    (np.zeros(28), "images must be a 2-D or 3-D or 4-D array"),
    (np.zeros((2, 28, 28, 2)), "1 or 3 channels"),
    (np.full((2, 28, 28), 1.5), r"images has values in \[1.5, 1.5\], outside value_range=\(0, 1\)"),
    (np.full((2, 28, 28), np.nan), "images contains NaN"),
])
def test_image_grid_rejects_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_image_grid(images)


def test_value_range_allows_tanh_images_and_is_validated():
    plots.plot_image_grid(RNG.uniform(-1, 1, (4, 28, 28)), value_range=(-1, 1))
    with pytest.raises(ValueError, match="value_range must have low < high"):
        plots.plot_image_grid(np.zeros((4, 28, 28)), value_range=(1, 0))


def test_titles_must_match_images():
    with pytest.raises(ValueError, match="titles has 2 entries but there are 3 images"):
        plots.plot_image_grid(np.zeros((3, 28, 28)), titles=["a", "b"])


def test_reconstructions_two_aligned_rows():
    x = RNG.random((10, 28, 28))
    fig = plots.plot_reconstructions(x, x * 0.5, n_images=4)
    assert len(fig.axes) == 8
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_reconstructions(x, x[:5])
    with pytest.raises(ValueError, match="reconstruction"):
        plots.plot_reconstructions(x, x + 2)


def test_image_rows_need_equal_shapes():
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_image_rows({"a": np.zeros((3, 28, 28)), "b": np.zeros((3, 14, 14))})
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.plot_image_rows({})


def test_history_plot_and_missing_metric():
    fig = plots.plot_history({"loss": [3, 2, 1]}, metrics=["loss"], log_scale=True)
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="history has no val_loss"):
        plots.plot_history({"loss": [3, 2, 1]})


@pytest.mark.parametrize("sizes, message", [
    ((3, 2), "odd number"),
    ((3, 2, 4), "as many outputs as inputs"),
    ((3, 0, 3), "layer size must be an integer >= 1"),
])
def test_diagram_rejects_impossible_autoencoders(sizes, message):
    with pytest.raises(ValueError, match=message):
        plots.draw_autoencoder(sizes)


def test_diagram_labels_the_parts():
    fig = plots.draw_autoencoder((784, 100, 30, 100, 784))
    texts = {text.get_text() for text in fig.axes[0].texts}
    assert {"inputs", "codings", "outputs", "encoder", "decoder", "784", "30"} <= texts


def test_draw_gan():
    fig = plots.draw_gan()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "generator" in texts and "discriminator" in texts
