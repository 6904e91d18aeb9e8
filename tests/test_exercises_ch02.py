"""The chapter 2 checkers accept right answers and name each usual mistake specifically."""

import keras
import numpy as np
import pytest

from genlib.exercises import Feedback
from genlib.exercises.ch02 import check_parameter_count, check_tied_autoencoder
from genlib.layers import DenseTranspose
from genlib.stacked import StackedAutoencoder
from tests.feedback_helpers import assert_not_yet

Dense = keras.layers.Dense


# --- Exercise 2.1: tie the weights yourself -------------------------------------------------


def make_encoder(units=(300, 150), activation="selu", image_shape=(28, 28)):
    return keras.Sequential([keras.Input(image_shape), keras.layers.Flatten(),
                             *[Dense(n, activation=activation) for n in units]])


def tied_decoder(encoder, hidden="selu", output="sigmoid", shape=(28, 28)):
    """The right decoder: decoder layer N-L+1 reuses encoder layer L."""
    dense = encoder.layers[1:]
    layers = [DenseTranspose(layer, activation=hidden) for layer in reversed(dense[1:])]
    layers.append(DenseTranspose(dense[0], activation=output))
    return keras.Sequential([keras.Input((dense[-1].units,)), *layers, keras.layers.Reshape(shape)])


def hand_built(**kwargs):
    encoder = make_encoder()
    return keras.Sequential([encoder, tied_decoder(encoder, **kwargs)])


class EncoderDecoder(keras.Model):
    """A subclassed model; its parts need not be built (so wrongly tied decoders can exist)."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def call(self, inputs):
        return self.decoder(self.encoder(inputs))


def says(model, *phrases, **kwargs):
    return assert_not_yet(check_tied_autoencoder(model, **kwargs), *phrases)


def test_right_tied_autoencoders_pass():
    encoder = make_encoder()
    decoder = tied_decoder(encoder)
    inputs = keras.Input((28, 28))
    answers = {
        "Sequential of two Sequentials": keras.Sequential([encoder, decoder]),
        "functional": keras.Model(inputs, decoder(encoder(inputs))),
        "subclassed": EncoderDecoder(encoder, decoder),
        "StackedAutoencoder": StackedAutoencoder((300, 150), tied=True),
    }
    for name, model in answers.items():
        feedback = check_tied_autoencoder(model)
        assert isinstance(feedback, Feedback) and feedback.passed, (name, feedback)
        assert repr(feedback).startswith("✔ Correct")
        assert "281,734 parameters" in feedback.message


def test_flat_model_and_other_sizes_pass():
    encoder = make_encoder()
    flat = keras.Sequential([keras.Input((28, 28)), *encoder.layers,
                             *tied_decoder(encoder).layers])
    assert check_tied_autoencoder(flat).passed
    three = StackedAutoencoder((64, 32, 8), image_shape=(6, 6), tied=True)
    assert check_tied_autoencoder(three, coding_sizes=(64, 32, 8), image_shape=(6, 6)).passed


def test_untied_decoder_is_told_to_use_dense_transpose():
    says(StackedAutoencoder((300, 150)), "decoder layer 1 is a plain Dense layer",
         "use DenseTranspose(<encoder layer 2>)")
    encoder = make_encoder()
    half = keras.Sequential([keras.Input((150,)),
                             DenseTranspose(encoder.layers[2], activation="selu"),
                             Dense(784, activation="sigmoid"), keras.layers.Reshape((28, 28))])
    says(keras.Sequential([encoder, half]), "decoder layer 2 is a plain Dense layer",
         "DenseTranspose(<encoder layer 1>)")


def test_decoder_tied_in_the_wrong_order():
    encoder = make_encoder()
    # Not buildable with these shapes, so only as parts that are not built yet.
    reversed_ties = keras.Sequential([DenseTranspose(encoder.layers[1], activation="selu"),
                                      DenseTranspose(encoder.layers[2], activation="sigmoid"),
                                      keras.layers.Reshape((28, 28))])
    says(EncoderDecoder(encoder, reversed_ties),
         "decoder layer 1 is tied to encoder layer 1 (300 units)",
         "decoder layer N-L+1 must reuse encoder layer L",
         "the first decoder layer reuses the coding layer")
    # With equal sizes the wrong order even runs: the checker still sees it.
    encoder = make_encoder((16, 16), image_shape=(16,))
    decoder = keras.Sequential([keras.Input((16,)),
                                DenseTranspose(encoder.layers[1], activation="selu"),
                                DenseTranspose(encoder.layers[2], activation="sigmoid"),
                                keras.layers.Reshape((16,))])
    says(keras.Sequential([encoder, decoder]), "decoder layer 1 is tied to encoder layer 1",
         "must be tied to encoder layer 2", coding_sizes=(16, 16), image_shape=(16,))


def test_tied_to_a_layer_outside_the_encoder():
    encoder, copy = make_encoder(), make_encoder()
    decoder = keras.Sequential([keras.Input((150,)),
                                DenseTranspose(copy.layers[2], activation="selu"),
                                DenseTranspose(encoder.layers[1], activation="sigmoid"),
                                keras.layers.Reshape((28, 28))])
    says(keras.Sequential([encoder, decoder]), "decoder layer 1 is tied to the Dense layer",
         "not a layer of your encoder")


def test_wrong_sizes_and_missing_layers():
    says(StackedAutoencoder((200, 150), tied=True), "[200, 150] units", "expected [300, 150]")
    says(StackedAutoencoder((300,), tied=True), "[300] units", "expected [300, 150]")
    encoder = make_encoder()
    one_tie = keras.Sequential([DenseTranspose(encoder.layers[2], activation="selu")])
    says(EncoderDecoder(encoder, one_tie), "1 DenseTranspose layer(s); expected 2")


def test_wrong_activations():
    says(StackedAutoencoder((300, 150), tied=True, activation="relu"),
         "encoder layer 1 uses the 'relu' activation", 'activation="selu"')
    says(hand_built(hidden="relu"), "decoder layer 1 (a hidden layer) uses the 'relu' activation")
    says(hand_built(output=None), "decoder layer 2 (the output layer) uses the 'linear'",
         'activation="sigmoid"', "[0, 1]")


def test_wrong_output_shape_and_errors():
    encoder = make_encoder()
    no_reshape = keras.Sequential([keras.Input((150,)),
                                   DenseTranspose(encoder.layers[2], activation="selu"),
                                   DenseTranspose(encoder.layers[1], activation="sigmoid")])
    says(keras.Sequential([encoder, no_reshape]), "outputs shape (3, 784)", "expected (3, 28, 28)",
         "Reshape((28, 28))")

    class Broken(EncoderDecoder):
        def call(self, inputs):
            raise RuntimeError("oops")

    says(Broken(encoder, tied_decoder(encoder)), "raised RuntimeError: oops")
    says("not a model", "expected a Keras model, got str")


def test_extra_parameters_are_counted():
    encoder = make_encoder()
    decoder = keras.Sequential([keras.Input((150,)),
                                DenseTranspose(encoder.layers[2], activation="selu"),
                                keras.layers.LayerNormalization(),
                                DenseTranspose(encoder.layers[1], activation="sigmoid"),
                                keras.layers.Reshape((28, 28))])
    says(keras.Sequential([encoder, decoder]), "your model has 282334 parameters",
         "has 281734 (each kernel counted once)")


def test_frozen_shared_kernel_is_reported():
    model = hand_built()
    model.layers[0].trainable = False
    says(model, "not among the model's trainable weights")


def test_checker_does_not_change_the_model():
    model = StackedAutoencoder((300, 150), tied=True)
    before = [w.copy() for w in model.get_weights()]
    check_tied_autoencoder(model)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


# --- Exercise 2.2: count the parameters -----------------------------------------------------


def count_parameters(coding_sizes, tied, n_inputs=784):
    sizes = (n_inputs, *coding_sizes)
    kernels = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    encoder_biases = sum(coding_sizes)
    decoder_biases = n_inputs + sum(coding_sizes[:-1])
    return kernels * (1 if tied else 2) + encoder_biases + decoder_biases


def count_by_layers(coding_sizes, tied, n_inputs=784):
    """Another right answer, layer by layer, returning a NumPy integer."""
    total = np.int64(0)
    inputs = n_inputs
    for units in coding_sizes:
        total += inputs * units * (1 if tied else 2) + units + inputs
        inputs = units
    return total


def count_says(function, *phrases):
    feedback = check_parameter_count(function)
    assert isinstance(feedback, Feedback)
    assert not feedback.passed, feedback
    assert repr(feedback).startswith("✘ Not yet")
    for phrase in phrases:
        assert phrase in feedback.message, feedback.message


def test_right_counts_pass():
    for answer in (count_parameters, count_by_layers):
        feedback = check_parameter_count(answer)
        assert feedback.passed, feedback
        assert "all 10 configurations" in feedback.message


def kernels(coding_sizes, n_inputs=784):
    sizes = (n_inputs, *coding_sizes)
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def test_count_mistakes_are_named():
    count_says(lambda c, t, n=784: kernels(c, n) * (1 if t else 2), "forgot the biases")
    count_says(lambda c, t, n=784: count_parameters(c, False, n), "counted the tied kernels twice",
               "coding_sizes=(100, 30), tied=True", "expected 82414", "got 163814")
    count_says(lambda c, t, n=784: count_parameters(c, True, n), "that is the tied count",
               "tied=False", "expected 163814")
    count_says(lambda c, t, n=784: kernels(c, n) * (1 if t else 2) + sum(c),
               "forgot the decoder's biases")

    def mirrored_units(c, t, n=784):  # decoder biases sized like the encoder's units
        return kernels(c, n) * (1 if t else 2) + 2 * sum(c)

    def extra_decoder_layer(c, t, n=784):  # decoder 30 → 30 → 100 → 784 for (100, 30)
        decoder = kernels((*c, c[-1]), n) if not t else 0
        return kernels(c, n) + decoder + sum(c) + n + sum(c)

    count_says(mirrored_units, "mirrored one layer off")
    count_says(extra_decoder_layer, "mirrored one layer off")


def test_count_other_answers():
    count_says(lambda c, t, n=784: count_parameters(c, t, n) + 1, "expected 82414 parameters, got 82415",
               "coding_sizes=(100, 30), tied=True, n_inputs=784")
    count_says(lambda c, t: count_parameters(c, t), "TypeError", "n_inputs=784")
    count_says(lambda c, t, n=784: None, "returns None")
    count_says(lambda c, t, n=784: "82414", "return a whole number")
    count_says(lambda c, t, n=784: 1 / 0, "ZeroDivisionError")
    count_says(82414, "expected a function")
    # The n_inputs=100 configurations are checked too.
    count_says(lambda c, t, n=784: count_parameters(c, t, 784), "n_inputs=100")


@pytest.mark.parametrize("coding_sizes", [(100, 30), (300, 150), (64,), (500, 200, 50)])
@pytest.mark.parametrize("tied", [True, False])
def test_reference_formula_matches_the_real_model(coding_sizes, tied):
    real = StackedAutoencoder(coding_sizes, image_shape=(784,), tied=tied).count_params()
    assert count_parameters(coding_sizes, tied) == real
