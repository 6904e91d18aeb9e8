"""Flow matching (chapter 9): straight paths from noise to data, ODE samplers and guidance.

Flow matching (Lipman et al. 2023; Liu et al. 2023; Albergo & Vanden-Eijnden 2023) joins
each data point ``x`` to a draw of standard normal noise ``ε`` by a straight line,
``x_t = (1 - t) x + t ε`` for ``t`` from 0 (data) to 1 (noise) (:func:`interpolate`), and
trains a network ``v_θ(x_t, t)`` to predict the velocity along it, ``ε - x``
(:func:`target_velocity`), with a plain mean squared error (:class:`FlowMatchingModel`,
:func:`fit_flow`). Generating solves the ordinary differential equation
``dx/dt = v_θ(x, t)`` backwards, from noise at ``t = 1`` to data at ``t = 0``, with a few
Euler or Heun steps (:func:`euler_step`, :func:`heun_step`, :func:`integrate`).

Time runs as in chapter 8: 0 is the data, 1 pure noise (some papers use the opposite
convention). The networks: chapter 8's U-Net told a time in [0, 1] for images
(:func:`build_velocity_unet`), a small multilayer perceptron for points and codings
(:func:`build_velocity_mlp`), which can also be told a class label, for classifier-free
guidance (:func:`guided_velocity`, Ho & Salimans 2022).

>>> import numpy as np
>>> from genlib import flow
>>> model = flow.FlowMatchingModel(flow.build_velocity_mlp(2, units=(16,)))
>>> model.sample(3, steps=4, seed=0).shape
(3, 2)
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from genlib._validation import check_instance, check_positive_int, check_real, check_seed
from genlib.data import IMAGE_SHAPE
from genlib.diffusion import SinusoidalEmbedding, build_noise_predictor
from genlib.generative import check_signed_batch
from genlib.progress import EpochProgress, StepProgress
from genlib.training import TrainingRun, warmup_cosine_adam

#: The ODE solvers of :func:`integrate` and :meth:`FlowMatchingModel.sample`, and the
#: network evaluations each takes per step.
METHODS = {"euler": 1, "heun": 2}

# ---------------------------------------------------------------------------------------------
# The straight path and its velocity
# ---------------------------------------------------------------------------------------------


def _per_example(t, x):
    """``t`` (one number, or one per example) shaped to broadcast over ``x``'s examples."""
    t = ops.convert_to_tensor(t, dtype="float32")
    if len(t.shape) > 1:
        raise ValueError(f"t must be one time, or one per example (shape (n,)), got shape "
                         f"{tuple(t.shape)}")
    if len(t.shape) == 1:
        t = ops.reshape(t, (-1,) + (1,) * (len(x.shape) - 1))
    return t


def interpolate(data, noise, t):
    """The point at time ``t`` on the straight line from ``data`` to ``noise``.

    ``x_t = (1 - t) x + t ε``: the data at ``t = 0``, pure noise at ``t = 1``. ``t`` is
    one time for all examples or one per example. Returns a float32 tensor
    (``np.asarray`` turns it into an array).

    >>> x, noise = np.array([[2.0, 0.0]]), np.array([[0.0, 4.0]])
    >>> np.asarray(interpolate(x, noise, 0.25))
    array([[1.5, 1. ]], dtype=float32)
    """
    data = ops.convert_to_tensor(data, dtype="float32")
    noise = ops.convert_to_tensor(noise, dtype="float32")
    t = _per_example(t, data)
    return (1.0 - t) * data + t * noise


def target_velocity(data, noise):
    """The velocity along the straight line, ``dx_t/dt = ε - x``: the same at every ``t``.

    >>> np.asarray(target_velocity(np.array([[2.0, 0.0]]), np.array([[0.0, 4.0]])))
    array([[-2.,  4.]], dtype=float32)
    """
    return (ops.convert_to_tensor(noise, dtype="float32")
            - ops.convert_to_tensor(data, dtype="float32"))


def guided_velocity(conditional, unconditional, guidance):
    """Classifier-free guidance: ``v_∅ + w (v_c - v_∅)``.

    ``guidance = w`` = 0 gives the unconditional velocity, 1 the conditional one, and
    more than 1 pushes further in the direction the label adds (Ho & Salimans 2022 write
    the same rule with ``1 + w`` in place of ``w``).

    >>> float(guided_velocity(np.float32(3.0), np.float32(1.0), 2.0))
    5.0
    """
    return unconditional + guidance * (conditional - unconditional)


# ---------------------------------------------------------------------------------------------
# Solving the ODE
# ---------------------------------------------------------------------------------------------


def euler_step(velocity, x, t, t_next):
    """One Euler step of ``dx/dt = velocity(x, t)`` from time ``t`` to ``t_next``.

    ``x + (t_next - t) v(x, t)``: follow the velocity at the start of the step in a
    straight line. Sampling goes backwards in time, so ``t_next < t``.

    >>> euler_step(lambda x, t: -x, np.array([1.0]), 1.0, 0.5)   # v = -x: x grows
    array([1.5])
    """
    return x + (t_next - t) * velocity(x, t)


def heun_step(velocity, x, t, t_next):
    """One Heun step (second order): the mean of the velocities at both ends of an Euler step.

    Take an Euler step to a trial point, evaluate the velocity there too, and move from
    ``x`` with the average of the two velocities: two network evaluations per step, and
    an error that shrinks with the square of the step size instead of the step size.

    >>> heun_step(lambda x, t: -x, np.array([1.0]), 1.0, 0.5)
    array([1.625])
    """
    v = velocity(x, t)
    trial = x + (t_next - t) * v
    return x + (t_next - t) * 0.5 * (v + velocity(trial, t_next))


def check_steps(steps, name: str = "steps") -> int:
    """``steps`` as a positive int (the ODE solver's steps), or a ValueError.

    >>> check_steps(0)
    Traceback (most recent call last):
    ...
    ValueError: steps must be an integer >= 1 (the solver's steps from noise to data), got 0
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{name} must be an integer >= 1 (the solver's steps from noise to "
                         f"data), got {steps!r}")
    return int(steps)


def check_method(method) -> str:
    """``method`` if it is one of :data:`METHODS`, else a ValueError.

    >>> check_method("rk4")
    Traceback (most recent call last):
    ...
    ValueError: method must be one of 'euler', 'heun', got 'rk4'
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got "
                         f"{method!r}")
    return method


def integrate(velocity, noise, *, steps: int, method: str = "euler",
              trajectory: bool = False):
    """Solve ``dx/dt = velocity(x, t)`` from ``noise`` at ``t = 1`` to ``t = 0``.

    ``steps`` equal steps of :func:`euler_step` or :func:`heun_step` (``method``). Returns
    the end points, and with ``trajectory=True`` also every intermediate state, stacked
    on a new axis 1 (``steps + 1`` states, the noise first).

    >>> # The velocity of the line from (1, 1) at t = 0 to any noise point:
    >>> noise = np.array([[3.0, -1.0]])
    >>> integrate(lambda x, t: (x - 1.0) / t, noise, steps=1)   # one step is exact
    array([[1., 1.]])
    """
    steps, method = check_steps(steps), check_method(method)
    step = euler_step if method == "euler" else heun_step
    times = np.linspace(1.0, 0.0, steps + 1)
    x, kept = noise, [noise]
    for t, t_next in zip(times[:-1], times[1:]):
        x = step(velocity, x, float(t), float(t_next))
        if trajectory:
            kept.append(x)
    return (x, np.stack([np.asarray(k) for k in kept], axis=1)) if trajectory else x


# ---------------------------------------------------------------------------------------------
# Velocity networks
# ---------------------------------------------------------------------------------------------


def build_velocity_unet(image_shape=IMAGE_SHAPE, *, filters=(32, 64, 64),
                        time_dim: int = 128) -> keras.Model:
    """Chapter 8's U-Net (:func:`genlib.diffusion.build_noise_predictor`) told a time in [0, 1].

    The same layers and weights as the noise predictor: only the meaning of its output
    changes (a velocity instead of a noise), so a comparison of the two at the same
    training budget compares the objectives, not the networks.

    >>> network = build_velocity_unet(filters=(8, 16))
    >>> [tuple(shape) for shape in network.input_shape], network.output_shape
    ([(None, 28, 28), (None,)], (None, 28, 28))
    """
    return build_noise_predictor(image_shape, filters=filters, time_dim=time_dim,
                                 time="fraction")


def build_velocity_mlp(dim: int, *, units=(256, 256, 256), time_dim: int = 64,
                       n_classes: int | None = None) -> keras.Model:
    """A velocity network for points or codings: dense layers told the time (and a label).

    Inputs ``[x_t, t]`` (vectors of ``dim`` numbers, times in [0, 1]), plus ``label`` (int
    class indices) when ``n_classes`` is given. The time goes through a
    :class:`~genlib.diffusion.SinusoidalEmbedding` (of ``1000 t``, the scale of chapter 8's
    steps); a label through a learned embedding with ``n_classes + 1`` rows, the last of
    which stands for "no label" (classifier-free guidance trains the network with and
    without labels). Both are concatenated to ``x_t`` and go through dense layers with
    swish activations; the output layer starts at zero.

    Parameters
    ----------
    dim : int
        Size of each point (2 for the toy data, the coding size for codings).
    units : sequence of int, default (256, 256, 256)
        Sizes of the hidden layers.
    time_dim : int, default 64
        Size of the time's (and the label's) embedding; even.
    n_classes : int, optional
        Number of classes of the labels; ``None`` (the default) for no label input.

    Examples
    --------
    >>> network = build_velocity_mlp(10, units=(32, 32), n_classes=10)
    >>> [tuple(shape) for shape in network.input_shape], network.output_shape
    ([(None, 10), (None,), (None,)], (None, 10))
    """
    dim = check_positive_int(dim, "dim")
    units = tuple(check_positive_int(u, "units") for u in np.atleast_1d(units))
    time_dim = check_positive_int(time_dim, "time_dim", minimum=2)
    if time_dim % 2:
        raise ValueError(f"time_dim must be even (one sine and one cosine per frequency), "
                         f"got {time_dim}")
    if n_classes is not None:
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)

    points = keras.Input((dim,), name="x_t")
    times = keras.Input((), dtype="float32", name="t")
    inputs = [points, times]
    scaled = keras.layers.Rescaling(1000.0)(times)
    features = [points, SinusoidalEmbedding(time_dim, name="time_embedding")(scaled)]
    if n_classes is not None:
        labels = keras.Input((), dtype="int32", name="label")
        inputs.append(labels)
        # Row n_classes is "no label": the unconditional model lives in the same network.
        features.append(keras.layers.Embedding(n_classes + 1, time_dim,
                                               name="label_embedding")(labels))
    x = keras.layers.Concatenate(name="inputs")(features)
    for i, size in enumerate(units):
        x = keras.layers.Dense(size, activation="swish", name=f"dense{i}")(x)
    velocity = keras.layers.Dense(dim, kernel_initializer="zeros", name="velocity")(x)
    return keras.Model(inputs, velocity, name="velocity_mlp")


# ---------------------------------------------------------------------------------------------
# The model: training and sampling
# ---------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="genlib")
class FlowMatchingModel(keras.Model):
    """A velocity network trained by flow matching, and its ODE sampler.

    Each training step (:meth:`train_step`) draws a time ``t ~ U(0, 1)`` and standard normal
    noise ``ε`` for every example of the batch, makes ``x_t = (1 - t) x + t ε``
    (:func:`interpolate`), and minimizes the mean squared error between the network's
    velocity ``v_θ(x_t, t)`` and ``ε - x`` (:func:`target_velocity`). Images must be in
    [-1, 1] (:func:`genlib.diffusion.to_diffusion_range`).

    A network with a label input (:func:`build_velocity_mlp` with ``n_classes``) makes a
    class-conditional model: training replaces each label by "no label" with probability
    ``label_dropout``, so that the network learns both velocities, and sampling mixes
    them with a ``guidance`` weight (:func:`guided_velocity`).

    Parameters
    ----------
    network : keras.Model
        ``[x_t, t] → velocity`` (or ``[x_t, t, label] → velocity``), e.g.
        :func:`build_velocity_unet` or :func:`build_velocity_mlp`.
    sampling_steps : int, default 16
        The default number of solver steps of :meth:`sample`.
    sampling_method : {"euler", "heun"}, default "euler"
        The default solver of :meth:`sample`.
    guidance : float, default 1.0
        The default guidance weight of a conditional model's :meth:`sample` (0: ignore the
        label, 1: plain conditional model, more: guided).
    label_dropout : float, default 0.1
        Share of the labels replaced by "no label" during training (conditional models).
    seed : int, optional
        Seed of the times, noise and dropped labels drawn during training.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
    >>> model = FlowMatchingModel(build_velocity_mlp(2, units=(16,)), seed=0)
    >>> result = fit_flow(model, x, epochs=2, steps_per_epoch=3, batch_size=64,
    ...                   warmup_steps=1)
    >>> model.sample(5, steps=2, seed=0).shape
    (5, 2)
    """

    def __init__(self, network, *, sampling_steps: int = 16, sampling_method: str = "euler",
                 guidance: float = 1.0, label_dropout: float = 0.1,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(network, keras.Model):
            raise TypeError(f"network must be a keras.Model, got {type(network).__name__}")
        inputs = network.inputs if network.built else None
        if not inputs or len(inputs) not in (2, 3):
            raise ValueError("network must be a built model with inputs [x_t, t] or [x_t, t, "
                             "label] (e.g. build_velocity_unet() or build_velocity_mlp(2))")
        self.network = network
        self.data_shape = tuple(int(side) for side in inputs[0].shape[1:])
        if tuple(network.output_shape[1:]) != self.data_shape:
            raise ValueError(f"the network must output a velocity of the shape of its input "
                             f"{self.data_shape}, got {tuple(network.output_shape[1:])}")
        self.n_classes = None
        if len(inputs) == 3:
            names = [layer.name for layer in network.layers]
            if "label_embedding" not in names:
                raise ValueError("a network with a third (label) input must embed it in a "
                                 "layer named 'label_embedding' with n_classes + 1 rows, as "
                                 "build_velocity_mlp(..., n_classes=10) does")
            self.n_classes = network.get_layer("label_embedding").input_dim - 1
        self.sampling_steps = check_steps(sampling_steps, "sampling_steps")
        self.sampling_method = check_method(sampling_method)
        self.guidance = _check_guidance(guidance, "guidance")
        self.label_dropout = check_real(label_dropout, "label_dropout", low=0, high=1,
                                        high_open=True, hint=" (0.1 is usual)")
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._compiled = {}
        self.built = True  # the network is built

    @property
    def images(self) -> bool:
        """Whether the data are images (2-D), returned in [0, 1] by :meth:`sample`."""
        return len(self.data_shape) == 2

    # -- training -----------------------------------------------------------------------------

    def train_step(self, data):
        data, noise, labels = _unpack(data)
        batch_size = ops.shape(data)[0]
        if noise is None:
            noise = keras.random.normal(ops.shape(data), seed=self.seed_generator)
        t = keras.random.uniform((batch_size,), seed=self.seed_generator)
        inputs = [interpolate(data, noise, t), t]
        if self.n_classes is not None:
            if labels is None:
                raise ValueError("this model is class-conditional: train it on (data, "
                                 "labels), e.g. fit_flow(model, x, labels=y, ...)")
            dropped = keras.random.uniform((batch_size,), seed=self.seed_generator)
            inputs.append(ops.where(dropped < self.label_dropout, self.n_classes,
                                    ops.cast(labels, "int32")))
        with tf.GradientTape() as tape:
            velocity = self.network(inputs, training=True)
            loss = ops.mean(ops.square(target_velocity(data, noise) - velocity))
        weights = self.network.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    # -- the velocity ---------------------------------------------------------------------------

    def check_batch(self, x, name: str = "x") -> np.ndarray:
        """``x`` as a float32 batch of the model's data shape, or a clear error.

        >>> FlowMatchingModel(build_velocity_mlp(2, units=(8,))).check_batch([[0, 1]]).dtype
        dtype('float32')
        """
        x = np.asarray(x, dtype="float32")
        if x.shape[1:] != self.data_shape:
            raise ValueError(f"{name} has shape {x.shape}; the model works on batches of shape "
                             f"(n, {', '.join(map(str, self.data_shape))})")
        return x

    def check_labels(self, labels, n: int):
        """``labels`` as n int32 class indices (or None), or a clear error."""
        if labels is None:
            return None
        if self.n_classes is None:
            raise ValueError("this model has no label input: sample without labels, or "
                             "train a conditional model (build_velocity_mlp(..., n_classes=10))")
        array = np.asarray(labels)
        if array.ndim == 0:
            array = np.full(n, array)
        if array.dtype.kind not in "iu":
            raise ValueError(f"labels must be integer class indices, got {array.dtype} values")
        if array.shape != (n,):
            raise ValueError(f"labels must hold one class per example, shape ({n},), got "
                             f"shape {array.shape}")
        if array.size and (array.min() < 0 or array.max() >= self.n_classes):
            raise ValueError(f"labels must be class indices in [0, {self.n_classes}), got "
                             f"values in [{array.min()}, {array.max()}]")
        return array.astype("int32")

    def _velocity_function(self, conditional: bool, guided: bool):
        """The compiled velocity: unconditional, conditional, or guided (one graph each)."""
        key = (conditional, guided)
        if key not in self._compiled:
            def velocity(x, t, labels, guidance):
                times = ops.full((ops.shape(x)[0],), t)
                if self.n_classes is None:
                    return self.network([x, times], training=False)
                empty = ops.full(ops.shape(labels), self.n_classes)
                if not conditional:
                    return self.network([x, times, empty], training=False)
                if not guided:
                    return self.network([x, times, labels], training=False)
                # One call on both halves: the conditional and the unconditional velocity.
                both = self.network([ops.concatenate([x, x]), ops.concatenate([times, times]),
                                     ops.concatenate([labels, empty])], training=False)
                v_conditional, v_unconditional = ops.split(both, 2)
                return guided_velocity(v_conditional, v_unconditional, guidance)

            batch = tf.TensorSpec([None, *self.data_shape], tf.float32)
            signature = [batch, tf.TensorSpec([], tf.float32), tf.TensorSpec([None], tf.int32),
                         tf.TensorSpec([], tf.float32)]
            self._compiled[key] = tf.function(velocity, input_signature=signature)
        return self._compiled[key]

    def velocity_field(self, labels=None, guidance: float | None = None):
        """The function ``(x, t) → v`` that :meth:`sample` integrates, on NumPy arrays.

        With ``labels`` (a conditional model), the velocity is guided with ``guidance``
        (default :attr:`guidance`); without, it is the unconditional one.

        >>> model = FlowMatchingModel(build_velocity_mlp(2, units=(8,)))
        >>> model.velocity_field()(np.ones((3, 2), "float32"), 0.5)   # zero-initialized head
        array([[0., 0.],
               [0., 0.],
               [0., 0.]], dtype=float32)
        """
        guidance = _check_guidance(self.guidance if guidance is None else guidance)
        conditional = labels is not None and guidance != 0
        function = self._velocity_function(conditional, conditional and guidance != 1)

        def velocity(x, t):
            x = self.check_batch(x)
            checked = self.check_labels(labels, len(x))
            if checked is None:
                checked = np.zeros(len(x), "int32")
            t = check_real(float(t), "t", low=0, high=1)
            return function(x, np.float32(t), checked, np.float32(guidance)).numpy()

        return velocity

    # -- sampling -----------------------------------------------------------------------------

    def sample(self, n: int, *, labels=None, guidance: float | None = None,
               steps: int | None = None, method: str | None = None,
               seed: int | None = None, progress: bool = False, trajectory: bool = False):
        """``n`` samples: noise carried from ``t = 1`` to ``t = 0`` along the learned flow.

        ``steps`` steps of the ``method`` solver (:func:`integrate`; defaults
        :attr:`sampling_steps`, :attr:`sampling_method`); ``labels`` (one class, or one
        per sample) with a ``guidance`` weight for a conditional model. Images come back in
        [0, 1] (clipped), points and codings as they are; ``trajectory=True`` also returns
        every intermediate state, of shape (n, steps + 1, ...), in the data's own scale.

        >>> model = FlowMatchingModel(build_velocity_unet(filters=(8, 16)))
        >>> images = model.sample(2, steps=3, seed=0)
        >>> images.shape, bool(images.min() >= 0 and images.max() <= 1)
        ((2, 28, 28), True)
        """
        n = check_positive_int(n, "n")
        steps = check_steps(self.sampling_steps if steps is None else steps)
        method = check_method(self.sampling_method if method is None else method)
        labels = self.check_labels(labels, n)
        velocity = self.velocity_field(labels, guidance)
        if progress:
            velocity = _counted(velocity, StepProgress(steps * METHODS[method],
                                                       "network call"))
        rng = np.random.default_rng(check_seed(seed))
        noise = rng.standard_normal((n, *self.data_shape)).astype("float32")
        result = integrate(velocity, noise, steps=steps, method=method,
                           trajectory=trajectory)
        x, path = result if trajectory else (result, None)
        if self.images:
            x = np.clip((x + 1.0) / 2.0, 0.0, 1.0)
        return (x, path) if trajectory else x

    # -- saving -------------------------------------------------------------------------------

    def get_config(self):
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "sampling_steps": self.sampling_steps,
            "sampling_method": self.sampling_method,
            "guidance": self.guidance,
            "label_dropout": self.label_dropout,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)


def _check_guidance(guidance, name: str = "guidance") -> float:
    return check_real(guidance, name, low=0, hint=" (0: unconditional, 1: conditional, "
                      "more: guided)")


def _unpack(data):
    """(data, noise or None, labels or None) from a batch: an array, (x, labels) or a dict."""
    if isinstance(data, dict):
        return data["data"], data.get("noise"), data.get("labels")
    if isinstance(data, (tuple, list)):
        x, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        return x, None, labels
    return data, None, None


def _counted(velocity, bar):
    """``velocity``, advancing a progress bar at each call."""
    calls = [0]

    def counted(x, t):
        calls[0] += 1
        bar.update(calls[0])
        return velocity(x, t)

    return counted


# ---------------------------------------------------------------------------------------------
# Training with the course's settings
# ---------------------------------------------------------------------------------------------


def flow_dataset(data, *, labels=None, noise=None, batch_size: int = 128,
                 seed: int | None = None):
    """A ``tf.data`` pipeline of dicts ``{"data", "labels"?, "noise"?}``: shuffled, batched.

    ``noise`` pairs each example with a fixed noise (reflow); ``labels`` with its class.
    Full batches only; repeat it for more than one pass.

    >>> batch = next(iter(flow_dataset(np.zeros((10, 2)), labels=np.arange(10),
    ...                                batch_size=4, seed=0)))
    >>> sorted(batch), tuple(batch["data"].shape)
    (['data', 'labels'], (4, 2))
    """
    columns = {"data": np.asarray(data, dtype="float32")}
    n = len(columns["data"])
    seed = check_seed(seed)
    for name, values, dtype in (("labels", labels, "int32"), ("noise", noise, "float32")):
        if values is None:
            continue
        values = np.asarray(values)
        if len(values) != n:
            raise ValueError(f"{name} must have one entry per example ({n}), got "
                             f"{len(values)}")
        if name == "labels" and values.dtype.kind not in "iu":
            raise ValueError(f"labels must be integer class indices, got {values.dtype} "
                             "values")
        if name == "noise" and not np.all(np.isfinite(values)):
            raise ValueError("noise contains NaN or infinite values")
        columns[name] = values.astype(dtype)
    if "noise" in columns and columns["noise"].shape != columns["data"].shape:
        raise ValueError(f"noise must have the shape of the data {columns['data'].shape}, "
                         f"got {columns['noise'].shape}")
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size > n:
        raise ValueError(f"batch_size={batch_size} is larger than the {n} examples")
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def fit_flow(model: FlowMatchingModel, data, *, labels=None, noise=None, epochs: int,
             steps_per_epoch: int = 100, batch_size: int = 128,
             learning_rate: float = 2e-3, warmup_steps: int | None = None,
             ema_momentum: float | None = 0.99, callbacks=(),
             seed: int | None = 42) -> TrainingRun:
    """Train a flow-matching model with chapter 8's recipe; return its history and time.

    The optimizer of :func:`genlib.diffusion.fit_diffusion`
    (:func:`genlib.training.warmup_cosine_adam`: Adam, warm-up, cosine decay, an
    average of the weights), so that the two objectives compare at the same budget. An
    *epoch* is ``steps_per_epoch`` steps of ``batch_size`` examples. ``data`` are images
    in [-1, 1] of the network's shape, or vectors; ``labels`` are required by a
    conditional model; ``noise`` fixes each example's noise (reflow, chapter 9).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(200, 2)).astype("float32")
    >>> model = FlowMatchingModel(build_velocity_mlp(2, units=(16,)))
    >>> result = fit_flow(model, x, epochs=2, steps_per_epoch=3, batch_size=50,
    ...                   warmup_steps=1)
    >>> len(result.history.history["loss"]), int(model.optimizer.iterations)
    (2, 6)
    """
    check_instance(model, "model", FlowMatchingModel, what="a FlowMatchingModel",
                   example="FlowMatchingModel(build_velocity_unet())")
    data = _check_data(model, data)
    if model.n_classes is not None and labels is None:
        raise ValueError("this model is class-conditional: pass labels=, one class per "
                         "example")
    if labels is not None:
        labels = model.check_labels(labels, len(data))
    optimizer = warmup_cosine_adam(epochs=epochs, steps_per_epoch=steps_per_epoch,
                                   learning_rate=learning_rate, warmup_steps=warmup_steps,
                                   ema_momentum=ema_momentum)
    model.compile(optimizer)
    dataset = flow_dataset(data, labels=labels, noise=noise, batch_size=batch_size,
                           seed=seed).repeat()
    start = time.perf_counter()
    # With use_ema, fit swaps the averaged weights in at the end of training.
    history = model.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        verbose=0, shuffle=False, callbacks=list(callbacks))
    return TrainingRun(history, time.perf_counter() - start)


def _check_data(model, data):
    if model.images:
        return check_signed_batch(
            data, model.data_shape, "data", works_on="the model works on",
            range_hint="scale images in [0, 1] with genlib.diffusion.to_diffusion_range(x)")
    data = model.check_batch(data, "data")
    if not np.all(np.isfinite(data)):
        raise ValueError("data contains NaN or infinite values")
    return data


class FlowProgress(EpochProgress):
    """A progress bar over the epochs, and a row of samples every few epochs (images only).

    The samples come from the same noise each time, with a cheap ``sample_steps``-step
    Euler solver and the current weights (not their moving average).

    >>> FlowProgress(every=5).bar(3, 10, {"loss": 0.5}, seconds=4.2)
    'epoch  3/10 ━━━━━━━━━━────────────────────── loss 0.500 · 4 s'
    """

    shown_logs = ("loss",)

    def __init__(self, every: int = 5, n_images: int = 8, sample_steps: int = 8,
                 show_images=True, seed: int = 0):
        super().__init__(every=every, n_images=n_images, show_images=show_images, seed=seed)
        self.sample_steps = check_positive_int(sample_steps, "sample_steps")

    def on_train_begin(self, logs=None):
        self.show_images = self.show_images and self.model.images
        super().on_train_begin(logs)

    def sample(self, n_images):
        return self.model.sample(n_images, steps=self.sample_steps, seed=self.seed)


class LatentFlow:
    """Generation in an autoencoder's latent space: a flow over codings, then the decoder.

    The flow (a :class:`FlowMatchingModel` over vectors) is trained on the codings of real
    images, standardized (``(codings - mean) / scale``, per dimension, so that they have
    the noise's scale); :meth:`sample` runs the flow, undoes the standardization and
    decodes. The encoder is used once, to make the training data; generating needs only
    the flow and the decoder (Rombach et al. 2022).

    Parameters
    ----------
    flow : FlowMatchingModel
        Over vectors of the coding size.
    decoder : keras.Model
        Codings → images in [0, 1].
    mean, scale : arrays of the coding size
        The standardization of the codings (:meth:`standardize` computes them).

    Examples
    --------
    >>> codings = np.random.default_rng(0).normal(3.0, 2.0, (100, 4))
    >>> mean, scale = LatentFlow.standardize(codings)
    >>> decoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(784,
    ...                             activation="sigmoid"), keras.layers.Reshape((28, 28))])
    >>> latent = LatentFlow(FlowMatchingModel(build_velocity_mlp(4, units=(8,))), decoder,
    ...                     mean=mean, scale=scale)
    >>> latent.sample(3, seed=0).shape
    (3, 28, 28)
    """

    def __init__(self, flow: FlowMatchingModel, decoder, *, mean, scale):
        self.flow = check_instance(flow, "flow", FlowMatchingModel, what="a FlowMatchingModel",
                                   example="FlowMatchingModel(build_velocity_mlp(10))")
        if flow.images:
            raise ValueError("flow must work on codings (vectors), not on images")
        self.decoder = decoder
        self.mean = np.asarray(mean, dtype="float32")
        self.scale = np.asarray(scale, dtype="float32")
        for name, values in (("mean", self.mean), ("scale", self.scale)):
            if values.shape != flow.data_shape:
                raise ValueError(f"{name} must have the codings' shape {flow.data_shape}, "
                                 f"got {values.shape}")
        if not np.all(self.scale > 0):
            raise ValueError("scale must be positive in every dimension")

    @staticmethod
    def standardize(codings):
        """The per-dimension mean and standard deviation of ``codings`` (n, coding size)."""
        codings = np.asarray(codings, dtype="float64")
        if codings.ndim != 2 or len(codings) < 2:
            raise ValueError(f"codings must have shape (n, coding size) with n >= 2, got "
                             f"{codings.shape}")
        return codings.mean(axis=0).astype("float32"), codings.std(axis=0).astype("float32")

    def to_flow(self, codings):
        """Codings in the flow's standardized space."""
        return (np.asarray(codings, dtype="float32") - self.mean) / self.scale

    def sample(self, n: int, *, labels=None, guidance: float | None = None,
               steps: int | None = None, method: str | None = None,
               seed: int | None = None):
        """``n`` images in [0, 1]: codings from the flow (see
        :meth:`FlowMatchingModel.sample`), decoded."""
        codings = self.flow.sample(n, labels=labels, guidance=guidance, steps=steps,
                                   method=method, seed=seed)
        images = np.asarray(self.decoder.predict(codings * self.scale + self.mean,
                                                 verbose=0, batch_size=1000))
        if images.shape[-1] == 1:  # a channel axis
            images = images[..., 0]
        return np.clip(images, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Measuring a flow: how straight, how far from its many-step result
# ---------------------------------------------------------------------------------------------


def straightness(path) -> float:
    """How far a sampled path is from a straight line: 0 for perfectly straight paths.

    Liu et al. (2023) measure a flow by ``∫ E‖(x_1 - x_0) - dx_t/dt‖² dt``: the squared
    difference between the velocity along the path and the one straight segment from its
    start to its end. On a path of equal time steps (``path`` of shape (n, steps + 1, ...)
    from :meth:`FlowMatchingModel.sample` with ``trajectory=True``), the velocity of each
    step is its displacement divided by ``1 / steps``; the result is averaged over steps,
    examples and coordinates.

    >>> line = np.linspace([0.0, 0.0], [1.0, 2.0], 5)[None]          # a straight path
    >>> straightness(line)
    0.0
    >>> round(straightness(np.array([[[0.0], [1.0], [0.0]]])), 2)     # there and back
    4.0
    """
    path = np.asarray(path, dtype="float64")
    if path.ndim < 3 or path.shape[1] < 2:
        raise ValueError(f"path must have shape (n, steps + 1, ...), with at "
                         f"least 2 states, got {path.shape}")
    steps = path.shape[1] - 1
    velocities = np.diff(path, axis=1) * steps
    overall = (path[:, -1] - path[:, 0])[:, None]
    return float(np.mean((velocities - overall) ** 2))


def few_step_error(model: FlowMatchingModel, n: int, steps: int, *,
                   reference_steps: int = 128, method: str = "euler", labels=None,
                   seed: int = 0) -> float:
    """Root mean squared distance between ``steps``-step samples and ``reference_steps``-step ones.

    Both start from the same noise, so the difference is the solver's error alone: 0
    for a flow whose paths are straight lines, which one Euler step follows exactly.
    Measured in the data's own scale, per coordinate.

    >>> model = FlowMatchingModel(build_velocity_mlp(2, units=(8,)))
    >>> few_step_error(model, 4, 1)      # an untrained network: no velocity, no error
    0.0
    """
    check_instance(model, "model", FlowMatchingModel, what="a FlowMatchingModel",
                   example="FlowMatchingModel(build_velocity_mlp(2))")
    reference_steps = check_steps(reference_steps, "reference_steps")
    kwargs = {"labels": labels, "seed": seed, "method": method, "trajectory": True}
    _, few = model.sample(n, steps=steps, **kwargs)
    _, many = model.sample(n, steps=reference_steps, **kwargs)
    return float(np.sqrt(np.mean((few[:, -1] - many[:, -1]) ** 2)))
