"""Training helpers shared by the chapters."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras

from genlib._validation import check_positive_int


@dataclass
class TrainingRun:
    """The outcome of :func:`fit_autoencoder`: the Keras history and the wall time.

    >>> run = TrainingRun(keras.callbacks.History(), seconds=12.5)
    >>> run.seconds
    12.5
    """

    history: keras.callbacks.History
    seconds: float

    @property
    def val_mse(self) -> float:
        """Validation loss after the last epoch.

        >>> run = TrainingRun(keras.callbacks.History(), 1.0)
        >>> run.history.history = {"val_loss": [0.03, 0.02]}
        >>> run.val_mse
        0.02
        """
        return float(self.history.history["val_loss"][-1])


def fit_autoencoder(autoencoder, x_train, x_valid, *, epochs: int, batch_size: int = 256,
                    learning_rate: float = 3e-3, verbose: int = 0) -> TrainingRun:
    """Compile and train an autoencoder to reconstruct its inputs, with the course's schedule.

    Nadam with a learning rate that decays from ``learning_rate`` to zero along a cosine
    curve over the whole run, mini-batches of ``batch_size``, the mean squared error as the
    loss, and the validation loss measured after every epoch. Large batches keep a CPU
    busy; the decay lets the weights settle at the end instead of jittering.

    Examples
    --------
    >>> import numpy as np
    >>> from genlib.stacked import StackedAutoencoder
    >>> x = np.random.default_rng(0).random((64, 28, 28)).astype("float32")
    >>> run = fit_autoencoder(StackedAutoencoder((16, 4)), x, x[:16], epochs=2, batch_size=32)
    >>> len(run.history.history["val_loss"]), run.seconds > 0
    (2, True)
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    steps = epochs * math.ceil(len(x_train) / batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    autoencoder.compile(loss="mse", optimizer=keras.optimizers.Nadam(schedule))
    start = time.perf_counter()
    history = autoencoder.fit(x_train, x_train, epochs=epochs, batch_size=batch_size,
                              validation_data=(x_valid, x_valid), verbose=verbose)
    return TrainingRun(history, time.perf_counter() - start)
