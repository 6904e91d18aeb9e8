"""Checkers for the exercises of chapter 9 (flow matching).

Time runs as in :mod:`genlib.flow`: ``t = 0`` is the data, ``t = 1`` pure noise, the point
on the straight path is ``x_t = (1 - t) · data + t · noise`` and its velocity
``noise - data``; sampling goes backwards, from ``t = 1`` to ``t = 0`` (so ``t_next < t``).

>>> import numpy as np
>>> def flow_matching_loss(velocity, data, noise, t):
...     t_b = t.reshape(-1, *[1] * (data.ndim - 1))      # one time per example
...     x_t = (1 - t_b) * data + t_b * noise
...     return np.mean((velocity(x_t, t) - (noise - data)) ** 2)
>>> check_flow_matching_loss(flow_matching_loss)  # doctest: +ELLIPSIS
✔ Correct: your loss matches the mean of (v(x_t, t) - (noise - data))² on all 4 test cases...
>>> check_guided_velocity(lambda v_c, v_u, w: (1 + w) * v_c - w * v_u)  # doctest: +ELLIPSIS
✘ Not yet: you used the other convention, (1 + w) v_c - w v_u...
"""

from __future__ import annotations

import itertools

import numpy as np

from genlib.exercises.feedback import Feedback, as_array, call_for_array, correct, wrong

_RTOL, _ATOL = 1e-4, 1e-5

#: What a crash of shapes that do not broadcast usually means in these exercises.
_BROADCAST_HINT = ("t holds one time per example, shape (n,): reshape it to (n, 1) for points "
                   "or (n, 1, 1) for images before it multiplies data and noise, e.g. "
                   "t.reshape(-1, *[1] * (data.ndim - 1)), so that each example is mixed "
                   "with its own time")
_SHAPE_ERRORS = ("broadcast", "incompatible shapes", "dimensions must be equal",
                 "shapes are incompatible")


def _close(got, expected):
    return np.allclose(got, expected, rtol=_RTOL, atol=_ATOL)


def _per_example(t, x):
    """``t`` (shape (n,)) shaped to broadcast over the examples of ``x``."""
    return np.reshape(t, (-1,) + (1,) * (np.ndim(x) - 1))


def _crashed(error, description):
    """The Feedback about an exception, with the broadcasting hint when shapes clashed."""
    message = f"with {description}, {error.message.rstrip()}"
    if any(phrase in error.message.lower() for phrase in _SHAPE_ERRORS):
        message += f". {_BROADCAST_HINT}"
    return wrong(message)


# ---------------------------------------------------------------------------------------------
# Exercise 9.1: the flow-matching loss
# ---------------------------------------------------------------------------------------------


class _LinearField:
    """The velocity ``v(x, t) = a x + b t + c`` handed to the student's loss; counts its calls.

    Linear in ``x`` and ``t``, so that calling it with the data, the noise or a wrong
    ``x_t`` gives a different loss than calling it with the right ``x_t``.
    """

    def __init__(self, a, b, c, shape):
        self.a, self.b, self.c, self.shape = a, b, c, tuple(shape)
        self.calls = 0

    def value(self, x, t):
        return self.a * x + self.b * _per_example(t, x) + self.c

    def __call__(self, x, t):
        self.calls += 1
        x, t = as_array(x), as_array(t)
        if x is None or t is None:
            raise TypeError("velocity(x_t, t) takes two numeric arrays: x_t, of the data's "
                            f"shape {self.shape}, and t, one time per example")
        if x.ndim != len(self.shape) or x.shape[1:] != self.shape[1:]:
            raise ValueError(f"velocity was called with x of shape {x.shape}: pass x_t, of the "
                             f"data's shape {self.shape}. {_BROADCAST_HINT}")
        n = len(x)  # a batch of the examples (all of them, or some at a time)
        if t.size == 1:
            t = np.full(n, float(t.reshape(())))
        elif t.size % n == 0 and np.all(t.reshape(n, -1) == t.reshape(n, -1)[:, :1]):
            t = t.reshape(n, -1)[:, 0]  # t reshaped or broadcast per example: fine
        else:
            raise ValueError(f"velocity was called with t of shape {t.shape} for {n} examples: "
                             "pass t as given, one time per example, shape (n,)")
        return self.value(x, t)


def _loss_cases():
    """(description, field, data, noise, t): points and images, times including 0 and 1."""
    rng = np.random.default_rng(909)

    def case(shape, a, b, c, description, t=None):
        data = rng.uniform(-1, 1, shape).astype("float32")
        noise = rng.standard_normal(shape).astype("float32")
        if t is None:
            t = rng.uniform(0, 1, shape[0])
        return (description, _LinearField(a, b, c, shape), data, noise,
                np.asarray(t, dtype="float32"))

    return [case((6, 2), 0.5, -1.5, 0.3, "6 points in 2-D", [0.0, 0.2, 0.5, 0.7, 0.9, 1.0]),
            case((5, 28, 28), -0.8, 2.0, -0.1, "5 images of 28 x 28 pixels"),
            case((1, 3), 1.5, 0.7, 0.0, "1 point in 3-D"),
            case((3, 4, 4), 0.3, -2.5, 0.5, "3 images of 4 x 4 pixels")]


# Where the student evaluated the velocity: the right x_t and the usual slips.
_POINTS = {
    "x_t": (lambda d, e, t: (1 - _per_example(t, d)) * d + _per_example(t, d) * e, None),
    "reversed": (lambda d, e, t: _per_example(t, d) * d + (1 - _per_example(t, d)) * e,
                 "your x_t runs the wrong way: you used t · data + (1 - t) · noise. In this "
                 "course t = 0 is the data and t = 1 the noise: x_t = (1 - t) · data + "
                 "t · noise"),
    "data": (lambda d, e, t: d,
             "you called velocity with the clean data: the network must be told the point "
             "on the path, x_t = (1 - t) · data + t · noise, and t"),
    "noise": (lambda d, e, t: e,
              "you called velocity with the noise: the network must be told the point on the "
              "path, x_t = (1 - t) · data + t · noise, and t"),
    "sqrt": (lambda d, e, t: (np.sqrt(1 - _per_example(t, d)) * d
                              + np.sqrt(_per_example(t, d)) * e),
             "your x_t has square roots (chapter 8's mix, which keeps the variance): flow "
             "matching moves along the straight line x_t = (1 - t) · data + t · noise"),
    "first": (lambda d, e, t: (1 - t[0]) * d + t[0] * e,
              "you used the first example's time for every example: t holds one time per "
              "example, so reshape the whole array t to (n, 1) or (n, 1, 1) "
              "(t.reshape(-1, *[1] * (data.ndim - 1))) to mix each example with its own "
              "time"),
}

# What the student compared the velocity with.
_TARGETS = {
    "velocity": (lambda d, e: e - d, None),
    "minus": (lambda d, e: d - e,
              "the target has the wrong sign: x_t goes from the data (t = 0) to the noise "
              "(t = 1), so its velocity dx_t/dt is noise - data, not data - noise"),
    "noise": (lambda d, e: e,
              "the target is the noise, chapter 8's target: flow matching predicts the "
              "velocity along the path, noise - data"),
}

# How the squared errors became one number.
_REDUCTIONS = {
    "mean": (lambda r: np.mean(r**2), None),
    "sum": (lambda r: np.sum(r**2),
            "you summed the squared errors: take their mean over examples and coordinates "
            "(np.mean), so that the loss does not grow with the batch or the image size"),
    "sum_coordinates": (lambda r: np.mean(np.sum(r.reshape(len(r), -1) ** 2, axis=1)),
                        "you summed over each example's coordinates and averaged over the "
                        "examples: take the mean over the coordinates too (one np.mean over "
                        "everything)"),
    "absolute": (lambda r: np.mean(np.abs(r)),
                 "you averaged the absolute errors: the flow-matching loss is the mean "
                 "*squared* error"),
}


def _loss_candidate(point, target, reduction, field, data, noise, t):
    d, e, t = data.astype(float), noise.astype(float), t.astype(float)
    with np.errstate(all="ignore"):
        x = _POINTS[point][0](d, e, t)
        return float(_REDUCTIONS[reduction][0](field.value(x, t) - _TARGETS[target][0](d, e)))


def check_flow_matching_loss(function) -> Feedback:
    """Check ``function(velocity, data, noise, t)``, the flow-matching loss (exercise 9.1).

    ``velocity(x_t, t)`` predicts a velocity for a batch (NumPy arrays; ``t`` of shape
    (n,)); ``data`` and ``noise`` have shape (n, ...) (points (n, 2) or images
    (n, 28, 28)), ``t`` one time per example, shape (n,). Expected: the mean over examples
    and coordinates of ``(velocity(x_t, t) - (noise - data))²`` with
    ``x_t = (1 - t) · data + t · noise``, as one number. The checker names the usual slips:
    the target's sign, the path reversed, the velocity told the data or the noise instead
    of ``x_t``, ``t`` not reshaped per example, a sum instead of a mean, an array returned.

    >>> check_flow_matching_loss(lambda velocity, data, noise, t:
    ...     np.mean((velocity(data, t) - (noise - data)) ** 2))  # doctest: +ELLIPSIS
    ✘ Not yet: you called velocity with the clean data...
    """
    cases = _loss_cases()
    results = []
    for description, field, data, noise, t in cases:
        got, error = call_for_array(function, field, data.copy(), noise.copy(), t.copy(),
                                    description=description,
                                    returned_hint="; return the loss, one number")
        if error is not None:
            raised = error.message.startswith("your function raised")
            return _crashed(error, description) if raised else error
        n = len(data)
        if got.size != 1:
            if got.shape == (n,) and n > 1:
                hint = ("one loss per example: average over the examples too, so that the "
                        "loss is one number")
            elif got.shape == data.shape:
                hint = "the squared errors themselves: average them into one number (np.mean)"
            else:
                hint = "an array: return one number, the mean squared error"
            return wrong(f"for {description} your function returned an array of shape "
                         f"{got.shape}, {hint}")
        value = float(got.reshape(()))
        if not np.isfinite(value):
            return wrong(f"for {description} your loss is {value}: the data, noise and "
                         "velocities are all finite, so the mean squared error is too")
        if field.calls == 0:
            return wrong("your loss never calls velocity: the prediction is "
                         "velocity(x_t, t), compared with the target noise - data")
        results.append((description, field, data, noise, t, value))

    def matches(point, target, reduction):
        return all(np.isclose(value, _loss_candidate(point, target, reduction, field, data,
                                                     noise, t), rtol=_RTOL, atol=_ATOL)
                   for _, field, data, noise, t, value in results)

    if matches("x_t", "velocity", "mean"):
        return correct(f"your loss matches the mean of (v(x_t, t) - (noise - data))² on all "
                       f"{len(results)} test cases (points and images, one time per "
                       "example, t = 0 and t = 1 included).")
    # The explanation with the fewest slips that reproduces every answer.
    explanations = []
    for point, target, reduction in itertools.product(_POINTS, _TARGETS, _REDUCTIONS):
        slips = [table[key][1] for table, key in ((_POINTS, point), (_TARGETS, target),
                                                  (_REDUCTIONS, reduction)) if table[key][1]]
        explanations.append((len(slips), slips, (point, target, reduction)))
    for _, slips, key in sorted(explanations, key=lambda item: item[0]):
        if slips and matches(*key):
            return wrong("; and ".join(slips))
    description, field, data, noise, t, value = results[0]
    again, error = call_for_array(function, field, data.copy(), noise.copy(), t.copy(),
                                  description=description, returned_hint="")
    if error is None and not np.allclose(again, value, rtol=1e-6):
        return wrong("your loss changes from one call to the next with the same inputs: use "
                     "the noise and the times you are given, do not draw new ones")
    expected = _loss_candidate("x_t", "velocity", "mean", field, data, noise, t)
    return wrong(f"for {description} your loss is {value:.6g}, expected {expected:.6g}: "
                 "x_t = (1 - t) · data + t · noise (t reshaped per example), then "
                 "np.mean((velocity(x_t, t) - (noise - data)) ** 2)")


# ---------------------------------------------------------------------------------------------
# Exercise 9.2: Euler and Heun steps
# ---------------------------------------------------------------------------------------------


def _velocity(x, t):
    """The student's (x, t) as a float64 array and a float: tensors and arrays accepted."""
    x, t = as_array(x), as_array(t)
    if x is None or t is None:
        raise TypeError("velocity(x, t) takes an array x and a time t (a number)")
    if t.size > 1 and np.all(t == t.reshape(-1)[0]):
        t = t.reshape(-1)[:1]  # the same time for every example: fine
    if t.size != 1:
        raise ValueError(f"velocity(x, t) takes one time t for the whole batch (a float), got "
                         f"t of shape {t.shape}")
    return x, float(t.reshape(-1)[0])


_ROTATION = np.array([[0.3, -2.0], [2.0, 0.3]])

#: Velocity fields ``(x, t) → v``: constant in time, rotating, time-dependent, non-linear.
_FIELDS = {
    "affine": ("v(x, t) = 0.8 x - 0.5", lambda x, t: 0.8 * x - 0.5),
    "rotation": ("a rotation v(x, t) = R x", lambda x, t: x @ _ROTATION.T),
    "time": ("v(x, t) = (1 + 2t) x + cos(3t)", lambda x, t: (1 + 2 * t) * x + np.cos(3 * t)),
    "nonlinear": ("v(x, t) = sin(2x) - 0.3 x² + t",
                  lambda x, t: np.sin(2 * x) - 0.3 * x**2 + t),
}


def _field(name):
    """The field ``name`` as the student sees it: accepts tensors, returns NumPy arrays."""
    formula = _FIELDS[name][1]

    def velocity(x, t):
        return formula(*_velocity(x, t))

    return velocity


def _step_cases():
    """(description, field name, x, t, t_next): t_next < t, the last step ending at 0."""
    rng = np.random.default_rng(92)

    def case(field, shape, t, t_next):
        x = rng.standard_normal(shape).astype("float32")
        kind = (f"points in {shape[1]}-D" if len(shape) == 2
                else f"images of {shape[1]} x {shape[2]} pixels")
        description = (f"{_FIELDS[field][0]} on {shape[0]} {kind}, from t = {t} to "
                       f"t_next = {t_next}")
        return description, field, x, t, t_next

    return [case("affine", (4, 2), 1.0, 0.75), case("rotation", (5, 2), 0.5, 0.25),
            case("time", (3, 4, 4), 0.8, 0.3), case("nonlinear", (6, 2), 0.25, 0.0),
            case("nonlinear", (2, 28, 28), 1.0, 0.5)]


# The step's size: (t_next - t), negative when sampling, and the usual slip.
_SIGNS = {
    "right": (1.0, None),
    "flipped": (-1.0, "the step goes the wrong way: you used (t - t_next) · v. Sampling runs "
                      "backwards in time, from t = 1 to t = 0 (t_next < t), so the step is "
                      "x + (t_next - t) · v"),
}

# Euler: where the velocity is read and how it is used.
_EULER_TIMES = {
    "start": (lambda t, t_next: t, None),
    "end": (lambda t, t_next: t_next,
            "Euler reads the velocity at the start of the step, velocity(x, t), not at t_next"),
}
_EULER_FORMS = {
    "step": (lambda x, h, v: x + h * v, None),
    "no_size": (lambda x, h, v: x + v,
                "the velocity is not multiplied by the step size: x_next = x + (t_next - t) · v"),
    "no_x": (lambda x, h, v: h * v,
             "you returned the displacement alone: add it to x, x_next = x + (t_next - t) · v"),
}


def _euler_candidate(sign, time, form, field, x, t, t_next):
    velocity = _FIELDS[field][1]
    x = x.astype(float)
    h = _SIGNS[sign][0] * (t_next - t)
    return _EULER_FORMS[form][0](x, h, velocity(x, _EULER_TIMES[time][0](t, t_next)))


# Heun: where the second velocity is read, when, with which weights, and from where it moves.
_HEUN_POINTS = {
    "trial": (True, None),
    "x": (False, "the second velocity must be read at the Euler trial point "
                 "x + (t_next - t) · v(x, t), not at x: evaluating it at (x, t_next) ignores "
                 "where the step leads"),
}
_HEUN_TIMES = {
    "end": (True, None),
    "start": (False, "the second velocity must be read at t_next, the time of the trial point "
                     "(the end of the step), not at t"),
}
_HEUN_WEIGHTS = {
    "mean": ((0.5, 0.5), None),
    "sum": ((1.0, 1.0), "you added the two velocities: Heun moves with their mean, "
                        "0.5 · (v + v_trial)"),
    "second": ((0.0, 1.0), "you moved with the second velocity alone: Heun moves with the mean "
                           "of both, 0.5 · (v(x, t) + v(trial, t_next))"),
    "euler": ((1.0, 0.0), "you returned the Euler trial point: Heun then reads the velocity "
                          "there too, and moves from x with the mean of the two velocities, "
                          "x + (t_next - t) · 0.5 · (v + v_trial)"),
}
_HEUN_STARTS = {
    "x": (True, None),
    "trial": (False, "the Heun step starts from x, not from the trial point: "
                     "x + (t_next - t) · 0.5 · (v + v_trial)"),
}


def _heun_candidate(sign, point, time, weights, start, field, x, t, t_next):
    velocity = _FIELDS[field][1]
    x = x.astype(float)
    h = _SIGNS[sign][0] * (t_next - t)
    v = velocity(x, t)
    trial = x + h * v
    second = velocity(trial if _HEUN_POINTS[point][0] else x,
                      t_next if _HEUN_TIMES[time][0] else t)
    w1, w2 = _HEUN_WEIGHTS[weights][0]
    return (x if _HEUN_STARTS[start][0] else trial) + h * (w1 * v + w2 * second)


def _explain(tables, candidate, results):
    """The fewest slips (one entry of each table) that reproduce every result, or None."""
    explanations = []
    for keys in itertools.product(*tables):
        slips = [table[key][1] for table, key in zip(tables, keys) if table[key][1]]
        explanations.append((len(slips), slips, keys))
    for _, slips, keys in sorted(explanations, key=lambda item: item[0]):
        if not slips:
            continue
        try:
            if all(_close(got, candidate(*keys, field, x, t, t_next))
                   for _, field, x, t, t_next, got in results):
                return slips
        except ValueError:  # shapes that cannot come out of this explanation
            continue
    return None


def _run_steps(name, function):
    """Call ``function`` on every case: (results, None) or (None, Feedback)."""
    results = []
    for description, field, x, t, t_next in _step_cases():
        got, error = call_for_array(function, _field(field), x.copy(), t, t_next,
                                    description=description,
                                    returned_hint="; return the array x_next")
        if error is not None:
            return None, wrong(f"your {name} step, for {description}: {error.message}")
        if got.shape != x.shape:
            return None, wrong(f"your {name} step, for {description}: expected x_next of "
                               f"shape {x.shape} (the shape of x), got shape {got.shape}")
        if not np.all(np.isfinite(got)):
            return None, wrong(f"your {name} step, for {description}: x_next has NaN or "
                               "infinite values")
        results.append((description, field, x, t, t_next, got))
    return results, None


def check_ode_steps(euler_step, heun_step) -> Feedback:
    """Check one Euler and one Heun step of ``dx/dt = velocity(x, t)`` (exercise 9.2).

    ``euler_step(velocity, x, t, t_next)`` and ``heun_step(velocity, x, t, t_next)`` take a
    velocity field ``velocity(x, t)`` (``t`` a float), a batch ``x`` and two times, with
    ``t_next < t`` (sampling goes from noise at ``t = 1`` to data at ``t = 0``). Expected,
    as :func:`genlib.flow.euler_step` and :func:`genlib.flow.heun_step`:
    ``x + (t_next - t) · v(x, t)``, and the mean of the velocities at ``x`` and at that
    Euler trial point (read at ``t_next``), ``x + (t_next - t) · 0.5 · (v + v_trial)``.
    The fields are constant in time, rotating, time-dependent and non-linear.

    >>> euler = lambda velocity, x, t, t_next: x + (t_next - t) * velocity(x, t)
    >>> def heun(velocity, x, t, t_next):
    ...     v = velocity(x, t)
    ...     return x + (t_next - t) * 0.5 * (v + velocity(x, t_next))
    >>> check_ode_steps(euler, heun)  # doctest: +ELLIPSIS
    ✘ Not yet: your Heun step: the second velocity must be read at the Euler trial point...
    """
    for name, function in (("euler_step", euler_step), ("heun_step", heun_step)):
        if not callable(function):
            return wrong(f"{name} must be a function, got {type(function).__name__}: pass the "
                         "function itself (no parentheses after its name)")
    results, error = _run_steps("Euler", euler_step)
    if error is not None:
        return error
    if not all(_close(got, _euler_candidate("right", "start", "step", field, x, t, t_next))
               for _, field, x, t, t_next, got in results):
        slips = _explain((_SIGNS, _EULER_TIMES, _EULER_FORMS), _euler_candidate, results)
        if slips:
            return wrong("your Euler step: " + "; and ".join(slips))
        description, field, x, t, t_next, got = results[0]
        worst = np.abs(got - _euler_candidate("right", "start", "step", field, x, t,
                                              t_next)).max()
        return wrong(f"your Euler step, for {description}: x_next differs from "
                     f"x + (t_next - t) · velocity(x, t) by up to {worst:.3g}")
    results, error = _run_steps("Heun", heun_step)
    if error is not None:
        return error
    right = ("right", "trial", "end", "mean", "x")
    if all(_close(got, _heun_candidate(*right, field, x, t, t_next))
           for _, field, x, t, t_next, got in results):
        return correct(f"both steps match genlib.flow's euler_step and heun_step on all "
                       f"{len(results)} test cases (fields constant in time, rotating, "
                       "time-dependent and non-linear; steps ending at t = 0 included).")
    slips = _explain((_SIGNS, _HEUN_POINTS, _HEUN_TIMES, _HEUN_WEIGHTS, _HEUN_STARTS),
                     _heun_candidate, results)
    if slips:
        return wrong("your Heun step: " + "; and ".join(slips))
    description, field, x, t, t_next, got = results[0]
    worst = np.abs(got - _heun_candidate(*right, field, x, t, t_next)).max()
    return wrong(f"your Heun step, for {description}: x_next differs from Heun's "
                 f"x + (t_next - t) · 0.5 · (v(x, t) + v(trial, t_next)) by up to {worst:.3g}, "
                 "where trial = x + (t_next - t) · v(x, t)")


# ---------------------------------------------------------------------------------------------
# Exercise 9.3: classifier-free guidance
# ---------------------------------------------------------------------------------------------

_GUIDANCE_RULE = "v_u + w (v_c - v_u)"

# The usual slips: (function of v_c, v_u, w, message).
_GUIDANCE_SLIPS = [
    (lambda c, u, w: (1 + w) * c - w * u,
     "you used the other convention, (1 + w) v_c - w v_u (the one of Ho & Salimans' paper, "
     "where w = 0 is the conditional model): in this course guidance 1 is the plain "
     "conditional model and 0 the unconditional one, v_u + w (v_c - v_u)"),
    (lambda c, u, w: c + w * (u - c),
     "the two velocities are swapped: with guidance 0 you return v_conditional and with 1 "
     "v_unconditional. In this course guidance 0 is the unconditional model and 1 the "
     "conditional one: v_u + w (v_c - v_u)"),
    (lambda c, u, w: w * c,
     "you returned guidance · v_conditional alone: the unconditional velocity is missing "
     "(with guidance 0 you return no velocity at all). Start from v_u and add w times the "
     "difference the label makes: v_u + w (v_c - v_u)"),
    (lambda c, u, w: u + w * c,
     "the guidance must multiply the difference the label makes, v_c - v_u, not v_c "
     "itself: v_u + w (v_c - v_u)"),
]


def _guidance_cases():
    """(description, v_conditional, v_unconditional, guidance)."""
    rng = np.random.default_rng(93)

    def pair(shape):
        return (rng.standard_normal(shape).astype("float32"),
                rng.standard_normal(shape).astype("float32"))

    points, images = pair((4, 2)), pair((2, 4, 4))
    return [("guidance 0 on 4 points", *points, 0.0),
            ("guidance 1 on 4 points", *points, 1.0),
            ("guidance 3 on 4 points", *points, 3.0),
            ("guidance 0.5 on 2 images of 4 x 4 pixels", *images, 0.5),
            ("guidance 2 on single numbers v_c = 3, v_u = 1", 3.0, 1.0, 2),
            ("guidance 7.5 (a NumPy float) on 3 points", *pair((3, 2)), np.float32(7.5))]


def check_guided_velocity(function) -> Feedback:
    """Check ``function(v_conditional, v_unconditional, guidance)`` (exercise 9.3).

    Expected, as :func:`genlib.flow.guided_velocity`: ``v_u + w (v_c - v_u)`` for arrays
    of velocities (or single numbers) and a number ``w = guidance``: guidance 0 gives the
    unconditional velocity, 1 the conditional one, more than 1 pushes further in the
    direction the label adds. The checker names the usual slips: the paper's other
    convention ``(1 + w) v_c - w v_u``, the velocities swapped, ``w v_c`` alone.

    >>> check_guided_velocity(lambda v_c, v_u, w: v_u + w * (v_c - v_u))  # doctest: +ELLIPSIS
    ✔ Correct: ...
    >>> check_guided_velocity(lambda v_c, v_u, w: w * v_c)  # doctest: +ELLIPSIS
    ✘ Not yet: you returned guidance · v_conditional alone...
    """
    results = []
    for description, conditional, unconditional, guidance in _guidance_cases():
        args = [np.copy(v) if isinstance(v, np.ndarray) else v
                for v in (conditional, unconditional)]
        got, error = call_for_array(function, *args, guidance, description=description,
                                    returned_hint="; return the guided velocity")
        if error is not None:
            raised = error.message.startswith("your function raised")
            return wrong(f"with {description}, {error.message}") if raised else error
        shape = np.shape(conditional)
        if got.shape != shape and not (shape == () and got.size == 1):
            return wrong(f"for {description} expected a velocity of shape {shape} (the shape "
                         f"of v_conditional), got shape {got.shape}")
        results.append((description, np.asarray(conditional, float),
                        np.asarray(unconditional, float), float(guidance), got.reshape(shape)))

    def matches(rule, which=None):
        return all(_close(got, rule(c, u, w)) for description, c, u, w, got in results
                   if which is None or w == which)

    if matches(lambda c, u, w: u + w * (c - u)):
        return correct(f"your guided velocity matches {_GUIDANCE_RULE} on all {len(results)} "
                       "test cases: guidance 0 gives the unconditional velocity, 1 the "
                       "conditional one.")
    for rule, message in _GUIDANCE_SLIPS:
        if matches(rule):
            return wrong(message)
    if not matches(lambda c, u, w: u, 0.0):
        return wrong("with guidance 0 your function must return v_unconditional, the velocity "
                     f"of the model told no label: {_GUIDANCE_RULE}")
    if not matches(lambda c, u, w: c, 1.0):
        return wrong("with guidance 1 your function must return v_conditional, the plain "
                     f"conditional model's velocity: {_GUIDANCE_RULE}")
    for description, c, u, w, got in results:
        expected = u + w * (c - u)
        if not _close(got, expected):
            worst = np.abs(got - expected).max()
            return wrong(f"for {description} your velocity differs from {_GUIDANCE_RULE} by "
                         f"up to {worst:.3g}: guidance 0 and 1 are right, but the rule is "
                         "linear in w: any other guidance moves w times the difference "
                         "v_c - v_u away from v_u")
    return wrong(f"your guided velocity differs from {_GUIDANCE_RULE}")  # pragma: no cover
