"""The GAN of chapter 7: what Keras 3 does with `trainable`, the two phases, saving, errors."""

import warnings

import keras
import matplotlib
import numpy as np
import pytest

import genlib
from genlib import gan as G
from genlib.training import StepLosses


def snapshot(model, trainable_only=False):
    """The model's weights (not the random-number state of its dropout layers)."""
    weights = model.trainable_weights if trainable_only else model.weights
    return [w.numpy().copy() for w in weights]


def changed(before, after):
    return [not np.array_equal(a, b) for a, b in zip(before, after)]


def real_batch(n=32, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28)).astype("float32")


def small_dense_gan(**kwargs):
    genlib.set_random_seed(0)
    return G.GAN(G.build_dense_generator(8, hidden_sizes=(16,)), G.build_dense_discriminator((16,)),
                 seed=0, **kwargs)


def small_dcgan(**kwargs):
    genlib.set_random_seed(0)
    return G.GAN(G.build_dcgan_generator(8, filters=(8, 4)),
                 G.build_dcgan_discriminator(filters=(4, 8)), seed=0, **kwargs)


def compiled(model, jit_compile=False):
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                  jit_compile=jit_compile)
    return model


# --- What Keras 3 does with `trainable` (the chapter teaches exactly this) ------------------


def classic_models():
    genlib.set_random_seed(0)
    generator = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    discriminator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    return generator, discriminator, keras.Sequential([generator, discriminator])


BCE = keras.losses.BinaryCrossentropy(from_logits=True)
X, Y = np.ones((16, 4), "float32"), np.ones((16, 1), "float32")
Z = np.ones((16, 8), "float32")


def test_classic_recipe_silently_stops_training_the_discriminator():
    generator, discriminator, gan = classic_models()
    discriminator.compile(loss=BCE, optimizer="rmsprop")
    discriminator.trainable = False
    gan.compile(loss=BCE, optimizer="rmsprop")
    before = snapshot(discriminator)
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        discriminator.train_on_batch(X, Y)
    assert not any(changed(before, snapshot(discriminator)))
    # The combined model trains the generator, and the frozen discriminator stays put.
    generator_before, before = snapshot(generator), snapshot(discriminator)
    gan.train_on_batch(Z, Y)
    assert all(changed(generator_before, snapshot(generator)))
    assert not any(changed(before, snapshot(discriminator)))
    # Setting trainable back does not help: the step was traced without the weights.
    discriminator.trainable = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        discriminator.train_on_batch(X, Y)
    assert not any(changed(before, snapshot(discriminator)))


def test_trainable_is_read_when_the_training_function_is_first_built():
    _, discriminator, gan = classic_models()
    discriminator.compile(loss=BCE, optimizer="rmsprop")
    before = snapshot(discriminator)
    discriminator.train_on_batch(X, Y)  # traced while trainable
    assert all(changed(before, snapshot(discriminator)))
    discriminator.trainable = False
    gan.compile(loss=BCE, optimizer="rmsprop")
    before = snapshot(discriminator)
    discriminator.train_on_batch(X, Y)  # the cached step still updates the weights
    assert all(changed(before, snapshot(discriminator)))
    # compile() drops the cached step: compiled again, frozen is frozen.
    discriminator.compile(loss=BCE, optimizer="rmsprop")
    before = snapshot(discriminator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        discriminator.train_on_batch(X, Y)
    assert not any(changed(before, snapshot(discriminator)))


# --- The two phases ---------------------------------------------------------------------


@pytest.mark.parametrize("make", [small_dense_gan, small_dcgan])
def test_discriminator_phase_changes_only_the_discriminator(make):
    model = compiled(make())
    generator, discriminator = snapshot(model.generator, True), snapshot(model.discriminator)
    model.discriminator_step(real_batch())
    assert not any(changed(generator, snapshot(model.generator, True)))
    assert all(changed(discriminator, snapshot(model.discriminator)))


def test_discriminator_phase_leaves_a_generator_without_batch_norm_untouched():
    model = compiled(small_dense_gan())
    generator = snapshot(model.generator)
    model.discriminator_step(real_batch())
    assert not any(changed(generator, snapshot(model.generator)))


@pytest.mark.parametrize("make", [small_dense_gan, small_dcgan])
def test_generator_phase_changes_only_the_generator(make):
    model = compiled(make())
    generator = snapshot(model.generator, True)
    discriminator = snapshot(model.discriminator)
    model.generator_step(32)
    assert all(changed(generator, snapshot(model.generator, True)))
    assert not any(changed(discriminator, snapshot(model.discriminator)))


def test_fit_updates_both_networks_and_tracks_both_losses():
    model = compiled(small_dense_gan())
    generator, discriminator = snapshot(model.generator), snapshot(model.discriminator)
    history = model.fit(G.gan_dataset(real_batch(96), batch_size=32, seed=0), epochs=2,
                        verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert len(history.history["d_loss"]) == 2
    assert all(np.isfinite(history.history["g_loss"]))
    assert all(changed(generator, snapshot(model.generator)))
    assert all(changed(discriminator, snapshot(model.discriminator)))
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 6


def test_losses_and_label_smoothing():
    logits = np.zeros((4, 1), "float32")
    plain = small_dense_gan()
    assert float(plain.discriminator_loss(logits, logits)) == pytest.approx(np.log(2), 1e-5)
    # A sure, right discriminator: real logit +20, fake -20.
    sure = float(plain.discriminator_loss(logits + 20, logits - 20))
    assert sure < 1e-6
    smoothed = small_dense_gan(label_smoothing=0.1)
    # With target 0.9 for real images, being sure is penalized; fakes keep target 0.
    assert float(smoothed.discriminator_loss(logits + 20, logits - 20)) > 0.9
    assert float(smoothed.generator_loss(logits + 20)) == pytest.approx(0.0, abs=1e-6)
    assert float(plain.generator_loss(logits - 20)) == pytest.approx(20, 1e-3)


def test_instance_noise():
    images = np.zeros((64, 28, 28), "float32")
    noisy = np.asarray(small_dense_gan(instance_noise=0.5)._noisy(images))
    assert noisy.std() == pytest.approx(0.5, rel=0.05)
    assert np.asarray(small_dense_gan()._noisy(images)).std() == 0.0


def test_discriminator_fakes_hook_is_used():
    class OnlyZeros(G.GAN):
        calls = 0

        def discriminator_fakes(self, fake_images):
            OnlyZeros.calls += 1
            return keras.ops.zeros_like(fake_images)

    genlib.set_random_seed(0)
    model = compiled(OnlyZeros(G.build_dense_generator(8, hidden_sizes=(16,)),
                               G.build_dense_discriminator((16,))))
    model.discriminator_step(real_batch())
    assert OnlyZeros.calls == 1


# --- Remedies -----------------------------------------------------------------------------


def test_minibatch_stddev_feature():
    layer = G.MinibatchStdDev()
    x = np.random.default_rng(0).normal(size=(64, 5, 5, 3)).astype("float32")
    y = np.asarray(layer(x))
    assert y.shape == (64, 5, 5, 4)
    np.testing.assert_allclose(y[..., :3], x)
    np.testing.assert_allclose(y[..., 3], x.std(axis=0).mean(), rtol=1e-4)
    # A collapsed batch (every example the same) has a spread of about zero.
    same = np.repeat(x[:1], 64, axis=0)
    assert np.asarray(layer(same))[..., 3].max() < 1e-3
    discriminator = G.build_dcgan_discriminator((4, 8), minibatch_stddev=True)
    assert any(isinstance(layer, G.MinibatchStdDev) for layer in discriminator.layers)
    assert any(isinstance(layer, G.MinibatchStdDev)
               for layer in G.build_dense_discriminator(minibatch_stddev=True).layers)


# --- Saving -------------------------------------------------------------------------------


def test_generator_survives_keras_save_and_load(tmp_path):
    model = compiled(small_dcgan())
    model.discriminator_step(real_batch())
    model.generator_step(32)  # trains the generator and moves its batch-norm statistics
    path = tmp_path / "generator.keras"
    model.generator.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    codings = np.random.default_rng(1).normal(size=(5, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(codings, training=False)),
                               np.asarray(model.generator(codings, training=False)), atol=1e-6)


def test_whole_gan_survives_keras_save_and_load(tmp_path):
    genlib.set_random_seed(0)
    model = G.GAN(G.build_dense_generator(8, hidden_sizes=(16,)),
                  G.build_dense_discriminator((16,), minibatch_stddev=True),
                  label_smoothing=0.1, instance_noise=0.05, seed=3)
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, G.GAN)
    assert (loaded.label_smoothing, loaded.instance_noise, loaded.seed) == (0.1, 0.05, 3)
    np.testing.assert_allclose(loaded.sample(4, seed=0), model.sample(4, seed=0), atol=1e-6)
    images = real_batch(4)
    np.testing.assert_allclose(np.asarray(loaded.discriminator(images)),
                               np.asarray(model.discriminator(images)), atol=1e-6)


# --- Bad input gives a clear error ----------------------------------------------------------


def test_wrong_shape_is_a_clear_error():
    model = compiled(small_dense_gan())
    with pytest.raises(ValueError, match=r"shape \(32, 784\).*\(n, 28, 28\).*reshape"):
        model.fit(real_batch().reshape(32, 784), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(32, 32, 32\)"):
        G.gan_dataset(np.zeros((32, 32, 32), "float32"))
    import tensorflow as tf

    wrong = tf.data.Dataset.from_tensor_slices(np.zeros((64, 32, 32), "float32")).batch(32)
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        model.fit(wrong, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="pass n_classes=... to GAN for a conditional GAN"):
        model.train_on_batch((real_batch(), np.zeros(32, "int32")))
    with pytest.raises(ValueError, match=r"got \(32, 14, 14\)"):
        model.train_on_batch(np.zeros((32, 14, 14), "float32"))


def test_wrong_range_is_a_clear_error():
    model = compiled(small_dense_gan())
    pixels = np.full((32, 28, 28), 255.0, "float32")
    with pytest.raises(ValueError, match=r"outside \[-1, 1\].*to_gan_range"):
        model.fit(pixels, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"outside \[-1, 1\]"):
        G.gan_dataset(pixels)
    import tensorflow as tf

    unscaled = tf.data.Dataset.from_tensor_slices(pixels).batch(16)
    with pytest.raises(ValueError, match=r"first batch.*outside \[-1, 1\]"):
        model.fit(unscaled, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"expected images in \[0, 1\].*255"):
        G.to_gan_range(pixels)
    nan = real_batch()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        G.gan_dataset(nan)


def test_the_normalized_dense_generator_normalizes_each_hidden_layer():
    generator = G.build_dense_generator(8, hidden_sizes=(16, 32), batch_norm=True)
    norms = [layer for layer in generator.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert [norm.input.shape[-1] for norm in norms] == [16, 32]
    hidden = [layer for layer in generator.layers if isinstance(layer, keras.layers.Dense)][:2]
    assert not any(layer.use_bias for layer in hidden), "the normalization's shift is the bias"
    codings = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    images = np.asarray(generator(codings, training=True))
    assert images.shape == (64, 28, 28) and np.abs(images).max() <= 1
    plain = G.build_dense_generator(8, hidden_sizes=(16, 32))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in plain.layers)


def test_the_normalized_dense_discriminator_normalizes_all_but_its_first_layer():
    discriminator = G.build_dense_discriminator((32, 16, 8), batch_norm=True)
    norms = [layer for layer in discriminator.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert [norm.input.shape[-1] for norm in norms] == [16, 8]
    assert discriminator.output_shape == (None, 1)
    plain = G.build_dense_discriminator((32, 16, 8))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in plain.layers)


def test_bad_arguments_are_clear_errors():
    generator, discriminator = G.build_dense_generator(), G.build_dense_discriminator()
    with pytest.raises(ValueError, match="label_smoothing"):
        G.GAN(generator, discriminator, label_smoothing=0.9)
    with pytest.raises(ValueError, match="instance_noise"):
        G.GAN(generator, discriminator, instance_noise=-1)
    with pytest.raises(TypeError, match="generator must be a keras.Model"):
        G.GAN("generator", discriminator)
    small = keras.Sequential([keras.Input((14, 14)), keras.layers.Flatten(), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"generator makes images of shape \(28, 28\)"):
        G.GAN(generator, small)
    model = G.GAN(generator, discriminator)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(real_batch(), verbose=0)
    adam = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer instances"):
        model.compile(adam, adam)
    with pytest.raises(TypeError, match="keras optimizer instance"):
        model.compile("adam", keras.optimizers.Adam())
    with pytest.raises(ValueError, match="batch_size=64 is larger"):
        G.gan_dataset(real_batch(32), batch_size=64)
    with pytest.raises(ValueError, match="filters must hold 2 integers"):
        G.build_dcgan_generator(filters=(8, 4, 2))
    with pytest.raises(ValueError, match="dropout"):
        G.build_dcgan_discriminator(dropout=1.0)


# --- Data, sampling, callbacks ------------------------------------------------------------


def test_gan_dataset_batches_and_labels():
    images = real_batch(100)
    batches = list(G.gan_dataset(images, batch_size=32, seed=0))
    assert [tuple(b.shape) for b in batches] == [(32, 28, 28)] * 3
    labelled = list(G.gan_dataset(images, np.arange(100) % 10, batch_size=50, seed=0))
    assert tuple(labelled[0][1].shape) == (50,)
    # The channel axis is accepted and dropped.
    assert tuple(next(iter(G.gan_dataset(images[..., None], batch_size=10))).shape) == (10, 28, 28)
    np.testing.assert_allclose(G.to_gan_range(np.array([0.0, 1.0])), [-1.0, 1.0])


def test_sample_is_reproducible_and_in_unit_range():
    model = small_dense_gan()
    a, b = model.sample(2500, seed=7), model.sample(2500, seed=7)
    assert a.shape == (2500, 28, 28)
    np.testing.assert_array_equal(a, b)
    assert 0.0 <= a.min() and a.max() <= 1.0
    assert not np.array_equal(a, model.sample(2500, seed=8))


def test_callbacks(capsys):
    matplotlib.use("Agg")
    model = compiled(small_dense_gan())
    progress = G.GANProgress(every=2, n_images=4)
    metrics = G.SampleMetrics({"mean": lambda images: images.mean()}, every=2, n_images=50)
    steps = StepLosses(("d_loss", "g_loss"))
    history = model.fit(G.gan_dataset(real_batch(96), batch_size=32, seed=0), epochs=3,
                        verbose=0, callbacks=[progress, metrics, steps])
    output = capsys.readouterr().out
    assert "epoch 3/3" in output and "d_loss" in output
    assert [record["epoch"] for record in metrics.records] == [2, 3]
    # Per-step losses average to the epoch means Keras logs.
    for name in ("d_loss", "g_loss"):
        per_step = np.array(steps.losses[name]).reshape(3, 3)
        np.testing.assert_allclose(per_step.mean(axis=1), history.history[name], rtol=1e-4)
    with pytest.raises(ValueError, match="metrics must be a non-empty dict"):
        G.SampleMetrics({})


def conditional_networks(n_classes=2, coding_size=4):
    """A tiny conditional generator and discriminator: each sees a one-hot label (the
    discriminator only the images' mean rows, which is enough to tell black from white)."""
    def one_hot(labels):
        return keras.layers.CategoryEncoding(n_classes, output_mode="one_hot")(labels)

    codings, labels = keras.Input((coding_size,)), keras.Input((), dtype="int32")
    z = keras.layers.Concatenate()([codings, one_hot(labels)])
    pixels = keras.layers.Dense(28 * 28, activation="tanh")(z)
    generator = keras.Model([codings, labels], keras.layers.Reshape((28, 28))(pixels))
    images, labels = keras.Input((28, 28)), keras.Input((), dtype="int32")
    z = keras.layers.Concatenate()([keras.layers.GlobalAveragePooling1D()(images),
                                    one_hot(labels)])
    logit = keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(z))
    return generator, keras.Model([images, labels], logit)


def test_a_conditional_gan_draws_the_requested_class():
    """The labels reach both networks in both phases: on data where class 0 is black and
    class 1 white, the generator learns to draw each on request (an unconditional GAN
    could only mix them)."""
    genlib.set_random_seed(0)
    labels = np.arange(256) % 2
    images = np.where(labels[:, None, None] == 1, 1.0, -1.0) * np.ones((256, 28, 28))
    model = G.GAN(*conditional_networks(), n_classes=2, seed=0)
    result = G.fit_gan(model, images.astype("float32"), labels=labels, epochs=8,
                       steps_per_epoch=100, batch_size=32, learning_rate=1e-2)
    assert len(result.history.history["d_loss"]) == 8 and result.seconds > 0
    black = model.sample(64, labels=np.zeros(64, "int32"), seed=1).mean()
    white = model.sample(64, labels=np.ones(64, "int32"), seed=1).mean()
    assert black < 0.25 < 0.75 < white, (black, white)
    random_classes = model.sample(100, seed=2)  # no labels: random classes
    assert random_classes.shape == (100, 28, 28)
    assert 20 < (random_classes.mean(axis=(1, 2)) > 0.5).sum() < 80
    reloaded = G.GAN.from_config(model.get_config())
    assert reloaded.n_classes == 2


def test_conditional_gan_errors_say_what_to_do():
    generator, discriminator = conditional_networks()
    with pytest.raises(ValueError, match=r"generator has 2 inputs.*pass n_classes"):
        G.GAN(generator, discriminator)
    with pytest.raises(ValueError, match=r"generator has one input.*\[codings, labels\]"):
        G.GAN(G.build_dense_generator(), G.build_dense_discriminator(), n_classes=10)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        G.GAN(generator, discriminator, n_classes=1)
    model = G.GAN(generator, discriminator, n_classes=2)
    with pytest.raises(ValueError, match=r"conditional GAN trains on \(images, labels\)"):
        G.fit_gan(model, real_batch(64), epochs=1)
    with pytest.raises(ValueError, match=r"labels must be integer class indices in \[0, 2\)"):
        G.fit_gan(model, real_batch(64), labels=np.arange(64) % 3, epochs=1, batch_size=32)
    with pytest.raises(ValueError, match=r"1-D array of 3 class indices"):
        model.sample(3, labels=[0, 1])
    with pytest.raises(ValueError, match="pass n_classes=... to GAN"):
        G.fit_gan(small_dense_gan(), real_batch(64), labels=np.arange(64) % 2, epochs=1)
    with pytest.raises(ValueError, match="labels are for a conditional GAN"):
        small_dense_gan().sample(2, labels=[0, 1])

    class Replay(G.GAN):
        def discriminator_fakes(self, fake_images):
            return fake_images

    with pytest.raises(ValueError, match="cannot be overridden in a conditional GAN"):
        Replay(generator, discriminator, n_classes=2)


def test_conditional_builders_take_labels_and_the_class_head_is_optional():
    generator = G.build_conditional_generator(8, 3, filters=(8, 4))
    images = generator([np.zeros((2, 8), "float32"), np.array([0, 2])])
    assert tuple(images.shape) == (2, 28, 28)
    assert float(np.abs(images).max()) <= 1.0
    plain = G.build_conditional_discriminator(3, filters=(4, 8))
    assert plain.output_shape == (None, 1)
    assert G.build_conditional_discriminator(3, filters=(4, 8), class_head=True).output_shape \
        == [(None, 1), (None, 3)]
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        G.build_conditional_generator(8, 1)


def test_auxiliary_classifier_trains_its_class_head_on_real_images_only():
    """On black (class 0) and white (class 1) images, the class head learns to tell them
    apart (a plain GAN never trains it), and the generator draws each class on request."""
    genlib.set_random_seed(0)
    labels = np.arange(256) % 2
    images = (np.where(labels[:, None, None] == 1, 1.0, -1.0)
              * np.ones((256, 28, 28))).astype("float32")
    discriminator = G.build_conditional_discriminator(2, filters=(4, 8), class_head=True)
    model = G.AuxiliaryClassifierGAN(G.build_conditional_generator(4, 2, filters=(8, 4)),
                                     discriminator, n_classes=2, seed=0)
    G.fit_gan(model, images, labels=labels, epochs=3, steps_per_epoch=50, batch_size=32,
              learning_rate=2e-3)
    _, class_logits = discriminator([images[:64], labels[:64]], training=False)
    assert np.mean(np.argmax(class_logits, axis=1) == labels[:64]) == 1.0
    black = model.sample(32, labels=np.zeros(32, "int32"), seed=1).mean()
    white = model.sample(32, labels=np.ones(32, "int32"), seed=1).mean()
    assert black < 0.5 < white, (black, white)
    reloaded = G.AuxiliaryClassifierGAN.from_config(model.get_config())
    assert (reloaded.n_classes, reloaded.class_loss_weight) == (2, 1.0)


def test_auxiliary_classifier_loss_is_weighted():
    """The weight multiplies the class term: a larger weight, a larger loss on the same step."""
    losses = []
    for weight in (1.0, 5.0):
        genlib.set_random_seed(0)
        model = G.AuxiliaryClassifierGAN(
            G.build_conditional_generator(4, 2, filters=(8, 4)),
            G.build_conditional_discriminator(2, filters=(4, 8), class_head=True),
            n_classes=2, class_loss_weight=weight, seed=0)
        compiled(model)
        losses.append(float(model.discriminator_step(real_batch(), np.arange(32) % 2)))
    # The class term starts near log 2 (an untrained head): 4 × log 2 more with weight 5.
    assert losses[1] - losses[0] == pytest.approx(4 * np.log(2), rel=0.2)


def test_auxiliary_classifier_gan_errors_say_what_to_do():
    generator = G.build_conditional_generator(4, 2, filters=(8, 4))
    with pytest.raises(ValueError, match=r"needs two outputs.*class_head=True"):
        G.AuxiliaryClassifierGAN(generator, G.build_conditional_discriminator(2),
                                 n_classes=2)
    with pytest.raises(ValueError, match=r"needs two outputs, a logit and 3 class logits"):
        G.AuxiliaryClassifierGAN(G.build_conditional_generator(4, 3),
                                 G.build_conditional_discriminator(2, class_head=True),
                                 n_classes=3)
    with pytest.raises(ValueError, match="class_loss_weight must be a number in"):
        G.AuxiliaryClassifierGAN(generator, G.build_conditional_discriminator(
            2, class_head=True), n_classes=2, class_loss_weight=0)


def test_fit_gan_checks_its_arguments():
    with pytest.raises(ValueError, match="learning_rate"):
        G.fit_gan(small_dense_gan(), real_batch(64), epochs=1, learning_rate=0)
    with pytest.raises(ValueError, match="generator_learning_rate"):
        G.fit_gan(small_dense_gan(), real_batch(64), epochs=1, generator_learning_rate=-1)


def test_fit_gan_gives_the_generator_its_own_learning_rate():
    model = small_dense_gan()
    G.fit_gan(model, real_batch(64), epochs=1, steps_per_epoch=1, batch_size=32,
              generator_learning_rate=4e-4)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(2e-4)
    assert float(model.g_optimizer.learning_rate) == pytest.approx(4e-4)


def test_dcgan_discriminator_batch_norm_normalizes_real_and_fake_batches_apart():
    # One BatchNormalization layer, after the second convolution (not on the input layer);
    # in training mode each batch uses its own statistics: a batch's logits do not depend
    # on another batch judged in the same step.
    plain = G.build_dcgan_discriminator(filters=(4, 8))
    normalized = G.build_dcgan_discriminator(filters=(4, 8), batch_norm=True, dropout=0.0)
    kinds = [type(layer).__name__ for layer in normalized.layers]
    assert kinds.count("BatchNormalization") == 1
    second_convolution = len(kinds) - 1 - kinds[::-1].index("Conv2D")
    assert kinds.index("BatchNormalization") == second_convolution + 1
    assert len(normalized.layers) == len(plain.layers) + 1
    batch = real_batch(8)
    alone = normalized(batch, training=True).numpy()
    normalized(real_batch(8, seed=1), training=True)
    np.testing.assert_allclose(normalized(batch, training=True).numpy(), alone, rtol=1e-5)
    mixed = normalized(np.concatenate([batch, real_batch(8, seed=1)]), training=True)
    assert not np.allclose(mixed.numpy()[:8], alone, atol=1e-4)
