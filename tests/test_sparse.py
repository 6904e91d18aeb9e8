"""Sparse autoencoders (genlib.sparse): the KL sparsity regularizer, the sparsity measurements,
the builder, and the Keras behaviour chapter 5 teaches (L1 activity regularization two ways).

Small models and random data only: the whole file runs in seconds.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import genlib
from genlib.compat import keras_divides_activity_losses
from genlib.sparse import (
    CLIP_EPSILON,
    KLSparsityRegularizer,
    PerImageL1L2,
    SparsityEvaluation,
    active_neurons_per_image,
    build_sparse_autoencoder,
    evaluate_sparsity,
    mean_activation_per_neuron,
    most_activating,
)
from genlib.training import fit_autoencoder


def numpy_kl_penalty(activations, target, weight):
    """The formula, independently: weight * sum_j KL(p || q_j), q_j the batch mean, in float64."""
    q = np.asarray(activations, dtype=np.float64).mean(axis=0)
    p = target
    return weight * np.sum(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)))


def random_activations(n=64, units=30, seed=0, low=0.01, high=0.99):
    return np.random.default_rng(seed).uniform(low, high, (n, units)).astype("float32")


def as_float(tensor):
    return float(keras.ops.convert_to_numpy(tensor))


def loss_added_by_layer(regularizer, activations):
    """The loss Keras adds for an activity regularizer on a layer that outputs ``activations``."""
    layer = keras.layers.Identity(activity_regularizer=regularizer)
    layer(activations)
    assert len(layer.losses) == 1
    return as_float(layer.losses[0])


# --- The penalty is the formula ----------------------------------------------------------------


@pytest.mark.parametrize("target, weight", [(0.1, 5e-3), (0.05, 1.0), (0.3, 0.2), (0.9, 2.0)])
@pytest.mark.parametrize("shape, seed", [((64, 30), 0), ((256, 300), 1), ((5, 3), 2)])
def test_penalty_equals_the_formula_computed_with_numpy(target, weight, shape, seed):
    activations = random_activations(*shape, seed=seed)
    regularizer = KLSparsityRegularizer(target=target, weight=weight)
    expected = numpy_kl_penalty(activations, target, weight)
    np.testing.assert_allclose(as_float(regularizer.penalty(activations)), expected, rtol=1e-4)


def test_the_mean_is_over_the_batch_and_the_sum_over_the_neurons():
    # Two neurons: the first always at 0.1 (no penalty), the second at 0.0 and 0.6 (q = 0.3).
    activations = np.array([[0.1, 0.0], [0.1, 0.6]], dtype="float32")
    penalty = as_float(KLSparsityRegularizer(0.1, 1.0).penalty(activations))
    assert penalty == pytest.approx(0.1 * math.log(0.1 / 0.3) + 0.9 * math.log(0.9 / 0.7), rel=1e-5)


def test_every_axis_but_the_last_is_averaged():
    activations = random_activations(24, 5, seed=3)
    regularizer = KLSparsityRegularizer(0.2, 0.5)
    np.testing.assert_allclose(as_float(regularizer.penalty(activations.reshape(4, 6, 5))),
                               as_float(regularizer.penalty(activations)), rtol=1e-6)


def test_call_undoes_the_keras_division_by_the_batch_size_where_keras_divides():
    regularizer = KLSparsityRegularizer(target=0.1, weight=5e-3)
    factor = (lambda n: n) if keras_divides_activity_losses() else (lambda n: 1)
    for n in (1, 7, 64, 256):
        activations = random_activations(n, 20, seed=n)
        expected = numpy_kl_penalty(activations, 0.1, 5e-3)
        np.testing.assert_allclose(as_float(regularizer(activations)), factor(n) * expected,
                                   rtol=1e-4)
        # What reaches the cost is the formula itself, whatever the batch size and the Keras.
        np.testing.assert_allclose(loss_added_by_layer(regularizer, activations), expected, rtol=1e-4)


def test_the_detected_division_is_what_keras_does_with_its_own_l1():
    # The reason for the factor in __call__: Keras' handling of a built-in regularizer.
    activations = random_activations(32, 10, seed=4)
    added = loss_added_by_layer(keras.regularizers.L1(1e-2), activations)
    divisor = 32 if keras_divides_activity_losses() else 1
    assert added == pytest.approx(1e-2 * np.abs(activations).sum() / divisor, rel=1e-5)


def test_the_division_is_detected_as_keras_documents_its_versions():
    # Keras 3.14 brought the division; the supported range starts at 3.10.
    from packaging.version import Version

    assert keras_divides_activity_losses() == (Version(keras.__version__) >= Version("3.14"))


@pytest.mark.parametrize("n", [1, 5, 128])
def test_per_image_penalty_on_every_keras(n):
    activations = random_activations(n, 12, seed=n) - 0.5  # negative values too
    l1 = 3e-3 * np.abs(activations).sum(axis=1).mean()
    l2 = 2e-2 * (activations ** 2).sum(axis=1).mean()
    assert loss_added_by_layer(PerImageL1L2(l1=3e-3), activations) == pytest.approx(l1, rel=1e-5)
    assert loss_added_by_layer(PerImageL1L2(l2=2e-2), activations) == pytest.approx(l2, rel=1e-5)
    both = loss_added_by_layer(PerImageL1L2(l1=3e-3, l2=2e-2), activations)
    assert both == pytest.approx(l1 + l2, rel=1e-5)


def test_per_image_penalty_equals_keras_own_where_keras_divides():
    activations = random_activations(32, 10, seed=6)
    ours = loss_added_by_layer(PerImageL1L2(l1=1e-2, l2=1e-3), activations)
    keras_own = loss_added_by_layer(keras.regularizers.L1L2(l1=1e-2, l2=1e-3), activations)
    assert ours == pytest.approx(keras_own / (1 if keras_divides_activity_losses() else 32),
                                 rel=1e-5)


@pytest.mark.parametrize("weights, name", [({"l1": -1.0}, "l1"), ({"l2": float("nan")}, "l2"),
                                           ({"l1": "1e-4"}, "l1")])
def test_per_image_penalty_checks_its_weights(weights, name):
    with pytest.raises(ValueError, match=f"^{name} scales"):
        PerImageL1L2(**weights)


def test_per_image_penalty_survives_a_keras_file(tmp_path):
    model = build_sparse_autoencoder(PerImageL1L2(l1=2e-4), coding_size=8, hidden_sizes=(4,))
    model.save(tmp_path / "l1.keras")
    loaded = keras.models.load_model(tmp_path / "l1.keras")
    regularizer = loaded.get_layer("encoder").get_layer("codings").activity_regularizer
    assert isinstance(regularizer, PerImageL1L2) and (regularizer.l1, regularizer.l2) == (2e-4, 0.0)


def test_weight_scales_the_penalty_and_zero_turns_it_off():
    activations = random_activations(seed=5)
    one = as_float(KLSparsityRegularizer(0.1, 1.0).penalty(activations))
    assert as_float(KLSparsityRegularizer(0.1, 3.0).penalty(activations)) == pytest.approx(3 * one)
    assert as_float(KLSparsityRegularizer(0.1, 0.0)(activations)) == 0.0


# --- Zero at the target, positive elsewhere ------------------------------------------------------


@pytest.mark.parametrize("target", [0.01, 0.1, 0.5, 0.75])
def test_zero_when_every_mean_activation_equals_the_target(target):
    regularizer = KLSparsityRegularizer(target, weight=1.0)
    constant = np.full((16, 40), target, dtype="float32")
    assert abs(as_float(regularizer.penalty(constant))) < 1e-5
    # Not constant, but each neuron's mean is the target: half at target - d, half at target + d.
    d = min(target, 1 - target) / 2
    spread = np.concatenate([np.full((8, 40), target - d), np.full((8, 40), target + d)]).astype("float32")
    assert abs(as_float(regularizer.penalty(spread))) < 1e-5


def test_positive_away_from_the_target_and_steeper_near_the_edges():
    regularizer = KLSparsityRegularizer(0.1, weight=1.0)

    def at(q):
        return as_float(regularizer.penalty(np.full((4, 1), q, dtype="float32")))

    assert all(at(q) > 0 for q in (0.001, 0.05, 0.2, 0.5, 0.999))
    assert at(0.01) > at(0.05) > at(0.09) and at(0.9) > at(0.5) > at(0.11)


def test_the_gradient_pushes_each_mean_toward_the_target():
    regularizer = KLSparsityRegularizer(0.1, weight=1.0)
    activations = tf.Variable(np.array([[0.02, 0.5], [0.04, 0.3]], dtype="float32"))
    with tf.GradientTape() as tape:
        penalty = regularizer.penalty(activations)
    gradient = tape.gradient(penalty, activations).numpy()
    assert np.all(gradient[:, 0] < 0)  # q = 0.03 < p: raising it lowers the penalty
    assert np.all(gradient[:, 1] > 0)  # q = 0.4 > p: lowering it lowers the penalty


# --- Activations of exactly 0 or 1 ---------------------------------------------------------------


def test_activations_of_exactly_zero_or_one_give_finite_penalty_and_gradients():
    regularizer = KLSparsityRegularizer(0.1, weight=5e-3)
    cases = [np.zeros((8, 5)), np.ones((8, 5)),
             np.concatenate([np.zeros((8, 2)), np.ones((8, 2)), np.full((8, 1), 0.1)], axis=1),
             np.eye(8)]
    for activations in cases:
        variable = tf.Variable(activations.astype("float32"))
        with tf.GradientTape() as tape:
            loss = regularizer(variable)
        gradient = tape.gradient(loss, variable).numpy()
        assert np.isfinite(as_float(loss)) and np.all(np.isfinite(gradient)), activations
    # A neuron stuck at 0 costs what the clipped mean q = CLIP_EPSILON costs: large, finite.
    dead = as_float(KLSparsityRegularizer(0.1, 1.0).penalty(np.zeros((4, 1), "float32")))
    expected = 0.1 * math.log(0.1 / CLIP_EPSILON) + 0.9 * math.log(0.9 / (1 - CLIP_EPSILON))
    assert dead == pytest.approx(expected, rel=1e-4)


def test_training_through_saturated_sigmoids_stays_finite():
    genlib.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((4,)),
        # Huge weights saturate the sigmoid to exactly 0 or 1 in float32.
        keras.layers.Dense(6, activation="sigmoid", kernel_initializer=keras.initializers.Constant(200.0),
                           activity_regularizer=KLSparsityRegularizer(0.1, 1.0)),
        keras.layers.Dense(4),
    ])
    x = np.random.default_rng(0).choice([-1.0, 1.0], size=(32, 4)).astype("float32")
    codings = keras.ops.convert_to_numpy(model.layers[0](x))
    assert np.any(codings == 0.0) and np.any(codings == 1.0)
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit(x, x, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [0, 1, 0.0, 1.0, -0.1, 1.5, math.nan, True, "0.1", None])
def test_target_outside_the_open_interval_is_a_clear_error(target):
    with pytest.raises(ValueError, match=r"strictly between 0 and 1.*got"):
        KLSparsityRegularizer(target=target)


@pytest.mark.parametrize("weight", [-1e-3, -1, math.nan, math.inf, "5e-3", None, False])
def test_negative_or_non_finite_weight_is_a_clear_error(weight):
    with pytest.raises(ValueError, match=r"weight .*>= 0.*got"):
        KLSparsityRegularizer(target=0.1, weight=weight)


def test_valid_arguments_are_kept_as_floats():
    regularizer = KLSparsityRegularizer(np.float32(0.25), 0)
    assert regularizer.target == 0.25 and regularizer.weight == 0.0
    assert isinstance(regularizer.target, float) and isinstance(regularizer.weight, float)
    assert repr(regularizer) == "KLSparsityRegularizer(target=0.25, weight=0)"


# --- Serialization --------------------------------------------------------------------------------


def test_config_round_trip_and_keras_serialization():
    regularizer = KLSparsityRegularizer(target=0.05, weight=2e-3)
    assert regularizer.get_config() == {"target": 0.05, "weight": 2e-3}
    restored = keras.regularizers.deserialize(keras.regularizers.serialize(regularizer))
    assert isinstance(restored, KLSparsityRegularizer)
    assert restored.get_config() == regularizer.get_config()
    assert keras.saving.get_registered_name(KLSparsityRegularizer) == "genlib>KLSparsityRegularizer"


def test_a_model_using_it_survives_keras_save_and_safe_load(tmp_path):
    genlib.set_random_seed(1)
    model = build_sparse_autoencoder(KLSparsityRegularizer(0.1, 5e-3), coding_size=12, hidden_sizes=(8,),
                                     image_shape=(4, 4))
    model.compile(loss="mse", optimizer="nadam")
    x = np.random.default_rng(1).random((32, 4, 4)).astype("float32")
    model.fit(x, x, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "sparse.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    regularizer = loaded.get_layer("encoder").get_layer("codings").activity_regularizer
    assert isinstance(regularizer, KLSparsityRegularizer)
    assert regularizer.get_config() == {"target": 0.1, "weight": 5e-3}
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    # The loaded model adds the same penalty to its loss.
    np.testing.assert_allclose(loaded.evaluate(x, x, batch_size=32, verbose=0),
                               model.evaluate(x, x, batch_size=32, verbose=0), rtol=1e-5)


# --- L1 activity regularization, two ways (what the chapter shows) ------------------------------


def test_activity_regularization_layer_equals_activity_regularizer_argument():
    genlib.set_random_seed(2)
    dense = keras.layers.Dense(7, activation="sigmoid")
    with_layer = keras.Sequential([keras.Input((5,)), dense, keras.layers.ActivityRegularization(l1=1e-3)])
    with_argument = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(7, activation="sigmoid", activity_regularizer=keras.regularizers.L1(1e-3)),
    ])
    with_argument.set_weights(with_layer.get_weights())
    x = np.random.default_rng(2).normal(size=(10, 5)).astype("float32")
    out_layer, out_argument = with_layer(x), with_argument(x)
    np.testing.assert_allclose(out_layer, out_argument)
    activations = keras.ops.convert_to_numpy(out_layer)
    expected = 1e-3 * np.abs(activations).sum() / (len(x) if keras_divides_activity_losses() else 1)
    assert as_float(with_layer.losses[0]) == pytest.approx(expected, rel=1e-5)
    assert as_float(with_argument.losses[0]) == pytest.approx(expected, rel=1e-5)


# --- Measurements ---------------------------------------------------------------------------------


def test_mean_activation_per_neuron_and_active_neurons_per_image():
    codings = np.array([[0.0, 1.0, 0.6, 0.2], [0.0, 0.8, 0.4, 0.0], [0.3, 0.9, 0.5, 0.1]])
    np.testing.assert_allclose(mean_activation_per_neuron(codings), [0.1, 0.9, 0.5, 0.1])
    np.testing.assert_array_equal(active_neurons_per_image(codings), [2, 1, 1])
    np.testing.assert_array_equal(active_neurons_per_image(codings, threshold=0.0), [3, 2, 4])
    assert active_neurons_per_image(codings).dtype.kind == "i"


@pytest.mark.parametrize("codings, message", [
    ([[0.5, 1.2]], r"in \[0, 1\]"),
    ([[-0.1, 0.5]], r"in \[0, 1\]"),
    ([0.1, 0.2], "2-D"),
    ([[np.nan, 0.1]], "NaN"),
])
def test_measurements_reject_values_that_are_not_sigmoid_codings(codings, message):
    for function in (mean_activation_per_neuron, active_neurons_per_image):
        with pytest.raises(ValueError, match=message):
            function(codings)


@pytest.mark.parametrize("threshold", [-0.1, 1, 1.5, True, "0.5"])
def test_threshold_must_be_in_unit_interval(threshold):
    with pytest.raises(ValueError, match="threshold"):
        active_neurons_per_image([[0.2]], threshold=threshold)


def test_most_activating_sorts_strongest_first():
    codings = np.random.default_rng(3).random((50, 6))
    top = most_activating(codings, [4, 0, 4], k=5)
    assert top.shape == (3, 5)
    for row, neuron in zip(top, [4, 0, 4]):
        np.testing.assert_array_equal(row, np.argsort(codings[:, neuron])[::-1][:5])
    with pytest.raises(ValueError, match="more than the 50 images"):
        most_activating(codings, [0], k=51)
    with pytest.raises(ValueError, match=r"indices in \[0, 5\]"):
        most_activating(codings, [6])
    with pytest.raises(ValueError, match="neuron indices"):
        most_activating(codings, [0.5])


# --- The builder and the evaluation ----------------------------------------------------------------


def test_builder_makes_the_784_100_300_sigmoid_autoencoder():
    regularizer = KLSparsityRegularizer(0.1, 5e-3)
    model = build_sparse_autoencoder(regularizer)
    encoder, decoder = model.layers
    assert (encoder.name, decoder.name) == ("encoder", "decoder")
    assert [layer.units for layer in encoder.layers[1:]] == [100, 300]
    codings = encoder.get_layer("codings")
    assert codings.activation is keras.activations.sigmoid
    assert codings.activity_regularizer is regularizer
    assert [layer.units for layer in decoder.layers[:-1]] == [100, 784]
    assert model.output_shape == (None, 28, 28)
    plain = build_sparse_autoencoder()
    assert plain.get_layer("encoder").get_layer("codings").activity_regularizer is None
    assert plain.count_params() == model.count_params() == 784 * 100 + 100 + 100 * 300 + 300 + 300 * 100 + 100 + 100 * 784 + 784


@pytest.mark.parametrize("kwargs, message", [
    ({"activity_regularizer": "l3"}, "activity_regularizer must be a Keras regularizer"),
    ({"coding_size": 0}, "coding_size"),
    ({"hidden_sizes": (2.5,)}, "hidden_sizes"),
    ({"image_shape": (28, -1)}, "image_shape"),
])
def test_builder_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_sparse_autoencoder(**kwargs)


def test_evaluation_splits_the_loss_into_mse_and_regularization():
    genlib.set_random_seed(3)
    x = np.random.default_rng(3).random((56, 4, 4)).astype("float32")
    model = build_sparse_autoencoder(KLSparsityRegularizer(0.1, 0.05), coding_size=10, hidden_sizes=(6,),
                                     image_shape=(4, 4))
    fit_autoencoder(model, x, x, epochs=1, batch_size=16)
    evaluation = evaluate_sparsity(model, x, batch_size=16)  # 3 batches of 16, one of 8
    assert isinstance(evaluation, SparsityEvaluation)
    assert evaluation.codings.shape == (56, 10)
    reconstructions = model.predict(x, verbose=0)
    assert evaluation.mse == pytest.approx(np.mean((reconstructions - x) ** 2), rel=1e-5)
    codings = model.get_layer("encoder").predict(x, verbose=0)
    np.testing.assert_allclose(evaluation.codings, codings, rtol=1e-5, atol=1e-7)
    batches = [codings[i:i + 16] for i in range(0, 56, 16)]
    expected = np.average([numpy_kl_penalty(b, 0.1, 0.05) for b in batches], weights=[16, 16, 16, 8])
    assert evaluation.regularization == pytest.approx(expected, rel=1e-3)
    # The loss is what Keras' evaluate reports, batch by batch.
    assert evaluation.loss == pytest.approx(model.evaluate(x, x, batch_size=16, verbose=0), rel=1e-4)
    assert evaluation.mean_activation == pytest.approx(codings.mean(), rel=1e-5)
    np.testing.assert_allclose(evaluation.mean_per_neuron, codings.mean(axis=0), rtol=1e-5)
    assert evaluation.active_per_image(0.5).shape == (56,)


def test_evaluation_of_a_model_without_penalty_has_loss_equal_to_mse():
    model = build_sparse_autoencoder(coding_size=5, hidden_sizes=(3,), image_shape=(3, 3))
    x = np.random.default_rng(4).random((10, 3, 3)).astype("float32")
    evaluation = evaluate_sparsity(model, x, batch_size=4)
    assert evaluation.regularization == 0.0 and evaluation.loss == evaluation.mse > 0


def test_evaluation_needs_an_encoder_and_a_decoder():
    x = np.zeros((4, 2, 2), "float32")
    flat = keras.Sequential([keras.Input((2, 2)), keras.layers.Flatten(), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match=r"Sequential\(\[encoder, decoder\]\)"):
        evaluate_sparsity(flat, x)
    with pytest.raises(ValueError, match="non-empty batch of images"):
        evaluate_sparsity(build_sparse_autoencoder(coding_size=4, hidden_sizes=(3,), image_shape=(2, 2)),
                          np.zeros((0, 2, 2)))


def test_the_evaluation_counts_dead_neurons_and_the_median_image():
    # Neuron 0 never fires, neuron 1 fires hard on half the images, neuron 2 a little always.
    codings = np.array([[0.0, 0.9, 0.2], [0.0, 0.0, 0.2], [0.005, 0.8, 0.2], [0.0, 0.0, 0.2]])
    evaluation = SparsityEvaluation(0.0, 0.0, codings)
    assert evaluation.dead_neurons() == 1
    assert evaluation.dead_neurons(0.3) == 2  # neuron 2's mean, 0.2, is below 0.3
    assert evaluation.median_active(0.5) == 0.5  # images activate 1, 0, 1, 0 neurons
    assert evaluation.median_active(0.1) == 1.5
    assert evaluation.median_near_zero() == 1.5  # 1, 2, 1, 2 activations below 0.01


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5, "0.01", float("nan")])
def test_the_evaluation_refuses_a_threshold_outside_0_1(threshold):
    evaluation = SparsityEvaluation(0.0, 0.0, np.zeros((2, 3)))
    for measure in (evaluation.dead_neurons, evaluation.median_near_zero):
        with pytest.raises(ValueError, match=r"threshold must be a number in \(0, 1\]"):
            measure(threshold)
