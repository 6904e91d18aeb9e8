"""genlib.training: the course's schedule runs several steps per call, and changes no number."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import genlib
from genlib import pretraining, training
from genlib.pretraining import pretraining_experiment
from genlib.stacked import StackedAutoencoder
from genlib.training import STEPS_PER_EXECUTION, fit_autoencoder


def images(n, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28)).astype("float32")


def train(monkeypatch, steps_per_execution):
    monkeypatch.setattr(training, "STEPS_PER_EXECUTION", steps_per_execution)
    genlib.set_random_seed(0)
    model = StackedAutoencoder((16, 4))
    # 50 steps per epoch: not a multiple of 32, so the last call runs fewer steps.
    run = fit_autoencoder(model, images(1600), images(64, seed=1), epochs=2, batch_size=32)
    return model, run


def test_several_steps_per_call_train_exactly_the_same_steps(monkeypatch):
    assert STEPS_PER_EXECUTION > 1
    one_model, one = train(monkeypatch, 1)
    many_model, many = train(monkeypatch, STEPS_PER_EXECUTION)
    assert int(one_model.optimizer.iterations) == int(many_model.optimizer.iterations) == 100
    np.testing.assert_allclose(many.history.history["loss"], one.history.history["loss"],
                               rtol=1e-6)
    np.testing.assert_allclose(many.val_mse, one.val_mse, rtol=1e-6)


def test_the_pretraining_classifiers_train_the_steps_asked(monkeypatch):
    x, y = images(200, seed=2), np.repeat(np.arange(10), 20)
    genlib.set_random_seed(0)
    encoder = StackedAutoencoder((8, 4)).encoder
    tables = []
    for steps_per_execution in (1, STEPS_PER_EXECUTION):
        monkeypatch.setattr(pretraining, "STEPS_PER_EXECUTION", steps_per_execution)
        tables.append(pretraining_experiment(encoder, x, y, x, y, label_budgets=[50],
                                             seeds=[0], steps=45))
    np.testing.assert_allclose(tables[1].test_accuracy, tables[0].test_accuracy)


def test_keras_rounds_steps_per_epoch_up_to_whole_executions():
    # Keras 3 as it really behaves (3.10 and 3.15): with steps_per_execution=32,
    # steps_per_epoch=45 on an endless dataset runs 64 steps. This is why genlib gives
    # Keras finite datasets instead. If this fails, Keras changed; the workaround can go.
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(loss="mse", optimizer="adam", steps_per_execution=32)
    x = np.zeros((100, 4), "float32")
    endless = tf.data.Dataset.from_tensor_slices((x, x)).batch(10).repeat()
    model.fit(endless, epochs=1, steps_per_epoch=45, verbose=0)
    assert int(model.optimizer.iterations) == 64
    finite = tf.data.Dataset.from_tensor_slices((x, x)).batch(10).repeat().take(45)
    model.fit(finite, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 64 + 45


@pytest.mark.parametrize("steps_per_execution", [1, STEPS_PER_EXECUTION])
def test_a_per_batch_callback_sees_one_batch_per_call(monkeypatch, steps_per_execution):
    # The price of several steps per call, stated in genlib.training: documented, tested.
    monkeypatch.setattr(training, "STEPS_PER_EXECUTION", steps_per_execution)
    model = StackedAutoencoder((8, 4))
    training.compile_autoencoder(model, steps=64)
    seen = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    model.fit(images(64 * 8), images(64 * 8), batch_size=8, epochs=1, verbose=0,
              callbacks=[callback])
    assert len(seen) == -(-64 // steps_per_execution)
