"""Training helpers shared by the chapters."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras

from genlib._validation import check_instance, check_positive_int, check_real


@dataclass
class TrainingRun:
    """What every ``fit_*`` helper returns: the Keras history and the training wall time.

    :func:`fit_autoencoder`, :func:`genlib.gan.fit_gan` and
    :func:`genlib.diffusion.fit_diffusion` all return one.

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


def warmup_cosine_adam(*, epochs: int, steps_per_epoch: int, learning_rate: float = 2e-3,
                       warmup_steps: int | None = None,
                       ema_momentum: float | None = 0.99) -> keras.optimizers.Adam:
    """Adam with a linear warm-up, a cosine decay to 0, and an average of the weights.

    The recipe of the diffusion and flow-matching models (chapters 8 and 9): the learning
    rate rises linearly from 0 to ``learning_rate`` over ``warmup_steps`` steps (by
    default 100, or a tenth of the steps if that is fewer), then decays to 0 along a cosine
    until the last of the ``epochs × steps_per_epoch`` steps. With ``ema_momentum``, the
    optimizer keeps an exponential moving average of the weights, which ``fit`` swaps in
    at the end of training; ``None`` keeps none.

    >>> optimizer = warmup_cosine_adam(epochs=2, steps_per_epoch=100, warmup_steps=10)
    >>> [round(float(optimizer.learning_rate), 4)]           # before the first step
    [0.0]
    >>> warmup_cosine_adam(epochs=1, steps_per_epoch=10, warmup_steps=10)
    Traceback (most recent call last):
    ...
    ValueError: warmup_steps=10 must be fewer than the 10 training steps (epochs x steps_per_epoch)
    """
    total = (check_positive_int(epochs, "epochs")
             * check_positive_int(steps_per_epoch, "steps_per_epoch"))
    if warmup_steps is None:
        warmup_steps = min(100, total // 10)
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps", minimum=0)
    if warmup_steps >= total:
        raise ValueError(f"warmup_steps={warmup_steps} must be fewer than the {total} "
                         "training steps (epochs x steps_per_epoch)")
    learning_rate = check_real(learning_rate, "learning_rate", low=0, low_open=True)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=total - warmup_steps, warmup_target=learning_rate,
        warmup_steps=warmup_steps)
    if ema_momentum is None:
        return keras.optimizers.Adam(schedule)
    ema_momentum = check_real(ema_momentum, "ema_momentum", low=0, high=1, low_open=True,
                              high_open=True, hint=" (e.g. 0.99), or None for no moving "
                              "average")
    return keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=ema_momentum)


#: Training steps Keras runs per call of its compiled step function. The small models of
#: the course take a millisecond or two per step on a CPU, about as long as Keras' Python
#: work between two calls; running 32 steps per call removes most of that overhead and
#: changes no number: the same steps run in the same order (tests/test_training.py). The
#: price: a callback's ``on_train_batch_end`` sees one batch in 32.
STEPS_PER_EXECUTION = 32


def compile_autoencoder(autoencoder, *, steps: int,
                        learning_rate: float = 3e-3) -> None:
    """Compile ``autoencoder`` to reconstruct its inputs with the course's schedule.

    The mean squared error as the loss, and Nadam with a learning rate that decays from
    ``learning_rate`` to zero along a cosine curve over ``steps`` gradient steps; Keras runs
    :data:`STEPS_PER_EXECUTION` steps per call of its compiled function.

    >>> from genlib.stacked import StackedAutoencoder
    >>> autoencoder = StackedAutoencoder((16, 4))
    >>> compile_autoencoder(autoencoder, steps=100)
    >>> type(autoencoder.optimizer).__name__
    'Nadam'
    """
    steps = check_positive_int(steps, "steps")
    learning_rate = check_real(learning_rate, "learning_rate", low=0, low_open=True)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    autoencoder.compile(loss="mse", optimizer=keras.optimizers.Nadam(schedule),
                        steps_per_execution=STEPS_PER_EXECUTION)


def fit_autoencoder(autoencoder, x_train, x_valid, *, epochs: int,
                    batch_size: int = 256, learning_rate: float = 3e-3,
                    verbose: int = 0) -> TrainingRun:
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
    check_instance(autoencoder, "autoencoder", keras.Model, what="a Keras model",
                   example="StackedAutoencoder((100, 30))")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    steps = epochs * math.ceil(len(x_train) / batch_size)
    compile_autoencoder(autoencoder, steps=steps, learning_rate=learning_rate)
    start = time.perf_counter()
    history = autoencoder.fit(x_train, x_train, validation_data=(x_valid, x_valid),
                              epochs=epochs, batch_size=batch_size, verbose=verbose)
    return TrainingRun(history, time.perf_counter() - start)


class StepLosses(keras.callbacks.Callback):
    """Record the losses of every training step (Keras logs only their running mean).

    After training, :attr:`losses` maps each name in ``names`` (the keys of the model's
    logs: ``("loss",)`` for most models, ``("d_loss", "g_loss")`` for a GAN) to one value
    per step.

    Examples
    --------
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse", optimizer="sgd")
    >>> steps = StepLosses()
    >>> x = np.zeros((96, 2), dtype="float32")
    >>> _ = model.fit(x, x[:, :1], batch_size=32, epochs=2, verbose=0, callbacks=[steps])
    >>> len(steps.losses["loss"])
    6
    """

    def __init__(self, names=("loss",)):
        super().__init__()
        self.names = tuple(names)
        self.losses = {name: [] for name in self.names}
        self._previous = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._previous = {name: 0.0 for name in self.names}

    def on_train_batch_end(self, batch, logs=None):
        # The logs hold the mean over the epoch's first batch + 1 steps: undo the mean.
        for name in self.names:
            mean = float(logs[name])
            self.losses[name].append((batch + 1) * mean - batch * self._previous[name])
            self._previous[name] = mean
