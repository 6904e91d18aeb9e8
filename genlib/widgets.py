"""Interactive figures that need no kernel: plain HTML, images as data, a little JavaScript.

- :class:`FrameSlider`: frames of images and a slider to move through them;
- :class:`LatentExplorer`: a map of 2-D codings to point at, and the decoder's image there.

A :class:`FrameSlider` holds a sequence of frames (each a row of grayscale images) and one
caption per frame. Shown in Jupyter, Colab or the book, it is a small self-contained piece of
HTML: the images as PNG data (nothing is loaded from elsewhere, so it works offline), a range
input that the mouse and the keyboard move (arrows, Page Up/Down, Home, End), the frame's
caption next to it, and a few lines of JavaScript that swap the image. Without JavaScript
(an untrusted notebook, a feed reader) the first frame shows, with its alt text: the still
fallback.

>>> import numpy as np
>>> frames = np.linspace(0, 1, 3)[:, None, None, None] * np.ones((3, 2, 4, 4))
>>> slider = FrameSlider(frames, captions=["dark", "grey", "light"],
...                      alt="Two squares, from dark to light")
>>> slider.n_frames, 'type="range"' in slider._repr_html_()
(3, True)
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json

import numpy as np

from genlib._validation import as_array, check_positive_int, check_range

_COUNTER = itertools.count()
#: Each figure is a light card (white, dark text): readable on light and dark pages alike.
_CARD = ("margin: 0.5em 0; padding: 0.5em; background: white; color: #1a1a1a; "
         "border-radius: 4px; display: inline-block")


def _png(image: np.ndarray, value_range) -> str:
    """A grayscale image as a PNG data URI (dark ink on white, like the book's figures)."""
    import matplotlib.image

    low, high = value_range
    scaled = np.clip((np.asarray(image, dtype="float64") - low) / (high - low), 0, 1)
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, 1 - scaled, cmap="gray", vmin=0, vmax=1, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class FrameSlider:
    """Frames of images and a slider to move through them, as kernel-free HTML.

    Parameters
    ----------
    frames : array of shape (n_frames, n_rows, n_images, height, width), (n_frames,
        n_images, height, width) or (n_frames, height, width)
        The images of each frame, in rows of images side by side; at least two frames.
    captions : sequence of str
        What each frame shows (e.g. "step 340 of 1,000, noise level 0.83"), one per frame;
        shown next to the slider and read by screen readers as the slider's value.
    alt : str
        What the figure shows, for readers who cannot see it (the image's alt text).
    label : str, default "frame"
        What the slider moves through, for screen readers.
    value_range : (float, float), default (0.0, 1.0)
        The pixel values drawn white and black; values outside are clipped for display.
    scale : int, default 3
        Each pixel's size on screen, in CSS pixels (the PNGs keep the images' own size).
    start : int, default 0
        The frame shown first (and without JavaScript).
    row_labels : sequence of str, optional
        What each row of images shows, written above the figure ("rows: ... · ...").

    Examples
    --------
    >>> frames = np.random.default_rng(0).random((4, 28, 28))
    >>> FrameSlider(frames, captions=["a", "b", "c", "d"], alt="Noise", start=3).start
    3
    >>> FrameSlider(frames, captions=["a"], alt="Noise")
    Traceback (most recent call last):
    ...
    ValueError: captions must hold one caption per frame (4 frames), got 1
    """

    def __init__(self, frames, *, captions, alt: str, label: str = "frame",
                 value_range=(0.0, 1.0), scale: int = 3, start: int = 0, row_labels=None):
        frames = as_array(frames, "frames")
        if frames.ndim in (3, 4):
            frames = frames.reshape(frames.shape[:1] + (1,) * (5 - frames.ndim)
                                    + frames.shape[1:])
        if frames.ndim != 5 or len(frames) < 2:
            raise ValueError(f"frames must have shape (n_frames, n_rows, n_images, height, "
                             f"width), (n_frames, n_images, height, width) or (n_frames, "
                             f"height, width) with at least two frames, got shape "
                             f"{frames.shape}")
        if row_labels is not None:
            row_labels = [str(label) for label in row_labels]
            if len(row_labels) != frames.shape[1]:
                raise ValueError(f"row_labels must name each of the {frames.shape[1]} rows, "
                                 f"got {len(row_labels)}")
        self.row_labels = row_labels
        captions = [str(caption) for caption in captions]
        if len(captions) != len(frames):
            raise ValueError(f"captions must hold one caption per frame ({len(frames)} "
                             f"frames), got {len(captions)}")
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError(f"alt must be a sentence describing the figure for readers who "
                             f"cannot see it, got {alt!r}")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"label must say what the slider moves through, e.g. 'step', "
                             f"got {label!r}")
        low, high = check_range(value_range, "value_range")
        self.scale = check_positive_int(scale, "scale")
        start = check_positive_int(start, "start", minimum=0)
        if start >= len(frames):
            raise ValueError(f"start must be a frame's index, below {len(frames)}, got {start}")
        self.start = start
        self.frames, self.captions, self.alt, self.label = frames, captions, alt, label
        self.value_range = (low, high)

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    def frame_images(self) -> list[str]:
        """Each frame as one PNG data URI: its rows of images, 2 white pixels apart."""
        n_rows, n_images, height, width = self.frames.shape[1:]
        white = self.value_range[0]
        uris = []
        for frame in self.frames:
            rows = []
            for row in frame:
                pieces = [row[0]]
                for image in row[1:]:
                    pieces += [np.full((height, 2), white), image]
                rows.append(np.hstack(pieces))
            grid = [rows[0]]
            for row in rows[1:]:
                grid += [np.full((2, rows[0].shape[1]), white), row]
            uris.append(_png(np.vstack(grid), self.value_range))
        return uris

    def _repr_html_(self) -> str:
        uid = f"genlib-slider-{next(_COUNTER)}-{np.random.default_rng().integers(1 << 30)}"
        images = self.frame_images()
        n_rows, n_images, height, width = self.frames.shape[1:]
        shown_width = (n_images * width + 2 * (n_images - 1)) * self.scale
        caption = html.escape(self.captions[self.start])
        rows = ("" if self.row_labels is None else
                '<p style="margin: 0 0 0.3em 0; font-size: 0.9em">rows, top to bottom: '
                + html.escape(" · ".join(self.row_labels)) + "</p>\n")
        return f"""<figure class="genlib-slider" id="{uid}"
 style="{_CARD}">
{rows}<img src="{images[self.start]}" alt="{html.escape(self.alt)}" width="{shown_width}"
 style="image-rendering: pixelated; background: white; max-width: 100%; height: auto">
<figcaption style="color: inherit; display: flex; gap: 0.8em; align-items: center; flex-wrap: wrap">
<input type="range" min="0" max="{self.n_frames - 1}" step="1" value="{self.start}"
 aria-label="{html.escape(self.label)}" aria-valuetext="{caption}" style="width: 16em">
<output aria-live="polite">{caption}</output>
</figcaption>
<script>
(() => {{
  const root = document.getElementById("{uid}");
  const images = {json.dumps(images)};
  const captions = {json.dumps(self.captions)};
  const image = root.querySelector("img"), slider = root.querySelector("input"),
        output = root.querySelector("output");
  slider.addEventListener("input", () => {{
    const k = Number(slider.value);
    image.src = images[k];
    output.textContent = captions[k];
    slider.setAttribute("aria-valuetext", captions[k]);
    root.dataset.frame = String(k);
  }});
  root.dataset.frame = String(slider.value);
}})();
</script>
</figure>"""


class LatentExplorer:
    """A 2-D latent space to point at: the map of codings, and the decoder's image there.

    The decoder's images on a regular grid of codings (``decoded``, row 0 at the top, i.e.
    the largest second coding) are packed into one PNG; pointing at the map (or moving a
    cursor over it with the arrow keys once it has the focus) shows the image of the nearest
    grid point, with its coding. Like :class:`FrameSlider`, plain HTML and a few lines of
    JavaScript: no kernel, nothing loaded from elsewhere; without JavaScript, the map and
    the image at the centre show.

    Parameters
    ----------
    decoded : array of shape (n, n, height, width)
        The decoder's images on an n x n grid of codings evenly spaced over ``extent`` in
        both directions; ``decoded[i, j]`` is at row ``i`` from the top, column ``j`` from
        the left.
    points : array of shape (m, 2)
        Codings to draw on the map (e.g. the validation images' mean codings).
    labels : array of m ints
        The class of each point, for its colour (tab10).
    class_names : sequence of str
        The name of each class, for the legend.
    extent : (float, float)
        The range of both codings that the map and the grid cover.
    alt : str
        What the map shows, for readers who cannot see it.
    size : int, default 360
        The map's side on screen, in CSS pixels.

    Examples
    --------
    >>> grid = np.random.default_rng(0).random((5, 5, 28, 28))
    >>> points = np.zeros((3, 2))
    >>> explorer = LatentExplorer(grid, points=points, labels=[0, 1, 1],
    ...                           class_names=["a", "b"], extent=(-3, 3), alt="A map")
    >>> explorer.n_grid, "tabindex" in explorer._repr_html_()
    (5, True)
    """

    def __init__(self, decoded, *, points, labels, class_names, extent, alt: str,
                 size: int = 360):
        decoded = as_array(decoded, "decoded", ndim=4)
        if decoded.shape[0] != decoded.shape[1] or decoded.shape[0] < 2:
            raise ValueError(f"decoded must hold the images of an n x n grid (n >= 2), shape "
                             f"(n, n, height, width), got {decoded.shape}")
        points = as_array(points, "points", ndim=2)
        if points.shape[1] != 2:
            raise ValueError(f"points must be 2-D codings, shape (m, 2), got {points.shape}")
        labels = np.asarray(labels)
        if labels.shape != (len(points),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must hold one integer class per point ({len(points)}), "
                             f"got shape {labels.shape}")
        class_names = [str(name) for name in class_names]
        if labels.min() < 0 or labels.max() >= len(class_names):
            raise ValueError(f"labels must be class indices below len(class_names) = "
                             f"{len(class_names)}")
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError(f"alt must be a sentence describing the map for readers who "
                             f"cannot see it, got {alt!r}")
        self.extent = check_range(extent, "extent")
        self.size = check_positive_int(size, "size")
        self.decoded, self.points, self.labels = decoded, points, labels
        self.class_names, self.alt = class_names, alt

    @property
    def n_grid(self) -> int:
        return len(self.decoded)

    def map_image(self) -> str:
        """The codings as a scatter plot filling the whole PNG (no margins), as a data URI."""
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(4, 4), dpi=self.size / 4)
        ax = figure.add_axes((0, 0, 1, 1))
        colors = plt.get_cmap("tab10").colors
        ax.scatter(self.points[:, 0], self.points[:, 1], s=2, linewidths=0,
                   c=[colors[label % 10] for label in self.labels])
        ax.set(xlim=self.extent, ylim=self.extent)
        ax.set_axis_off()
        figure.patch.set_facecolor("white")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", facecolor="white")
        plt.close(figure)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

    def sprite(self) -> str:
        """Every decoded image, in one PNG laid out as the grid."""
        n, _, height, width = self.decoded.shape
        sheet = self.decoded.transpose(0, 2, 1, 3).reshape(n * height, n * width)
        return _png(sheet, (0.0, 1.0))

    def _repr_html_(self) -> str:
        import matplotlib.pyplot as plt

        uid = f"genlib-latent-{next(_COUNTER)}-{np.random.default_rng().integers(1 << 30)}"
        n, (low, high), size, shown = self.n_grid, self.extent, self.size, 168
        middle = n // 2
        colors = [f"rgb({r * 255:.0f}, {g * 255:.0f}, {b * 255:.0f})"
                  for r, g, b in plt.get_cmap("tab10").colors]
        legend = " ".join(
            f'<span style="white-space: nowrap"><span style="display: inline-block; '
            f'width: 0.8em; height: 0.8em; background: {colors[k % 10]}"></span> '
            f"{html.escape(name)}</span>" for k, name in enumerate(self.class_names))
        coding = (low + (high - low) * middle / (n - 1),) * 2
        return f"""<figure class="genlib-latent" id="{uid}"
 style="{_CARD}">
<div style="display: flex; gap: 1em; align-items: flex-start; flex-wrap: wrap">
<div class="latent-map" tabindex="0" role="group"
 aria-label="Map of the codings: point at it, or use the arrow keys, to decode a coding"
 style="position: relative; width: {size}px; height: {size}px; cursor: crosshair;
 outline-offset: 2px">
<img src="{self.map_image()}" alt="{html.escape(self.alt)}" width="{size}" height="{size}"
 style="display: block; background: white">
<div class="latent-cursor" style="position: absolute; left: 50%; top: 50%; width: 12px;
 height: 12px; margin: -8px 0 0 -8px; border: 2px solid black; border-radius: 50%;
 background: rgba(255, 255, 255, 0.6); pointer-events: none"></div>
</div>
<div>
<div class="latent-image" role="img" aria-label="the decoder's image at the selected coding"
 style="width: {shown}px; height: {shown}px; background-color: white;
 background-image: url('{self.sprite()}'); background-size: {n * shown}px {n * shown}px;
 background-position: -{middle * shown}px -{middle * shown}px;
 image-rendering: pixelated; border: 1px solid #888"></div>
<output aria-live="polite">coding ({coding[0]:.2f}, {coding[1]:.2f})</output>
</div>
</div>
<figcaption style="color: inherit; font-size: 0.9em">{legend}</figcaption>
<script>
(() => {{
  const root = document.getElementById("{uid}"), n = {n}, low = {low}, high = {high};
  const map = root.querySelector(".latent-map"), cursor = root.querySelector(".latent-cursor"),
        image = root.querySelector(".latent-image"), output = root.querySelector("output");
  let row = {middle}, column = {middle};
  const show = () => {{
    const z1 = low + (high - low) * column / (n - 1), z2 = high - (high - low) * row / (n - 1);
    image.style.backgroundPosition = `-${{column * {shown}}}px -${{row * {shown}}}px`;
    cursor.style.left = `${{100 * column / (n - 1)}}%`;
    cursor.style.top = `${{100 * row / (n - 1)}}%`;
    output.textContent = `coding (${{z1.toFixed(2)}}, ${{z2.toFixed(2)}})`;
    root.dataset.cell = `${{row}},${{column}}`;
  }};
  const clamp = (k) => Math.min(n - 1, Math.max(0, k));
  map.addEventListener("pointermove", (event) => {{
    const box = map.getBoundingClientRect();
    column = clamp(Math.round((event.clientX - box.left) / box.width * (n - 1)));
    row = clamp(Math.round((event.clientY - box.top) / box.height * (n - 1)));
    show();
  }});
  map.addEventListener("keydown", (event) => {{
    const moves = {{ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0],
                   ArrowDown: [1, 0]}};
    if (event.key === "Home") {{ row = column = {middle}; }}
    else if (moves[event.key]) {{
      row = clamp(row + moves[event.key][0]); column = clamp(column + moves[event.key][1]);
    }} else return;
    event.preventDefault();
    show();
  }});
  show();
}})();
</script>
</figure>"""
