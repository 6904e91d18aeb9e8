"""Progress displays for long training and sampling loops (chapters 7 and 8).

In a notebook, a progress line is updated in place, so a long loop shows one line rather
than hundreds; elsewhere (a script, the tests) each update is printed on its own line.
:class:`EpochProgress` is the Keras callback the generative models share: a progress bar
over the epochs and, every few epochs, a row of images sampled from the same noise.

>>> progress_bar("epoch", 3, 10, "loss 0.061 · 4 s")
'epoch  3/10 ━━━━━━━━━━────────────────────── loss 0.061 · 4 s'
"""

from __future__ import annotations

import sys
import time

import keras

from genlib._validation import check_positive_int


class ProgressLine:
    """A line of text that a notebook displays as itself (and updates in place).

    >>> ProgressLine("step 3/10")
    step 3/10
    """

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def display_line(text: str, handle=None):
    """Show ``text`` in a notebook, replacing the line of ``handle``; return the new handle.

    Outside IPython the line is printed and the handle is ``None``.

    >>> display_line("epoch 1/2") is None
    epoch 1/2
    True
    """
    line = ProgressLine(text)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(line, file=sys.stdout, flush=True)
        return None
    if handle is None:
        return display(line, display_id=True)
    handle.update(line)
    return handle


def progress_bar(label: str, done: int, total: int, suffix: str = "", width: int = 32) -> str:
    """The text of a progress bar: ``label done/total ━━━───── suffix``.

    >>> progress_bar("step", 1, 4, width=8)
    'step 1/4 ━━────── '
    """
    filled = round(width * done / max(total, 1))
    digits = len(str(total))
    return f"{label} {done:>{digits}}/{total} {'━' * filled}{'─' * (width - filled)} {suffix}"


class StepProgress:
    """A progress line over the ``total`` steps of a loop, refreshed about 50 times.

    >>> bar = StepProgress(4, "ddim step", every=2)
    ddim step 0/4 ──────────────────────────────── 0.0 s
    >>> for done in range(1, 5):
    ...     bar.update(done)   # doctest: +ELLIPSIS
    ddim step 2/4 ━━━━━━━━━━━━━━━━──────────────── ... s
    ddim step 4/4 ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ ... s
    """

    def __init__(self, total: int, label: str, every: int | None = None):
        self.total = check_positive_int(total, "total")
        self.label = label
        self.every = max(total // 50, 1) if every is None else check_positive_int(every, "every")
        self.start = time.perf_counter()
        self.handle = display_line(self._text(0))

    def _text(self, done):
        return progress_bar(self.label, done, self.total,
                            f"{time.perf_counter() - self.start:.1f} s")

    def update(self, done: int) -> None:
        """Report that ``done`` steps are finished (shown every ``every`` steps and at the end)."""
        if done % self.every == 0 or done == self.total:
            self.handle = display_line(self._text(done), self.handle)


class EpochProgress(keras.callbacks.Callback):
    """A progress bar over the epochs, and a row of generated images every few epochs.

    The bar is one line updated in place (epoch, the logs named in ``shown_logs``, elapsed
    time); the images come from the model's ``sample(n, seed=...)`` with the same seed each
    time, so that the rows show how the model evolves. Pass ``verbose=0`` to ``fit`` to hide
    Keras' own log. Subclasses set :attr:`shown_logs` and may override :meth:`sample`.

    Parameters
    ----------
    every : int
        Show a row of images every ``every`` epochs (and after the last one).
    n_images : int
    show_images : bool
    seed : int
        Seed of the noise the rows of images are generated from.

    Examples
    --------
    >>> EpochProgress.bar(3, 10, {"loss": 0.061}, seconds=4.2)
    'epoch  3/10 ━━━━━━━━━━────────────────────── loss 0.061 · 4 s'
    """

    #: The names of the logs the bar shows, in order (all of them if empty).
    shown_logs: tuple = ()

    def __init__(self, every: int = 5, n_images: int = 8, show_images=True, seed: int = 0):
        super().__init__()
        self.every = check_positive_int(every, "every")
        self.n_images = check_positive_int(n_images, "n_images")
        self.show_images, self.seed = bool(show_images), seed
        self._handle, self._start, self._epochs = None, None, None

    @staticmethod
    def bar(epoch, epochs, logs, seconds, width=32):
        """The progress line after ``epoch`` of ``epochs``."""
        losses = " · ".join(f"{name} {value:.3f}" for name, value in logs.items())
        suffix = f"{losses} · {seconds:.0f} s" if losses else f"{seconds:.0f} s"
        return progress_bar("epoch", epoch, epochs, suffix, width)

    def sample(self, n_images):
        """The images of a progress row, in [0, 1]."""
        return self.model.sample(n_images, seed=self.seed)

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self._epochs = self.params.get("epochs", 1)
        self._handle = display_line(self.bar(0, self._epochs, {}, 0.0))

    def on_epoch_end(self, epoch, logs=None):
        logs = {name: float(value) for name, value in (logs or {}).items()
                if not self.shown_logs or name in self.shown_logs}
        done = epoch + 1
        text = self.bar(done, self._epochs, logs, time.perf_counter() - self._start)
        self._handle = display_line(text, self._handle)
        if self.show_images and (done % self.every == 0 or done == self._epochs):
            import matplotlib.pyplot as plt

            from genlib.plots import plot_image_grid

            fig = plot_image_grid(self.sample(self.n_images), n_cols=self.n_images,
                                  cell_size=0.55)
            fig.suptitle(f"epoch {done}", fontsize=9)
            plt.show()
