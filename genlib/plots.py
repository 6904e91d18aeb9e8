"""Plotting helpers with one consistent style for the whole course.

Every helper returns the matplotlib ``Figure`` it drew, validates its arguments and
never clips or rescales data silently: images outside their ``value_range`` are an error.

>>> import numpy as np
>>> from genlib import plots
>>> plots.set_style()
>>> fig = plots.plot_image_grid(np.random.default_rng(0).random((16, 28, 28)), n_cols=8)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from genlib._validation import as_images, check_positive_int

#: The course's matplotlib settings (applied by :func:`set_style`).
STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "image.cmap": "binary",
    "axes.prop_cycle": plt.cycler(color=plt.get_cmap("tab10").colors),
}


def set_style() -> None:
    """Apply the course's plotting style to every later figure.

    >>> set_style()
    >>> import matplotlib.pyplot as plt
    >>> plt.rcParams["axes.spines.top"]
    False
    """
    plt.rcParams.update(STYLE)


def _show_image(ax, image, value_range, cmap="binary"):
    low, high = value_range
    ax.imshow(image, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    ax.set_axis_off()


def plot_image_grid(images, *, n_cols: int = 8, titles=None, value_range=(0.0, 1.0),
                    cell_size: float = 1.1, suptitle: str | None = None, cmap: str = "binary"):
    """Draw a batch of images as a grid, dark pixels for high values.

    Parameters
    ----------
    images : array of shape (n, h, w), (n, h, w, 1), (n, h, w, 3) or (n, h*w)
    n_cols : int
        Images per row.
    titles : sequence of str, optional
        One title per image (for example class names).
    value_range : (low, high)
        The range pixel values live in; values outside it raise a ``ValueError``.
    cmap : str
        A matplotlib colormap; ``"binary"`` (the default) draws high values dark.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_image_grid(np.zeros((10, 28, 28)), n_cols=5, titles=list("abcdefghij"))
    >>> len(fig.axes)
    10
    """
    images = as_images(images, "images", value_range=value_range)
    n_cols = check_positive_int(n_cols, "n_cols")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles has {len(titles)} entries but there are {len(images)} images")
    n_cols = min(n_cols, len(images))
    n_rows = -(-len(images) // n_cols)
    extra = 0.25 if titles is not None else 0.0
    fig, axes = plt.subplots(n_rows, n_cols, squeeze=False,
                             figsize=(n_cols * cell_size, n_rows * (cell_size + extra)))
    for index, ax in enumerate(axes.flat):
        if index < len(images):
            _show_image(ax, images[index], value_range, cmap)
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize=8)
        else:
            ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_image_rows(rows, *, n_images: int = 8, value_range=(0.0, 1.0), cell_size: float = 1.1,
                    differences=(), highlight: int | None = None):
    """One row of images per entry of ``rows`` (a dict: row title -> images), aligned by column.

    Parameters
    ----------
    rows : dict
        Row title -> batch of images, all of the same shape.
    n_images : int, default=8
        Columns drawn (at most the number of images).
    value_range : (low, high), default=(0.0, 1.0)
        The range the pixels live in; values outside it raise a ``ValueError``.
    cell_size : float, default=1.1
        Width and height of one image, in inches.
    differences : sequence of str, default=()
        Titles of rows that hold differences of two images, in [-1, 1]: drawn red where the
        difference is positive (more ink), blue where it is negative.
    highlight : int, optional
        A column to frame in red.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 28, 28))
    >>> fig = plot_image_rows({"original": x, "model A": x, "model B": x}, n_images=5)
    >>> len(fig.axes)
    15
    """
    arrays, n_images = _check_rows(rows, n_images, value_range, differences, highlight)
    fig, axes = plt.subplots(len(arrays), n_images, squeeze=False,
                             figsize=(n_images * cell_size, len(arrays) * cell_size + 0.3))
    for row, (title, images) in enumerate(arrays.items()):
        signed = title in differences
        for column in range(n_images):
            _show_image(axes[row, column], images[column], (-1.0, 1.0) if signed
                        else value_range, cmap="RdBu_r" if signed else "binary")
        # Axis labels vanish with set_axis_off, so the row names are written as text.
        axes[row, 0].text(-0.1, 0.5, title, transform=axes[row, 0].transAxes,
                          ha="right", va="center", rotation=90, fontsize=9)
    if highlight is not None:
        for ax in axes[:, highlight]:
            ax.add_patch(plt.Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False,
                                       edgecolor="red", linewidth=2, clip_on=False))
    return fig


def _check_rows(rows, n_images, value_range, differences, highlight):
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a non-empty dict mapping a row title to a batch of images")
    unknown = [title for title in differences if title not in rows]
    if unknown:
        raise ValueError(f"differences names rows that are not in rows: {unknown}; "
                         f"the rows are {list(rows)}")
    arrays = {title: as_images(images, f"rows[{title!r}]", value_range=(-1.0, 1.0)
                               if title in differences else value_range)
              for title, images in rows.items()}
    shapes = {array.shape for array in arrays.values()}
    if len(shapes) > 1:
        raise ValueError(f"every row must hold images of the same shape, got {sorted(shapes)}")
    n_images = min(check_positive_int(n_images, "n_images"), len(next(iter(arrays.values()))))
    if highlight is not None and not (isinstance(highlight, (int, np.integer))
                                      and 0 <= highlight < n_images):
        raise ValueError(f"highlight must be the index of a shown column, in [0, {n_images}), "
                         f"got {highlight!r}")
    return arrays, n_images


def plot_reconstructions(originals, reconstructions, *, n_images: int = 8,
                         value_range=(0.0, 1.0), cell_size: float = 1.1):
    """Originals in the top row, their reconstructions right below.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 28, 28))
    >>> fig = plot_reconstructions(x, x, n_images=6)
    >>> len(fig.axes)
    12
    """
    if np.shape(originals) != np.shape(reconstructions):
        raise ValueError(
            f"originals and reconstructions must have the same shape, got {np.shape(originals)} "
            f"and {np.shape(reconstructions)}"
        )
    return plot_image_rows({"original": originals, "reconstruction": reconstructions},
                           n_images=n_images, value_range=value_range, cell_size=cell_size)


def plot_history(history, *, metrics=("loss", "val_loss"), log_scale: bool = False,
                 ax=None, title: str | None = None):
    """Learning curves from a Keras ``History`` (or its ``history`` dict).

    Examples
    --------
    >>> fig = plot_history({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.4]})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['loss', 'val_loss']
    """
    curves = getattr(history, "history", history)
    if not isinstance(curves, dict):
        raise ValueError(
            f"history must be a keras History or a dict of lists, got {type(history).__name__}"
        )
    missing = [m for m in metrics if m not in curves]
    if missing:
        raise ValueError(
            f"history has no {', '.join(missing)}; it has {', '.join(curves) or 'nothing'}"
        )
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.2))
    else:
        fig = ax.figure
    for metric in metrics:
        values = np.asarray(curves[metric], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=metric)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss" if all("loss" in m for m in metrics) else "value")
    if log_scale:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def draw_autoencoder(layer_sizes=(3, 2, 3), *, max_drawn: int = 7, ax=None,
                     title: str | None = None):
    """Draw an autoencoder as columns of neurons: inputs, hidden layers, codings, outputs.

    The middle layer is the coding layer; layers with more than ``max_drawn`` neurons are
    drawn with a few neurons and a gap, and every layer is labelled with its size.

    Examples
    --------
    >>> fig = draw_autoencoder((784, 100, 30, 100, 784))
    >>> fig.axes[0].get_title()
    ''
    """
    sizes = [check_positive_int(size, "layer size") for size in layer_sizes]
    if len(sizes) < 3 or len(sizes) % 2 == 0:
        raise ValueError(
            f"layer_sizes must have an odd number (>= 3) of layers, inputs … codings … outputs; "
            f"got {tuple(layer_sizes)}"
        )
    if sizes[0] != sizes[-1]:
        raise ValueError(
            f"an autoencoder has as many outputs as inputs, got {sizes[0]} and {sizes[-1]}"
        )
    max_drawn = check_positive_int(max_drawn, "max_drawn", minimum=3)
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.4 * len(sizes) + 1.5, 3.6))
    else:
        fig = ax.figure
    middle = len(sizes) // 2
    colors = (
        ["#4c72b0"]
        + ["#8c8c8c"] * (middle - 1)
        + ["#dd8452"]
        + ["#8c8c8c"] * (middle - 1)
        + ["#55a868"]
    )
    positions = []
    for size in sizes:
        shown = min(size, max_drawn)
        ys = np.linspace(-(shown - 1) / 2, (shown - 1) / 2, shown) * 0.5
        if size > max_drawn:  # leave a gap in the middle to mean "many more"
            ys = (
                np.where(ys > 0, ys + 0.25, ys - 0.25)
                if shown % 2 == 0
                else np.delete(ys, shown // 2)
            )
        positions.append(ys)
    for column in range(len(sizes) - 1):
        for y0 in positions[column]:
            for y1 in positions[column + 1]:
                ax.plot([column, column + 1], [y0, y1], color="0.8", lw=0.6, zorder=1)
    for column, ys in enumerate(positions):
        ax.scatter(np.full(len(ys), column), ys, s=220, color=colors[column],
                   edgecolor="black", linewidth=0.8, zorder=2)
        if sizes[column] > max_drawn:
            ax.text(column, 0, "⋮", ha="center", va="center", fontsize=14)
        top = max(np.max(np.abs(p)) for p in positions)
        ax.text(column, -top - 0.45, str(sizes[column]), ha="center", va="top", fontsize=9)
    top = max(np.max(np.abs(p)) for p in positions)
    names = {0: "inputs", middle: "codings", len(sizes) - 1: "outputs"}
    for column, name in names.items():
        ax.text(column, top + 0.35, name, ha="center", va="bottom", fontsize=10, fontweight="bold")
    for start, end, name in ((0, middle, "encoder"), (middle, len(sizes) - 1, "decoder")):
        ax.annotate("", xy=(end, top + 1.0), xytext=(start, top + 1.0),
                    arrowprops=dict(arrowstyle="<->", color="0.3"))
        ax.text((start + end) / 2, top + 1.1, name, ha="center", va="bottom", fontsize=10)
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-top - 0.9, top + 1.6)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def draw_gan(ax=None):
    """Draw a GAN: noise → generator → fake images → discriminator ← real images.

    >>> fig = draw_gan()  # chapter 7
    >>> len(fig.axes)
    1
    """
    from matplotlib.patches import FancyBboxPatch, Polygon

    if ax is None:
        fig, ax = plt.subplots(figsize=(8.4, 2.9))
    else:
        fig = ax.figure

    def box(x, y, text, color, width=1.45, height=0.62):
        ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                    boxstyle="round,pad=0.04", facecolor=color,
                                    edgecolor="0.25", linewidth=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=9)

    def network(x, y, text, color, widening, text_color="black"):
        # A trapezoid: the generator widens (small codings → image), the discriminator narrows.
        small, large, half = 0.28, 0.62, 0.75
        left, right = (small, large) if widening else (large, small)
        ax.add_patch(Polygon([(x - half, y - left), (x + half, y - right),
                              (x + half, y + right), (x - half, y + left)],
                             closed=True, facecolor=color, edgecolor="0.25", linewidth=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=10, fontweight="bold",
                color=text_color)

    def arrow(start, end, text=None, offset=(0, 0.12)):
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-|>", color="0.25", lw=1.0))
        if text:
            ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1],
                    text, ha="center", va="bottom", fontsize=8, color="0.3")

    box(0.0, 0.0, "random codings\n$z \\sim \\mathcal{N}(0, I)$", "#f2f2f2")
    network(2.1, 0.0, "generator", "#dd8452", widening=True)
    box(4.2, 0.0, "fake images\n(target 0, or 1 in\nthe generator phase)", "#fbe3d3",
        width=1.7, height=0.85)
    box(4.2, 1.35, "real images\n(target 1)", "#dbe8f5", width=1.7)
    network(6.3, 0.55, "discriminator", "#4c72b0", widening=False, text_color="white")
    box(8.3, 0.55, "P(real)", "#f2f2f2", width=1.0)
    arrow((0.75, 0.0), (1.35, 0.0))
    arrow((2.85, 0.0), (3.35, 0.0))
    arrow((5.05, 0.05), (5.55, 0.38))
    arrow((5.05, 1.3), (5.55, 0.75))
    arrow((7.05, 0.55), (7.8, 0.55))
    ax.annotate("", xy=(2.1, -0.72), xytext=(6.3, -0.2),
                arrowprops=dict(arrowstyle="-|>", color="#c44e52", lw=1.0, ls="--",
                                connectionstyle="arc3,rad=-0.25"))
    ax.text(4.2, -1.05, "gradients flow back to the generator through the discriminator",
            ha="center", va="top", fontsize=8, color="#c44e52")
    ax.set_xlim(-0.85, 8.9)
    ax.set_ylim(-1.35, 1.85)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig


def plot_latent_map(points, labels, class_names, *, images=None, min_distance: float = 0.05,
                    thumbnail_zoom: float = 0.6, ax=None, title: str | None = None):
    """A 2-D map of a data set (e.g. from t-SNE): one colour per class, a legend of class
    names, and optionally image thumbnails spread over the map.

    Parameters
    ----------
    points : array of shape (n, 2)
    labels : array of n class indices
    class_names : sequence of str, indexed by the labels
    images : array of n images, optional
        When given, a thumbnail is drawn for every point that lies at least
        ``min_distance`` (as a fraction of the map's size) from all earlier thumbnails.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_latent_map(rng.normal(size=(50, 2)), rng.integers(0, 3, 50), ["a", "b", "c"],
    ...                       images=rng.random((50, 28, 28)))
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['a', 'b', 'c']
    """
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    from genlib._validation import as_array

    points = as_array(points, "points", ndim=2)
    if points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    labels = np.asarray(labels)
    if labels.shape != (len(points),):
        raise ValueError(
            f"labels must hold one class per point ({len(points)}), got shape {labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= len(class_names):
        raise ValueError(f"labels must be class indices in [0, {len(class_names) - 1}], "
                         f"got values from {labels.min()} to {labels.max()}")
    if images is not None:
        images = as_images(images, "images")
        if len(images) != len(points):
            raise ValueError(
                f"images must hold one image per point ({len(points)}), got {len(images)}"
            )
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 7))
    else:
        fig = ax.figure
    colors = plt.get_cmap("tab10")
    for label, name in enumerate(class_names):
        mask = labels == label
        ax.scatter(points[mask, 0], points[mask, 1], s=4, color=colors(label % 10), label=name)
    if images is not None:
        # Work in coordinates scaled to [0, 1] so that min_distance is a fraction of the map.
        scaled = (points - points.min(axis=0)) / np.ptp(points, axis=0).clip(min=1e-12)
        shown = np.empty((0, 2))
        for index, position in enumerate(scaled):
            if len(shown) and np.min(np.sum((shown - position) ** 2, axis=1)) < min_distance ** 2:
                continue
            shown = np.vstack([shown, position])
            thumbnail = OffsetImage(images[index], cmap="binary", zoom=thumbnail_zoom)
            box = AnnotationBbox(thumbnail, points[index], frameon=True, pad=0.1,
                                 bboxprops=dict(edgecolor=colors(labels[index] % 10), linewidth=1))
            ax.add_artist(box)
    ax.legend(markerscale=4, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title)
    return fig


def plot_number_grids(grids, *, cell_size: float = 0.42, fmt: str = "{:g}", cmap: str = "Blues"):
    """Small 2-D arrays side by side, each cell shaded and labelled with its value.

    Made to show tiny worked examples (an input, a kernel, their result) step by step.

    Parameters
    ----------
    grids : dict mapping a title to a 2-D array

    Examples
    --------
    >>> fig = plot_number_grids({"input": [[1, 2], [3, 4]], "kernel": np.eye(3)})
    >>> [ax.get_title() for ax in fig.axes]
    ['input', 'kernel']
    """
    from genlib._validation import as_array

    if not isinstance(grids, dict) or not grids:
        raise ValueError("grids must be a non-empty dict mapping a title to a 2-D array")
    arrays = {title: as_array(grid, f"grids[{title!r}]", ndim=2) for title, grid in grids.items()}
    widths = [array.shape[1] for array in arrays.values()]
    height = max(array.shape[0] for array in arrays.values())
    fig, axes = plt.subplots(1, len(arrays), squeeze=False, gridspec_kw={"width_ratios": widths},
                             figsize=(cell_size * (sum(widths) + 1.5 * len(arrays)),
                                      cell_size * height + 0.6))
    for ax, (title, array) in zip(axes.flat, arrays.items()):
        limit = max(np.abs(array).max(), 1e-12)
        ax.imshow(array, cmap=cmap, vmin=min(0, array.min()), vmax=limit)
        for (row, column), value in np.ndenumerate(array):
            dark = abs(value) > 0.6 * limit
            ax.text(column, row, fmt.format(value), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
        ax.set_xticks(np.arange(array.shape[1] + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(array.shape[0] + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="0.6", linewidth=0.5)
        ax.grid(which="major", visible=False)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_title(title, fontsize=9)
    return fig
