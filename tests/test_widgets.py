"""genlib.widgets: kernel-free interactive figures (the HTML they write; tests/test_browser.py
drives them in a real browser)."""

import base64
import io
import json
import re

import matplotlib.image
import numpy as np

from genlib.widgets import FrameSlider


def frames(n=4):
    """Frame k: two 6 x 6 images of constant value k / (n - 1)."""
    return np.linspace(0, 1, n)[:, None, None, None] * np.ones((n, 2, 6, 6))


def decoded(uri):
    png = base64.b64decode(uri.removeprefix("data:image/png;base64,"))
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def test_each_frame_is_one_png_of_its_images_side_by_side():
    slider = FrameSlider(frames(), captions="abcd", alt="Squares")
    uris = slider.frame_images()
    assert len(uris) == 4
    first, last = decoded(uris[0]), decoded(uris[-1])
    assert first.shape[:2] == (6, 6 + 2 + 6)  # two images, two pixels apart
    # Value 0 is white, 1 black (dark ink on white, as the book's figures).
    assert first[..., 0].min() > 0.99 and last[:, :6, 0].max() < 0.01


def test_html_holds_every_frame_and_caption_and_starts_where_asked():
    slider = FrameSlider(frames(), captions=["zero", "one", "two", "three"],
                         alt='Squares "dark" to light', start=2, label="step")
    page = slider._repr_html_()
    images = json.loads(re.search(r"const images = (\[.*?\]);", page)[1])
    captions = json.loads(re.search(r"const captions = (\[.*?\]);", page)[1])
    assert images == slider.frame_images() and captions == ["zero", "one", "two", "three"]
    assert f'<img src="{images[2]}"' in page  # the still fallback: the start frame
    assert 'alt="Squares &quot;dark&quot; to light"' in page
    assert 'type="range" min="0" max="3" step="1" value="2"' in page
    assert 'aria-label="step" aria-valuetext="two"' in page
    assert "http" not in page  # nothing is loaded from elsewhere


def test_two_sliders_on_one_page_do_not_share_an_id():
    one, two = (FrameSlider(frames(), captions="abcd", alt="x")._repr_html_() for _ in "12")
    assert re.search(r'id="([^"]+)"', one)[1] != re.search(r'id="([^"]+)"', two)[1]


def test_a_single_image_per_frame_is_accepted():
    assert FrameSlider(frames()[:, 0], captions="abcd", alt="x").frames.shape == (4, 1, 1, 6, 6)


def test_rows_of_images_are_stacked_with_their_labels_above():
    grid = np.stack([frames(), 1 - frames()], axis=1)  # (4 frames, 2 rows, 2 images, 6, 6)
    slider = FrameSlider(grid, captions="abcd", alt="x", row_labels=["input", "output"])
    first = decoded(slider.frame_images()[0])
    assert first.shape[:2] == (6 + 2 + 6, 6 + 2 + 6)
    assert first[:6, :6, 0].min() > 0.99 and first[8:, :6, 0].max() < 0.01  # 0 then 1
    assert "rows, top to bottom: input · output" in slider._repr_html_()
