"""The chapter 9 checkers accept right answers and name each usual mistake specifically."""

import keras
import numpy as np
import pytest

from genlib import flow
from genlib.exercises import Feedback
from genlib.exercises.ch09 import check_flow_matching_loss, check_guided_velocity, check_ode_steps
from tests.feedback_helpers import assert_not_yet
from tests.fixtures.wrong_answers import WRONG_ANSWERS

ops = keras.ops


def passes(feedback):
    assert isinstance(feedback, Feedback) and feedback.passed, feedback
    assert repr(feedback).startswith("✔ Correct")
    return feedback.message


def per_example(t, data):
    return t.reshape(-1, *[1] * (data.ndim - 1))


# --- Exercise 9.1: the flow-matching loss ------------------------------------------------------


def numpy_loss(velocity, data, noise, t):
    """The chapter's solution."""
    t_b = per_example(t, data)
    x_t = (1 - t_b) * data + t_b * noise
    return np.mean((velocity(x_t, t) - (noise - data)) ** 2)


def loss_with(point="x_t", target="velocity", reduce="mean", t_shape="per_example"):
    """An answer with one slip (or none) in each part of the loss."""

    def answer(velocity, data, noise, t):
        t_b = {"per_example": per_example(t, data), "raw": t, "first": t[0]}[t_shape]
        x = {"x_t": (1 - t_b) * data + t_b * noise, "reversed": t_b * data + (1 - t_b) * noise,
             "data": data, "noise": noise,
             "sqrt": np.sqrt(1 - t_b) * data + np.sqrt(t_b) * noise}[point]
        u = {"velocity": noise - data, "minus": data - noise, "noise": noise}[target]
        error = velocity(x, t) - u
        return {"mean": lambda: np.mean(error**2), "sum": lambda: np.sum(error**2),
                "per_example_sum": lambda: np.mean(np.sum(error.reshape(len(error), -1) ** 2,
                                                          axis=1)),
                "absolute": lambda: np.mean(np.abs(error)),
                "none": lambda: error**2,
                "per_example": lambda: np.mean(error.reshape(len(error), -1) ** 2, axis=1),
                }[reduce]()

    return answer


def says_loss(function, *phrases):
    return assert_not_yet(check_flow_matching_loss(function), *phrases)


@pytest.mark.parametrize("answer", [
    numpy_loss,
    # genlib's own functions, on tensors; the velocity gets the tensor x_t.
    lambda velocity, data, noise, t: ops.mean(ops.square(
        velocity(flow.interpolate(data, noise, t), t) - flow.target_velocity(data, noise))),
    # keras.ops throughout, t passed to the velocity reshaped (the field accepts it).
    lambda velocity, data, noise, t: ops.mean((velocity(
        (1 - ops.reshape(t, (-1,) + (1,) * (data.ndim - 1))) * data
        + ops.reshape(t, (-1,) + (1,) * (data.ndim - 1)) * noise,
        ops.reshape(t, (-1,) + (1,) * (data.ndim - 1))) - (noise - data)) ** 2),
    # A loop over the examples, the velocity called on one example at a time.
    lambda velocity, data, noise, t: np.mean([
        np.mean((velocity(((1 - s) * d + s * e)[None], np.array([s]))[0] - (e - d)) ** 2)
        for d, e, s in zip(data, noise, t)]),
    # np.expand_dims and float().
    lambda velocity, data, noise, t: float(np.mean(np.square(velocity(
        data + np.expand_dims(t, tuple(range(1, data.ndim))) * (noise - data), t)
        - noise + data))),
])
def test_right_losses_pass(answer):
    message = passes(check_flow_matching_loss(answer))
    assert "all 4 test cases" in message and "t = 0 and t = 1" in message


def test_the_target_s_sign_and_chapter_8_s_target_are_named():
    says_loss(loss_with(target="minus"), "wrong sign", "noise - data")
    says_loss(loss_with(target="noise"), "chapter 8's target")


def test_the_reversed_path_and_the_wrong_point_are_named():
    says_loss(loss_with(point="reversed"), "runs the wrong way", "t = 0 is the data")
    says_loss(loss_with(point="data"), "called velocity with the clean data")
    says_loss(loss_with(point="noise"), "called velocity with the noise")
    says_loss(loss_with(point="sqrt"), "square roots")


def test_t_not_reshaped_per_example_is_named():
    # t of shape (n,) against (n, 2) or (n, 28, 28): NumPy refuses to broadcast.
    message = says_loss(loss_with(t_shape="raw"), "raised ValueError", "reshape it to (n, 1)")
    assert "t.reshape(-1, *[1] * (data.ndim - 1))" in message
    # The same with keras.ops (TensorFlow's message differs).
    says_loss(lambda velocity, data, noise, t: ops.mean(
        (velocity((1 - t) * data + t * noise, t) - (noise - data)) ** 2), "(n, 1, 1)")
    # t[:, None] works for points, not for images.
    says_loss(lambda velocity, data, noise, t: np.mean(
        (velocity((1 - t[:, None]) * data + t[:, None] * noise, t) - (noise - data)) ** 2),
        "with 5 images", "one time per example")
    # One time for all examples.
    says_loss(loss_with(t_shape="first"), "first example's time")
    # A reshape to (n, 1, 1) on points makes x_t of shape (n, n, 2): the velocity says so.
    says_loss(lambda velocity, data, noise, t: np.mean((velocity(
        (1 - t[:, None, None]) * data + t[:, None, None] * noise, t) - (noise - data)) ** 2),
        "velocity was called with x of shape (6, 6, 2)", "(n, 1) for points")


def test_reductions_are_named():
    says_loss(loss_with(reduce="sum"), "you summed the squared errors", "np.mean")
    says_loss(loss_with(reduce="per_example_sum"), "summed over each example's coordinates")
    says_loss(loss_with(reduce="absolute"), "*squared* error")


def test_two_slips_at_once_are_both_named():
    message = says_loss(loss_with(point="reversed", target="minus"), "runs the wrong way",
                        "wrong sign")
    assert message.count("; and ") == 1


def test_arrays_instead_of_a_number_are_named():
    says_loss(loss_with(reduce="none"), "shape (6, 2)", "average them into one number")
    says_loss(loss_with(reduce="per_example"), "one loss per example")
    says_loss(lambda velocity, data, noise, t: np.zeros(7), "return one number")


def test_a_loss_that_ignores_the_velocity_or_draws_its_own_noise():
    says_loss(lambda velocity, data, noise, t: np.mean((noise - data) ** 2),
              "never calls velocity")
    rng = np.random.default_rng(0)
    says_loss(lambda velocity, data, noise, t: numpy_loss(
        velocity, data, rng.standard_normal(data.shape), t), "do not draw new ones")
    says_loss(lambda velocity, data, noise, t: numpy_loss(velocity, data, noise, t) + 0.1,
              "expected", "np.mean((velocity(x_t, t) - (noise - data)) ** 2)")


@pytest.mark.parametrize("answer, phrases", [
    (lambda velocity, data, noise, t: None, ["returns None"]),
    (lambda velocity, data, noise, t: "0.5", ["returned str", "one number"]),
    (lambda velocity, data, noise, t: 1 / 0, ["raised ZeroDivisionError"]),
    (lambda velocity, data, noise, t: np.log(-np.ones(1))[0], ["nan", "finite"]),
    (lambda velocity, data, noise, t: velocity(data), ["raised TypeError"]),
    (lambda velocity, data, noise, t: np.mean(velocity("x", t)), ["two numeric arrays"]),
    ("my_flow_matching_loss", ["expected a function"]),
])
def test_losses_of_the_wrong_kind(answer, phrases):
    says_loss(answer, *phrases)


# --- Exercise 9.2: Euler and Heun steps ----------------------------------------------------------


def euler(velocity, x, t, t_next):
    return x + (t_next - t) * velocity(x, t)


def heun(velocity, x, t, t_next):
    v = velocity(x, t)
    trial = x + (t_next - t) * v
    return x + (t_next - t) * 0.5 * (v + velocity(trial, t_next))


def heun_with(sign=1.0, point="trial", time="end", weights=(0.5, 0.5), start="x"):
    def answer(velocity, x, t, t_next):
        h = sign * (t_next - t)
        v = velocity(x, t)
        trial = x + h * v
        second = velocity(trial if point == "trial" else x, t_next if time == "end" else t)
        return (x if start == "x" else trial) + h * (weights[0] * v + weights[1] * second)

    return answer


def keras_heun(velocity, x, t, t_next):
    dt = t_next - t
    v = ops.convert_to_tensor(velocity(x, t), "float32")
    trial = ops.convert_to_tensor(x) + dt * v
    return trial + dt / 2 * (velocity(trial, t_next) - v)   # the same, rearranged


@pytest.mark.parametrize("euler_answer, heun_answer", [
    (euler, heun),
    (flow.euler_step, flow.heun_step),
    # keras.ops, and a Heun step written with the Euler step.
    (lambda velocity, x, t, t_next: ops.add(x, ops.multiply(t_next - t, velocity(x, t))),
     keras_heun),
    (euler, lambda velocity, x, t, t_next: 0.5 * (
        x + euler(velocity, euler(velocity, x, t, t_next), t_next, 2 * t_next - t))),
])
def test_right_steps_pass(euler_answer, heun_answer):
    message = passes(check_ode_steps(euler_answer, heun_answer))
    assert "all 5 test cases" in message and "non-linear" in message


def test_euler_mistakes_are_named():
    assert_not_yet(check_ode_steps(lambda v, x, t, tn: x + (t - tn) * v(x, t), heun),
                   "your Euler step", "wrong way", "t_next < t")
    assert_not_yet(check_ode_steps(lambda v, x, t, tn: x + (tn - t) * v(x, tn), heun),
                   "start of the step")
    assert_not_yet(check_ode_steps(lambda v, x, t, tn: x + v(x, t), heun), "step size")
    assert_not_yet(check_ode_steps(lambda v, x, t, tn: (tn - t) * v(x, t), heun),
                   "displacement alone")
    assert_not_yet(check_ode_steps(lambda v, x, t, tn: x * 1.01, heun), "Euler", "by up to")


def test_heun_mistakes_are_named():
    def says(answer, *phrases):
        return assert_not_yet(check_ode_steps(euler, answer), "your Heun step", *phrases)

    says(heun_with(sign=-1.0), "wrong way")
    says(heun_with(point="x"), "Euler trial point", "not at x")
    says(heun_with(time="start"), "read at t_next")
    says(heun_with(weights=(1.0, 1.0)), "added the two velocities")
    says(heun_with(weights=(0.0, 1.0)), "second velocity alone")
    says(heun_with(weights=(1.0, 0.0)), "returned the Euler trial point")
    says(euler, "returned the Euler trial point")
    says(heun_with(start="trial"), "starts from x")
    message = says(heun_with(sign=-1.0, point="x"), "wrong way", "Euler trial point")
    assert message.count("; and ") == 1
    says(lambda v, x, t, tn: heun(v, x, t, tn) + 1e-2, "differs", "by up to")


@pytest.mark.parametrize("euler_answer, heun_answer, phrases", [
    ("euler", heun, ["euler_step must be a function"]),
    (euler, None, ["heun_step must be a function"]),
    (lambda v, x, t, tn: None, heun, ["returns None"]),
    (euler, lambda v, x, t, tn: x[:1], ["your Heun step", "expected x_next of shape"]),
    (euler, lambda v, x, t, tn: 1 / 0, ["your Heun step", "raised ZeroDivisionError"]),
    (lambda v, x, t, tn: v(x), heun, ["your Euler step", "raised TypeError"]),
    (lambda v, x, t, tn: x + (tn - t) * v(x, np.linspace(0, 1, len(x))), heun,
     ["one time t for the whole batch"]),
    (euler, lambda v, x, t, tn: x / 0.0, ["NaN or infinite"]),
])
def test_steps_of_the_wrong_kind(euler_answer, heun_answer, phrases):
    assert_not_yet(check_ode_steps(euler_answer, heun_answer), *phrases)


# --- Exercise 9.3: classifier-free guidance ----------------------------------------------------


@pytest.mark.parametrize("answer", [
    lambda v_c, v_u, w: v_u + w * (v_c - v_u),
    flow.guided_velocity,
    lambda v_c, v_u, w: w * v_c + (1 - w) * v_u,
    lambda v_c, v_u, w: ops.add(v_u, ops.multiply(w, ops.subtract(v_c, v_u))),
])
def test_right_guidance_passes(answer):
    message = passes(check_guided_velocity(answer))
    assert "all 6 test cases" in message and "guidance 0 gives the unconditional" in message


@pytest.mark.parametrize("answer, phrases", [
    (lambda v_c, v_u, w: (1 + w) * v_c - w * v_u,
     ["other convention", "guidance 1 is the plain conditional model"]),
    (lambda v_c, v_u, w: v_c + w * (v_u - v_c), ["swapped"]),
    (lambda v_c, v_u, w: w * v_c, ["guidance · v_conditional alone"]),
    (lambda v_c, v_u, w: v_u + w * v_c, ["difference the label makes"]),
    (lambda v_c, v_u, w: v_u + min(w, 1) * (v_c - v_u), ["guidance 0 and 1 are right",
                                                          "guidance 3"]),
    (lambda v_c, v_u, w: v_c + 0 * v_u, ["with guidance 0", "v_unconditional"]),
    (lambda v_c, v_u, w: v_u + 0.5 * w * (v_c - v_u) if w else v_u, ["with guidance 1"]),
    (lambda v_c, v_u, w: None, ["returns None"]),
    (lambda v_c, v_u, w: np.stack([v_c, v_u]), ["expected a velocity of shape"]),
    (lambda v_c, v_u, w: v_c.missing, ["raised AttributeError"]),
    (3, ["expected a function"]),
])
def test_guidance_mistakes_are_named(answer, phrases):
    assert_not_yet(check_guided_velocity(answer), *phrases)


# --- The planted wrong answers of tests/test_assignments.py ------------------------------------


@pytest.mark.parametrize("label, checker, names, phrase", [
    ("ex-09-loss", check_flow_matching_loss, ["my_flow_matching_loss"], "wrong sign"),
    ("ex-09-ode-steps", check_ode_steps, ["my_euler_step", "my_heun_step"],
     "Euler trial point"),
    ("ex-09-guidance", check_guided_velocity, ["my_guided_velocity"], "other convention"),
])
def test_the_planted_wrong_answers_fail_with_their_own_message(label, checker, names, phrase):
    namespace = {}
    exec(WRONG_ANSWERS[label], namespace)
    assert_not_yet(checker(*(namespace[name] for name in names)), phrase)
