"""The chapter 4 checker accepts right answers and names each usual mistake specifically."""

import random

import keras
import numpy as np
import pytest

import genlib
from genlib.exercises import Feedback
from genlib.exercises.ch04 import check_salt_and_pepper
from tests.feedback_helpers import assert_not_yet


def salt_and_pepper_class(corrupt=None, *, validate=True, config=True, base=keras.layers.Layer):
    """A salt-and-pepper layer class whose training-time ``corrupt(layer, inputs)`` can be
    replaced by a wrong one (the chapter's solution by default)."""

    def right(layer, inputs):
        draws = keras.random.uniform(keras.ops.shape(inputs), seed=layer.seed_generator)
        salt_or_pepper = keras.ops.cast(draws < layer.rate / 2, inputs.dtype)
        return keras.ops.where(draws < layer.rate, salt_or_pepper, inputs)

    corrupt = corrupt or right

    class SaltAndPepper(base):
        def __init__(self, rate, seed=None, **kwargs):
            super().__init__(**kwargs)
            if validate and not 0 <= rate <= 1:
                raise ValueError(f"rate must be in [0, 1], got {rate}")
            self.rate, self.seed = rate, seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=False):
            return corrupt(self, inputs) if training else inputs

        if config:
            def get_config(self):
                return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    return SaltAndPepper


def draws(layer, inputs, shape=None):
    shape = keras.ops.shape(inputs) if shape is None else shape
    return keras.random.uniform(shape, seed=layer.seed_generator)


def says(answer, *phrases):
    return assert_not_yet(check_salt_and_pepper(answer), *phrases)


def test_right_answers_pass():
    def with_two_draws(layer, inputs):
        hit = draws(layer, inputs) < layer.rate
        salt = draws(layer, inputs) < 0.5
        return keras.ops.where(hit, keras.ops.cast(salt, inputs.dtype), inputs)

    def with_binomial(layer, inputs):
        shape = keras.ops.shape(inputs)
        hit = keras.random.uniform(shape, seed=layer.seed_generator) < layer.rate
        value = keras.random.randint(shape, 0, 2, seed=layer.seed_generator)
        return keras.ops.where(hit, keras.ops.cast(value, inputs.dtype), inputs)

    for answer in (salt_and_pepper_class(), salt_and_pepper_class(with_two_draws),
                   salt_and_pepper_class(with_binomial, config=False)):  # Keras' own get_config
        feedback = check_salt_and_pepper(answer)
        assert isinstance(feedback, Feedback) and feedback.passed, feedback
        assert repr(feedback).startswith("✔ Correct")


def test_the_checker_leaves_the_random_generators_alone():
    # Python's and NumPy's generators are where unseeded Keras layers take their seeds.
    genlib.set_random_seed(0)
    before = (random.random(), np.random.random())
    genlib.set_random_seed(0)
    check_salt_and_pepper(salt_and_pepper_class())
    assert (random.random(), np.random.random()) == before


# --- Each typical mistake is named --------------------------------------------------------------


def test_rate_used_as_the_probability_to_keep():
    def keep(layer, inputs):
        u = draws(layer, inputs)
        return keras.ops.where(u > layer.rate, keras.ops.cast(u > (1 + layer.rate) / 2,
                                                             inputs.dtype), inputs)

    says(salt_and_pepper_class(keep), "replaced 80% of the pixels", "about 1 - rate",
         "probability that a pixel is *replaced*")


def test_only_pepper_or_only_salt():
    says(salt_and_pepper_class(lambda layer, x: keras.ops.where(draws(layer, x) < layer.rate, 0.0, x)),
         "only sets pixels to 0 (pepper)")
    says(salt_and_pepper_class(lambda layer, x: keras.ops.where(draws(layer, x) < layer.rate, 1.0, x)),
         "only sets pixels to 1 (salt)")


def test_unbalanced_salt_and_pepper():
    def mostly_salt(layer, inputs):
        u = draws(layer, inputs)
        return keras.ops.where(u < layer.rate, keras.ops.cast(u < 0.8 * layer.rate, inputs.dtype),
                               inputs)

    says(salt_and_pepper_class(mostly_salt), "80% of the replaced pixels are 1", "equal probability")


def test_wrong_fraction():
    def twice(layer, inputs):
        u = draws(layer, inputs)
        return keras.ops.where(u < 2 * layer.rate, keras.ops.cast(u < layer.rate, inputs.dtype),
                               inputs)

    says(salt_and_pepper_class(twice), "with rate=0.2 your layer replaced", "expected about 20%",
         "independently")


def test_noise_added_instead_of_replacing():
    def additive(layer, inputs):
        return inputs + keras.random.normal(keras.ops.shape(inputs), stddev=0.1,
                                            seed=layer.seed_generator)

    says(salt_and_pepper_class(additive), "neither 0 nor 1", "*replaces* a pixel")


def test_dropout_like_scaling_of_the_untouched_pixels():
    def scaled(layer, inputs):
        u = draws(layer, inputs)
        kept = inputs / (1 - layer.rate)
        return keras.ops.where(u < layer.rate, keras.ops.cast(u < layer.rate / 2, inputs.dtype), kept)

    says(salt_and_pepper_class(scaled), "multiplied by 1 / (1 - rate) = 1.25", "as Dropout does")
    says(keras.layers.Dropout, "as Dropout does")


def test_the_same_pixels_in_every_image():
    def one_mask(layer, inputs):
        u = draws(layer, inputs, shape=keras.ops.shape(inputs)[1:])
        return keras.ops.where(u < layer.rate, keras.ops.cast(u < layer.rate / 2, inputs.dtype), inputs)

    says(salt_and_pepper_class(one_mask), "every image of the batch got the very same pixels",
         "keras.ops.shape(inputs)")


def test_the_same_noise_at_every_call():
    def fixed_seed(layer, inputs):
        u = keras.random.uniform(keras.ops.shape(inputs), seed=42)
        return keras.ops.where(u < layer.rate, keras.ops.cast(u < layer.rate / 2, inputs.dtype), inputs)

    says(salt_and_pepper_class(fixed_seed), "the very same pixels", "must be new at every call",
         "SeedGenerator")


def test_seed_ignored():
    def global_generator(layer, inputs):
        u = keras.random.uniform(keras.ops.shape(inputs))
        return keras.ops.where(u < layer.rate, keras.ops.cast(u < layer.rate / 2, inputs.dtype), inputs)

    says(salt_and_pepper_class(global_generator), "same seed drew different noise",
         "SeedGenerator(seed)")


def test_corrupting_at_inference_too():
    cls = salt_and_pepper_class()
    always = type("Always", (cls,), {"call": lambda self, inputs, training=False:
                                     cls.call(self, inputs, training=True)})
    says(always, "called without a training argument changed its inputs",
         "only when training is True")


def test_doing_nothing_in_training():
    says(salt_and_pepper_class(lambda layer, inputs: inputs), "changed no pixel",
         "training=False")
    says(keras.layers.Identity, "creating Identity(0.2, seed=0) raised TypeError")


# Keras' own conversion of the eager tensors triggers a NumPy 2 DeprecationWarning.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_numpy_inside_call_fails_in_a_compiled_model():
    def with_numpy(layer, inputs):
        x = keras.ops.convert_to_numpy(inputs)
        u = keras.ops.convert_to_numpy(draws(layer, inputs))
        return np.where(u < layer.rate, (u < layer.rate / 2).astype("float32"), x)

    says(salt_and_pepper_class(with_numpy), "fit() raised", "keras.ops and keras.random")


def test_bad_rates_must_be_refused_with_a_value_error():
    says(salt_and_pepper_class(validate=False), "SaltAndPepper(1.5) was accepted", "ValueError")

    class TypeErrorForRates(salt_and_pepper_class()):
        def __init__(self, rate, seed=None, **kwargs):
            if not 0 <= rate <= 1:
                raise TypeError("bad rate")
            super().__init__(rate, seed=seed, **kwargs)

    says(TypeErrorForRates, "raised TypeError; raise a ValueError")


def test_rate_missing_from_the_config():
    class Forgetful(salt_and_pepper_class()):
        def get_config(self):
            return {"name": self.name}

    says(Forgetful, "get_config() returns", "without rate=0.2")


def test_a_valid_rate_refused():
    class Strict(salt_and_pepper_class()):
        def __init__(self, rate, seed=None, **kwargs):
            if rate in (0.0, 1.0):
                raise ValueError("rate must be strictly between 0 and 1")
            super().__init__(rate, seed=seed, **kwargs)

    says(Strict, "creating Strict(0.0, seed=1) raised ValueError", "every rate in [0, 1] is valid")


# --- Answers of the wrong kind ------------------------------------------------------------------


def test_an_instance_instead_of_the_class():
    says(salt_and_pepper_class()(0.2), "you passed a layer object", "the class itself")


@pytest.mark.parametrize("answer", [len, 0.2, None, "SaltAndPepper", np.ones(3)])
def test_not_a_layer_class(answer):
    says(answer, "expected a subclass of keras.layers.Layer")


def test_wrong_constructor_signature():
    class NoSeed(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

    # Keras refuses the unknown keyword seed= with a ValueError of its own.
    says(NoSeed, "creating NoSeed(0.2, seed=0) raised", "seed", "(self, rate, seed=None, **kwargs)")


def test_errors_raised_by_call_are_reported():
    def broken(layer, inputs):
        raise RuntimeError("not implemented yet")

    says(salt_and_pepper_class(broken), "training=True raised RuntimeError: not implemented yet")
