"""Flow matching (genlib.flow): the straight path, the ODE solvers, guidance, the model.

Small networks, small images and synthetic data only: the whole file runs in seconds.
"""

import keras
import numpy as np
import pytest

from genlib.flow import (
    METHODS,
    FlowMatchingModel,
    build_velocity_mlp,
    build_velocity_unet,
    euler_step,
    few_step_error,
    fit_flow,
    flow_dataset,
    guided_velocity,
    heun_step,
    integrate,
    interpolate,
    straightness,
    target_velocity,
)


def small_unet(image_shape=(8, 8)):
    return build_velocity_unet(image_shape, filters=(8, 16), time_dim=8)


def randomized(network, seed=0, head="velocity"):
    """``network`` with a random output layer: the zero-initialized head says nothing."""
    rng = np.random.default_rng(seed)
    head = network.get_layer(head)
    head.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in head.get_weights()])
    return network


def conditional_mlp(seed=0):
    keras.utils.set_random_seed(seed)
    return randomized(build_velocity_mlp(2, units=(16,), time_dim=8, n_classes=3), seed)


# --- The straight path ---------------------------------------------------------------------------


def test_interpolate_and_target_velocity_are_exact_on_known_pairs():
    data, noise = np.array([[2.0, -1.0], [0.5, 0.0]]), np.array([[0.0, 3.0], [-0.5, 4.0]])
    np.testing.assert_array_equal(np.asarray(interpolate(data, noise, 0.0)), data)
    np.testing.assert_array_equal(np.asarray(interpolate(data, noise, 1.0)), noise)
    np.testing.assert_allclose(np.asarray(interpolate(data, noise, 0.25)),
                               [[1.5, 0.0], [0.25, 1.0]])
    np.testing.assert_array_equal(np.asarray(target_velocity(data, noise)), noise - data)
    # The velocity is the time derivative of the path, the same at every t.
    for t in (0.1, 0.5, 0.9):
        slope = (np.asarray(interpolate(data, noise, t + 0.05))
                 - np.asarray(interpolate(data, noise, t - 0.05))) / 0.1
        np.testing.assert_allclose(slope, noise - data, atol=1e-5)


def test_one_time_per_example_is_broadcast_over_each_image():
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, (3, 28, 28)).astype("float32")
    noise = rng.standard_normal((3, 28, 28)).astype("float32")
    t = np.array([0.0, 1.0, 0.3], "float32")
    x_t = np.asarray(interpolate(data, noise, t))
    assert x_t.shape == (3, 28, 28)
    np.testing.assert_array_equal(x_t[0], data[0])
    np.testing.assert_array_equal(x_t[1], noise[1])
    np.testing.assert_allclose(x_t[2], 0.7 * data[2] + 0.3 * noise[2], rtol=1e-6, atol=1e-6)
    # Keras tensors in, the same values out.
    np.testing.assert_allclose(np.asarray(interpolate(keras.ops.convert_to_tensor(data),
                                                      keras.ops.convert_to_tensor(noise), t)),
                               x_t)


def test_guided_velocity_mixes_the_two_velocities():
    v_c, v_u = np.array([3.0, -1.0]), np.array([1.0, 1.0])
    np.testing.assert_array_equal(guided_velocity(v_c, v_u, 0.0), v_u)
    np.testing.assert_array_equal(guided_velocity(v_c, v_u, 1.0), v_c)
    np.testing.assert_array_equal(guided_velocity(v_c, v_u, 2.0), [5.0, -3.0])


# --- Solving the ODE ------------------------------------------------------------------------------


def test_steps_go_backwards_in_time():
    x = np.array([[1.0, 2.0]])
    constant = lambda x, t: np.ones_like(x)  # noqa: E731
    # dx/dt = 1 from t = 1 to t = 0.75: x decreases by 0.25.
    np.testing.assert_allclose(euler_step(constant, x, 1.0, 0.75), x - 0.25)
    np.testing.assert_allclose(heun_step(constant, x, 1.0, 0.75), x - 0.25)
    # Heun reads the second velocity at the trial point and at t_next.
    calls = []

    def recorded(x, t):
        calls.append((np.array(x), t))
        return -x * (1 + t)

    heun_step(recorded, x, 0.5, 0.25)
    trial = x + (0.25 - 0.5) * (-x * 1.5)
    assert [t for _, t in calls] == [0.5, 0.25]
    np.testing.assert_allclose(calls[1][0], trial)


@pytest.mark.parametrize("steps", [1, 3, 8])
def test_the_exact_velocity_of_a_point_mass_lands_on_it(steps):
    # All the data at c: the marginal velocity at x_t is (x_t - c) / t, and its paths are
    # straight lines, which Euler follows exactly, in any number of steps. (Heun's last
    # step reads the velocity at t = 0, where this one is 0 / 0.)
    c = np.array([0.5, -2.0])
    noise = np.random.default_rng(steps).standard_normal((5, 2))
    x = integrate(lambda x, t: (x - c) / t, noise, steps=steps)
    np.testing.assert_allclose(x, np.broadcast_to(c, x.shape), atol=1e-12)   # rounding only


def test_integrate_counts_its_network_calls_and_keeps_the_trajectory():
    calls = []

    def velocity(x, t):
        calls.append(t)
        return -x

    noise = np.ones((2, 3))
    for method, per_step in METHODS.items():
        calls.clear()
        x, path = integrate(velocity, noise, steps=4, method=method, trajectory=True)
        assert len(calls) == 4 * per_step
        assert path.shape == (2, 5, 3)
        np.testing.assert_array_equal(path[:, 0], noise)
        np.testing.assert_array_equal(path[:, -1], x)
    assert calls[0] == 1.0 and calls[-1] == 0.0


def test_euler_and_heun_converge_to_the_exact_solution_heun_faster():
    # A rotation dx/dt = J x (curved paths): from t = 1 to 0, x(0) = exp(-J) x(1).
    angle = 1.5
    rotation = np.array([[0.0, -angle], [angle, 0.0]])
    exact_map = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    noise = np.random.default_rng(0).standard_normal((4, 2))
    exact = noise @ exact_map.T
    errors = {method: [] for method in METHODS}
    for steps in (8, 16, 32, 64):
        for method in METHODS:
            x = integrate(lambda x, t: x @ rotation.T, noise, steps=steps, method=method)
            errors[method].append(np.abs(x - exact).max())
    euler, heun = np.array(errors["euler"]), np.array(errors["heun"])
    assert np.all(heun < euler)
    # Halving the step halves Euler's error (first order) and quarters Heun's (second).
    np.testing.assert_allclose(euler[:-1] / euler[1:], 2.0, rtol=0.2)
    np.testing.assert_allclose(heun[:-1] / heun[1:], 4.0, rtol=0.2)
    assert heun[-1] < 1e-3
    # And the two agree more and more as the steps shrink.
    gaps = [np.abs(integrate(lambda x, t: x @ rotation.T, noise, steps=s)
                   - integrate(lambda x, t: x @ rotation.T, noise, steps=s, method="heun")).max()
            for s in (8, 64)]
    assert gaps[1] < gaps[0] / 4


def test_a_time_dependent_field_is_read_at_the_right_times():
    # dx/dt = t x from t = 1 to 0: x(0) = x(1) exp(-1/2); dx/dt = t² x: x(1) exp(-1/3).
    # A solver told 1 - t instead of t would land on x(1) exp(-1/2) and x(1) exp(-2/3).
    noise = np.array([[1.0, -2.0]])
    x = integrate(lambda x, t: t * x, noise, steps=200, method="heun")
    np.testing.assert_allclose(x, noise * np.exp(-0.5), rtol=1e-5)
    x = integrate(lambda x, t: t * t * x, noise, steps=200, method="heun")
    np.testing.assert_allclose(x, noise * np.exp(-1 / 3), rtol=1e-5)


# --- The networks and the model ----------------------------------------------------------------


def test_untrained_networks_predict_no_velocity():
    for network, x in [(build_velocity_mlp(3, units=(8,), time_dim=8), np.ones((2, 3))),
                       (small_unet(), np.ones((2, 8, 8)))]:
        out = network([x.astype("float32"), np.array([0.0, 1.0], "float32")])
        assert np.asarray(out).shape == x.shape
        assert np.allclose(np.asarray(out), 0.0)
    model = FlowMatchingModel(build_velocity_mlp(2, units=(8,), time_dim=8))
    assert few_step_error(model, 4, 1, reference_steps=8) == 0.0
    # No velocity: the samples are the noise itself.
    x, path = model.sample(3, steps=2, seed=5, trajectory=True)
    np.testing.assert_array_equal(x, np.random.default_rng(5).standard_normal((3, 2))
                                  .astype("float32"))
    assert straightness(path) == 0.0


def test_guidance_0_is_the_unconditional_and_1_the_conditional_velocity():
    network = conditional_mlp()
    model = FlowMatchingModel(network)
    assert model.n_classes == 3
    rng = np.random.default_rng(1)
    x, labels = rng.standard_normal((6, 2)).astype("float32"), np.array([0, 1, 2, 0, 1, 2])
    t = 0.4
    times = np.full(6, t, "float32")
    v_u = np.asarray(network([x, times, np.full(6, 3, "int32")]))   # row 3: "no label"
    v_c = np.asarray(network([x, times, labels.astype("int32")]))
    assert not np.allclose(v_c, v_u), "the label must change the velocity"
    np.testing.assert_allclose(model.velocity_field()(x, t), v_u, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.velocity_field(labels, guidance=0)(x, t), v_u,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.velocity_field(labels, guidance=1)(x, t), v_c,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.velocity_field(labels, guidance=2.5)(x, t),
                               v_u + 2.5 * (v_c - v_u), rtol=1e-5, atol=1e-5)
    # The model's guidance is the default; one label is repeated for every example.
    guided = FlowMatchingModel(network, guidance=2.5)
    np.testing.assert_allclose(guided.velocity_field(labels)(x, t),
                               v_u + 2.5 * (v_c - v_u), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.velocity_field(1)(x, t),
                               np.asarray(network([x, times, np.ones(6, "int32")])),
                               rtol=1e-5, atol=1e-6)
    # Samples: the label changes them, guidance 0 ignores it.
    np.testing.assert_allclose(model.sample(4, labels=2, guidance=0, steps=3, seed=0),
                               model.sample(4, steps=3, seed=0), rtol=1e-6, atol=1e-6)
    assert not np.allclose(model.sample(4, labels=2, steps=3, seed=0),
                           model.sample(4, labels=0, steps=3, seed=0))


def test_the_first_loss_is_the_mean_square_of_the_velocity_and_training_lowers_it():
    # The head starts at zero, so the first loss is E[(ε - x)²] = 1 + x² on a point mass
    # at x; its velocity (x_t - x) / t is easy to learn, so the loss must drop.
    data = np.full((256, 2), 0.5, "float32")
    model = FlowMatchingModel(build_velocity_mlp(2, units=(32,), time_dim=8), seed=0)
    result = fit_flow(model, data, epochs=30, steps_per_epoch=2, batch_size=64,
                      learning_rate=1e-2, warmup_steps=2, ema_momentum=None)
    losses = result.history.history["loss"]
    assert losses[0] == pytest.approx(1.25, abs=0.3)
    assert np.mean(losses[-5:]) < 0.5 * losses[0]
    # Its samples move towards the point mass.
    samples = model.sample(200, steps=8, seed=0)
    assert np.abs(samples - 0.5).mean() < 0.5 * np.abs(np.random.default_rng(0)
                                                        .standard_normal((200, 2)) - 0.5).mean()


def test_a_tiny_unet_learns_a_constant_image():
    keras.utils.set_random_seed(0)
    data = np.full((64, 8, 8), 0.5, "float32")
    model = FlowMatchingModel(small_unet(), seed=0)
    result = fit_flow(model, data, epochs=30, steps_per_epoch=2, batch_size=32,
                      learning_rate=1e-2, warmup_steps=2, ema_momentum=None)
    losses = result.history.history["loss"]
    assert losses[0] == pytest.approx(1.25, abs=0.3)
    assert np.mean(losses[-3:]) < 0.6 * losses[0]
    images = model.sample(2, steps=4, seed=0)
    assert images.shape == (2, 8, 8) and images.min() >= 0 and images.max() <= 1


def test_fixed_noise_is_used_as_given():
    # Data 0 and noise 2 everywhere: the zero head's first loss is exactly (2 - 0)² = 4.
    model = FlowMatchingModel(build_velocity_mlp(2, units=(8,), time_dim=8), seed=0)
    data = np.zeros((16, 2), "float32")
    result = fit_flow(model, data, noise=np.full((16, 2), 2.0), epochs=2, steps_per_epoch=1,
                      batch_size=16, warmup_steps=1, ema_momentum=None)
    assert result.history.history["loss"][0] == pytest.approx(4.0, rel=1e-6)


def test_conditional_models_train_on_labels_only():
    model = FlowMatchingModel(conditional_mlp(), seed=0)
    data = np.random.default_rng(0).standard_normal((32, 2)).astype("float32")
    with pytest.raises(ValueError, match="class-conditional: pass labels="):
        fit_flow(model, data, epochs=1, steps_per_epoch=2, batch_size=16, warmup_steps=1)
    result = fit_flow(model, data, labels=np.arange(32) % 3, epochs=1, steps_per_epoch=2,
                      batch_size=16, warmup_steps=1)
    assert np.isfinite(result.history.history["loss"][0])
    with pytest.raises(ValueError, match="no label input"):
        fit_flow(FlowMatchingModel(build_velocity_mlp(2, units=(8,))), data, labels=np.zeros(32, int),
                 epochs=1, steps_per_epoch=2, batch_size=16, warmup_steps=1)


@pytest.mark.parametrize("kind", ["conditional mlp", "unet"])
def test_the_model_survives_keras_save_and_load(tmp_path, kind):
    if kind == "unet":
        model = FlowMatchingModel(randomized(small_unet(), head="head"), sampling_steps=3,
                                  sampling_method="heun", seed=3)
        x, labels = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8)).astype("float32"), None
    else:
        model = FlowMatchingModel(conditional_mlp(), sampling_steps=5, guidance=2.0,
                                  label_dropout=0.2, seed=3)
        x, labels = np.random.default_rng(0).standard_normal((3, 2)).astype("float32"), [0, 2, 1]
    expected = model.velocity_field(labels)(x, 0.3)
    assert not np.allclose(expected, 0.0)
    samples = model.sample(3, labels=labels, seed=1)

    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(restored, FlowMatchingModel)
    assert (restored.sampling_steps, restored.sampling_method, restored.guidance,
            restored.label_dropout, restored.seed, restored.n_classes, restored.data_shape) == (
        model.sampling_steps, model.sampling_method, model.guidance, model.label_dropout,
        model.seed, model.n_classes, model.data_shape)
    np.testing.assert_array_equal(restored.velocity_field(labels)(x, 0.3), expected)
    np.testing.assert_array_equal(restored.sample(3, labels=labels, seed=1), samples)


def test_a_trained_model_survives_save_and_load(tmp_path):
    # Compiled, with the moving average of the weights swapped in by fit.
    model = FlowMatchingModel(build_velocity_mlp(2, units=(8,), time_dim=8), seed=0)
    data = np.random.default_rng(0).standard_normal((32, 2)).astype("float32") + 2
    fit_flow(model, data, epochs=2, steps_per_epoch=2, batch_size=16, warmup_steps=1)
    samples = model.sample(4, steps=3, seed=0)
    model.save(tmp_path / "trained.keras")
    restored = keras.saving.load_model(tmp_path / "trained.keras")
    np.testing.assert_array_equal(restored.sample(4, steps=3, seed=0), samples)


# --- Measuring a flow --------------------------------------------------------------------------


def test_straightness_is_zero_for_straight_paths_only():
    start, end = np.random.default_rng(0).standard_normal((2, 5, 3))
    line = np.linspace(start, end, 7).transpose(1, 0, 2)          # (5, 7, 3)
    assert straightness(line) == pytest.approx(0.0, abs=1e-20)
    bent = line.copy()
    bent[:, 3] += 0.5
    assert straightness(bent) > 0.1
    # A path of Euler steps on a curved field is bent, on the oracle field straight.
    _, curved = integrate(lambda x, t: x @ np.array([[0.0, -1.0], [1.0, 0.0]]),
                          np.ones((4, 2)), steps=6, trajectory=True)
    assert straightness(curved) > 0.01
    _, straight = integrate(lambda x, t: (x - 0.3) / t, np.ones((4, 2)) * 2, steps=6,
                            trajectory=True)
    assert straightness(straight) == pytest.approx(0.0, abs=1e-20)
    with pytest.raises(ValueError, match="at least 2 states"):
        straightness(np.zeros((4, 1, 2)))
    with pytest.raises(ValueError, match=r"shape \(n, steps \+ 1, ...\)"):
        straightness(np.zeros((4, 2)))


def test_few_step_error_measures_the_solver_s_error():
    model = FlowMatchingModel(conditional_mlp())
    assert few_step_error(model, 4, 2, reference_steps=16) > 0.0
    assert few_step_error(model, 4, 16, reference_steps=16) == 0.0
    assert few_step_error(model, 4, 2, reference_steps=16, labels=1) > 0.0


# --- Bad inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [0, 1.5, True, "4", -2])
def test_bad_steps_are_refused(steps):
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        integrate(lambda x, t: x, np.zeros((1, 2)), steps=steps)
    model = FlowMatchingModel(build_velocity_mlp(2, units=(4,), time_dim=4))
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        model.sample(2, steps=steps)
    with pytest.raises(ValueError, match="sampling_steps must be an integer >= 1"):
        FlowMatchingModel(build_velocity_mlp(2, units=(4,), time_dim=4), sampling_steps=steps)


def test_bad_methods_and_guidance_are_refused():
    network = conditional_mlp()
    model = FlowMatchingModel(network)
    with pytest.raises(ValueError, match="method must be one of 'euler', 'heun', got 'rk4'"):
        integrate(lambda x, t: x, np.zeros((1, 2)), steps=2, method="rk4")
    with pytest.raises(ValueError, match="method must be one of"):
        model.sample(2, method="rk4")
    with pytest.raises(ValueError, match="method must be one of"):
        FlowMatchingModel(network, sampling_method="RK4")
    for guidance in (-1, "2", True, float("nan")):
        with pytest.raises(ValueError, match=r"guidance must be a number in \[0, inf\)"):
            model.sample(2, labels=0, guidance=guidance)
        with pytest.raises(ValueError, match="guidance"):
            model.velocity_field([0, 1], guidance=guidance)
        with pytest.raises(ValueError, match="guidance"):
            FlowMatchingModel(network, guidance=guidance)


@pytest.mark.parametrize("labels, phrase", [
    ([0, 3], r"class indices in \[0, 3\), got values in \[0, 3\]"),
    ([-1, 0], r"class indices in \[0, 3\)"),
    ([0, 1, 2], r"one class per example, shape \(2,\)"),
    ([[0], [1]], r"one class per example, shape \(2,\)"),
    ([0.0, 1.0], "integer class indices"),
    ([True, False], "integer class indices"),
])
def test_bad_labels_are_refused(labels, phrase):
    model = FlowMatchingModel(conditional_mlp())
    with pytest.raises(ValueError, match=phrase):
        model.sample(2, labels=labels)
    with pytest.raises(ValueError, match=phrase):
        model.velocity_field(labels)(np.zeros((2, 2), "float32"), 0.5)


def test_labels_for_an_unconditional_model_are_refused():
    model = FlowMatchingModel(build_velocity_mlp(2, units=(4,), time_dim=4))
    with pytest.raises(ValueError, match="no label input"):
        model.sample(2, labels=[0, 1])
    with pytest.raises(ValueError, match="no label input"):
        few_step_error(model, 2, 1, labels=0)


def test_data_of_the_wrong_shape_or_range_is_refused():
    unet = FlowMatchingModel(small_unet())
    mlp = FlowMatchingModel(build_velocity_mlp(2, units=(4,), time_dim=4))
    kwargs = {"epochs": 1, "steps_per_epoch": 2, "batch_size": 4, "warmup_steps": 1}
    with pytest.raises(ValueError, match=r"batches of shape \(n, 8, 8\)"):
        fit_flow(unet, np.zeros((8, 28, 28)), **kwargs)
    with pytest.raises(ValueError, match=r"reshape flat images with x.reshape\(-1, 8, 8\)"):
        fit_flow(unet, np.zeros((8, 64)), **kwargs)
    with pytest.raises(ValueError, match=r"outside \[-1, 1\]: scale images in \[0, 1\]"):
        fit_flow(unet, np.full((8, 8, 8), 255.0), **kwargs)
    with pytest.raises(ValueError, match=r"batches of shape \(n, 2\)"):
        fit_flow(mlp, np.zeros((8, 3)), **kwargs)
    with pytest.raises(ValueError, match="NaN"):
        fit_flow(mlp, np.full((8, 2), np.nan), **kwargs)
    with pytest.raises(ValueError, match=r"batches of shape \(n, 2\)"):
        mlp.velocity_field()(np.zeros((3, 5)), 0.5)
    with pytest.raises(ValueError, match=r"t must be a number in \[0, 1\]"):
        mlp.velocity_field()(np.zeros((3, 2)), 1.5)
    with pytest.raises(TypeError, match="model must be a FlowMatchingModel"):
        fit_flow(unet.network, np.zeros((8, 8, 8)), **kwargs)


def test_flow_dataset_checks_its_columns():
    data = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"noise must have the shape of the data \(10, 2\)"):
        flow_dataset(data, noise=np.zeros((10, 3)), batch_size=4)
    with pytest.raises(ValueError, match=r"noise must have one entry per example \(10\)"):
        flow_dataset(data, noise=np.zeros((9, 2)), batch_size=4)
    with pytest.raises(ValueError, match=r"labels must have one entry per example \(10\)"):
        flow_dataset(data, labels=np.zeros(11), batch_size=4)
    with pytest.raises(ValueError, match="batch_size=11 is larger than the 10 examples"):
        flow_dataset(data, batch_size=11)
    with pytest.raises(ValueError, match="larger than the 10 examples"):
        fit_flow(FlowMatchingModel(build_velocity_mlp(2, units=(4,), time_dim=4)), data,
                 epochs=1, steps_per_epoch=2, batch_size=16, warmup_steps=1)
    # Full batches only, every example once per pass, each with its own noise and label.
    batches = list(flow_dataset(np.arange(10.0)[:, None] * [1, 1], labels=np.arange(10),
                                noise=-np.arange(10.0)[:, None] * [1, 1], batch_size=3,
                                seed=0))
    assert len(batches) == 3
    for batch in batches:
        np.testing.assert_array_equal(batch["noise"], -batch["data"])
        np.testing.assert_array_equal(batch["labels"], batch["data"][:, 0])


def test_the_model_refuses_a_network_that_does_not_fit():
    with pytest.raises(TypeError, match="network must be a keras.Model"):
        FlowMatchingModel("unet")
    one_input = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"inputs \[x_t, t\]"):
        FlowMatchingModel(one_input)
    x, t = keras.Input((2,)), keras.Input(())
    # Both inputs used: Keras 3.10 refuses a model with an unconnected input.
    both = keras.layers.Concatenate()([x, keras.layers.Reshape((1,))(t)])
    wrong_output = keras.Model([x, t], keras.layers.Dense(3)(both))
    with pytest.raises(ValueError, match=r"velocity of the shape of its input \(2,\)"):
        FlowMatchingModel(wrong_output)
