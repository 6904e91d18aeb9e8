"""Interactive figures that need no kernel: frames of images and a slider, in plain HTML.

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
        return f"""<figure class="genlib-slider" id="{uid}" style="margin: 0.5em 0">
{rows}<img src="{images[self.start]}" alt="{html.escape(self.alt)}" width="{shown_width}"
 style="image-rendering: pixelated; background: white; max-width: 100%; height: auto">
<figcaption style="display: flex; gap: 0.8em; align-items: center; flex-wrap: wrap">
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
