"""genlib.widgets: kernel-free interactive figures (the HTML they write; tests/test_browser.py
drives them in a real browser)."""

import base64
import io
import json
import re

import matplotlib.image
import numpy as np

from genlib.widgets import FrameSlider, LatentExplorer


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


def explorer(n=3):
    decoded = np.arange(n * n)[:, None, None] / (n * n - 1) * np.ones((n * n, 4, 4))
    return LatentExplorer(decoded.reshape(n, n, 4, 4), points=np.zeros((2, 2)),
                          labels=[0, 1], class_names=["a", "b"], extent=(-3, 3), alt="Map")


def test_the_sprite_lays_the_decoded_images_out_as_their_grid():
    sprite = decoded(explorer().sprite())
    assert sprite.shape[:2] == (12, 12)
    # Image k (row k // 3, column k % 3) has value k / 8: ink grows left to right, then down.
    ink = 1 - sprite[::4, ::4, 0]
    assert np.allclose(ink.ravel(), np.arange(9) / 8, atol=0.01)


def test_the_map_fills_its_png_and_the_page_starts_at_the_centre():
    widget = explorer()
    assert decoded(widget.map_image()).shape[:2] == (360, 360)
    page = widget._repr_html_()
    assert "background-position: -168px -168px" in page  # the centre cell of 3 x 3
    assert "coding (0.00, 0.00)" in page and 'tabindex="0"' in page
    assert "http" not in page
