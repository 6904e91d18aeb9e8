"""Every public constructor and fit helper refuses a wrong type and an out-of-range value
with a message that names the argument (never a bare TypeError from deep inside Keras).

Each row: what is called, the exception, and a regular expression the message must match
(it names the argument). ``_validation.py`` holds the shared checks.
"""

import keras
import numpy as np
import pytest

from genlib import convolutional as C
from genlib import denoising as D
from genlib import diffusion as F
from genlib import flow as FL
from genlib import frechet as FR
from genlib import gan as G
from genlib import layers as LA
from genlib import linear as L
from genlib import pretraining as P
from genlib import sparse as SP
from genlib import stacked as S
from genlib import training as T
from genlib import vae as V
from genlib import widgets as W
from genlib._validation import check_instance, check_real, check_seed, check_sizes

X = np.zeros((64, 28, 28), "float32")


def small_gan():
    return G.GAN(G.build_dense_generator(4, hidden_sizes=(8,)), G.build_dense_discriminator((8,)))


def small_diffusion():
    return F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), F.cosine_schedule(10))


def small_flow(n_classes=None):
    return FL.FlowMatchingModel(FL.build_velocity_mlp(2, units=(4,), time_dim=4, n_classes=n_classes))


def flat_encoder():
    return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten()])


CASES = {
    # name: (call, exception, message)
    "ConvAutoencoder type": (lambda: C.ConvAutoencoder(coding_size="30"), ValueError, "coding_size"),
    "ConvAutoencoder range": (lambda: C.ConvAutoencoder(coding_size=0), ValueError, "coding_size"),
    "ConvAutoencoder filters": (lambda: C.ConvAutoencoder(filters="16"), ValueError, "filters must be a sequence"),
    "RecurrentAutoencoder type": (lambda: C.RecurrentAutoencoder(units="100"), ValueError, "units"),
    "RecurrentAutoencoder value": (lambda: C.RecurrentAutoencoder(cell="cnn"), ValueError, "cell"),
    "DenoisingAutoencoder type": (lambda: D.DenoisingAutoencoder(strength="0.5"), ValueError, "strength"),
    "DenoisingAutoencoder range": (lambda: D.DenoisingAutoencoder(strength=1.5), ValueError, "rate"),
    "StackedAutoencoder type": (lambda: S.StackedAutoencoder(coding_sizes="100"), ValueError, "coding_sizes must be a sequence"),
    "StackedAutoencoder range": (lambda: S.StackedAutoencoder(coding_sizes=(100, 0)), ValueError, "coding_sizes"),
    "VariationalAutoencoder type": (lambda: V.VariationalAutoencoder(coding_size=2.5), ValueError, "coding_size"),
    "VariationalAutoencoder range": (lambda: V.VariationalAutoencoder(latent_weight=-1), ValueError, "latent_weight"),
    "VariationalAutoencoder sizes": (lambda: V.VariationalAutoencoder(hidden_sizes="150"), ValueError, "hidden_sizes must be a sequence"),
    "Sampling type": (lambda: V.Sampling(seed="1"), ValueError, "seed"),
    "Sampling range": (lambda: V.Sampling(seed=-1), ValueError, "seed"),
    "GAN type": (lambda: G.GAN("g", "d"), TypeError, "generator must be a keras.Model"),
    "GAN smoothing type": (lambda: G.GAN(G.build_dense_generator(), G.build_dense_discriminator(), label_smoothing="0.1"), ValueError, "label_smoothing"),
    "GAN smoothing range": (lambda: G.GAN(G.build_dense_generator(), G.build_dense_discriminator(), label_smoothing=0.7), ValueError, "label_smoothing"),
    "GAN seed": (lambda: G.GAN(G.build_dense_generator(), G.build_dense_discriminator(), seed=1.5), ValueError, "seed"),
    "GAN n_classes type": (lambda: G.GAN(G.build_dense_generator(), G.build_dense_discriminator(), n_classes="10"), ValueError, "n_classes"),
    "GAN n_classes range": (lambda: G.GAN(G.build_dense_generator(), G.build_dense_discriminator(), n_classes=1), ValueError, "n_classes"),
    "DiffusionModel type": (lambda: F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), "cosine"), TypeError, "schedule must be a NoiseSchedule"),
    "DiffusionModel range": (lambda: F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), F.cosine_schedule(10), sampling_steps=0), ValueError, "steps"),
    "DiffusionModel eta type": (lambda: F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), F.cosine_schedule(10), sampling_eta="1"), ValueError, "sampling_eta"),
    "DiffusionModel eta range": (lambda: F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), F.cosine_schedule(10), sampling_eta=1.5), ValueError, "sampling_eta"),
    "DiffusionModel spacing type": (lambda: F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), F.cosine_schedule(10), sampling_spacing=None), ValueError, "sampling_spacing"),
    "DiffusionModel spacing range": (lambda: F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), F.cosine_schedule(10), sampling_spacing=0), ValueError, "sampling_spacing"),
    "DiffusionModel gamma": (lambda: F.DiffusionModel(F.build_noise_predictor(filters=(4, 8)), F.cosine_schedule(10), min_snr_gamma="5"), ValueError, "min_snr_gamma"),
    "NoiseSchedule type": (lambda: F.NoiseSchedule("0.1"), ValueError, "betas"),
    "NoiseSchedule range": (lambda: F.NoiseSchedule([0.1, 1.5]), ValueError, "beta"),
    "linear_schedule type": (lambda: F.linear_schedule(10, beta_start="1e-4"), ValueError, "beta_start"),
    "linear_schedule range": (lambda: F.linear_schedule(10, beta_end=2.0), ValueError, "beta_end"),
    "cosine_schedule type": (lambda: F.cosine_schedule(10, offset="0.008"), ValueError, "offset"),
    "cosine_schedule range": (lambda: F.cosine_schedule(10, max_beta=1.0), ValueError, "max_beta"),
    "FlowMatchingModel type": (lambda: FL.FlowMatchingModel("unet"), TypeError, "network must be a keras.Model"),
    "FlowMatchingModel network": (lambda: FL.FlowMatchingModel(flat_encoder()), ValueError, r"inputs \[x_t, t\]"),
    "FlowMatchingModel steps type": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), sampling_steps=1.5), ValueError, "sampling_steps must be an integer"),
    "FlowMatchingModel steps range": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), sampling_steps=0), ValueError, "sampling_steps must be an integer"),
    "FlowMatchingModel method": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), sampling_method="rk4"), ValueError, "method must be one of 'euler', 'heun'"),
    "FlowMatchingModel guidance type": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), guidance="2"), ValueError, "guidance"),
    "FlowMatchingModel guidance range": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), guidance=-1), ValueError, "guidance"),
    "FlowMatchingModel label_dropout type": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), label_dropout="0.1"), ValueError, "label_dropout"),
    "FlowMatchingModel label_dropout range": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), label_dropout=1.0), ValueError, "label_dropout"),
    "FlowMatchingModel seed": (lambda: FL.FlowMatchingModel(FL.build_velocity_mlp(2), seed=1.5), ValueError, "seed"),
    "FlowMatchingModel.sample n": (lambda: small_flow().sample(0), ValueError, "n must be"),
    "FlowMatchingModel.sample steps": (lambda: small_flow().sample(2, steps=True), ValueError, "steps must be an integer"),
    "FlowMatchingModel.sample method": (lambda: small_flow().sample(2, method="rk4"), ValueError, "method must be one of"),
    "FlowMatchingModel.sample guidance": (lambda: small_flow(3).sample(2, labels=0, guidance=-1), ValueError, "guidance"),
    "FlowMatchingModel.sample labels": (lambda: small_flow(3).sample(2, labels=[0, 3]), ValueError, "labels must be class indices"),
    "FlowMatchingModel.sample seed": (lambda: small_flow().sample(2, seed=-1), ValueError, "seed"),
    "build_velocity_mlp type": (lambda: FL.build_velocity_mlp("2"), ValueError, "dim"),
    "build_velocity_mlp range": (lambda: FL.build_velocity_mlp(2, units=(16, 0)), ValueError, "units"),
    "build_velocity_mlp time_dim": (lambda: FL.build_velocity_mlp(2, time_dim=1), ValueError, "time_dim"),
    "build_velocity_mlp n_classes": (lambda: FL.build_velocity_mlp(2, n_classes=1), ValueError, "n_classes"),
    "build_velocity_unet type": (lambda: FL.build_velocity_unet(filters="8"), ValueError, "filters must be a sequence"),
    "build_velocity_unet range": (lambda: FL.build_velocity_unet(filters=(4, 8, 8, 8)), ValueError, "filters"),
    "integrate steps": (lambda: FL.integrate(lambda x, t: x, np.zeros((1, 2)), steps=0), ValueError, "steps must be an integer"),
    "integrate method": (lambda: FL.integrate(lambda x, t: x, np.zeros((1, 2)), steps=2, method="rk4"), ValueError, "method must be one of"),
    "flow_dataset batch": (lambda: FL.flow_dataset(np.zeros((8, 2)), batch_size=0), ValueError, "batch_size"),
    "flow_dataset noise": (lambda: FL.flow_dataset(np.zeros((8, 2)), noise=np.zeros((8, 3))), ValueError, "noise must have the shape of the data"),
    "fit_flow model": (lambda: FL.fit_flow(small_gan(), X, epochs=1), TypeError, "model must be a FlowMatchingModel"),
    "fit_flow type": (lambda: FL.fit_flow(small_flow(), np.zeros((64, 2)), epochs=1, ema_momentum="0.99"), ValueError, "ema_momentum"),
    "fit_flow range": (lambda: FL.fit_flow(small_flow(), np.zeros((64, 2)), epochs=1, learning_rate=-1), ValueError, "learning_rate"),
    "fit_flow batch": (lambda: FL.fit_flow(small_flow(), np.zeros((64, 2)), epochs=1, batch_size="32"), ValueError, "batch_size"),
    "fit_flow labels": (lambda: FL.fit_flow(small_flow(3), np.zeros((64, 2)), epochs=1), ValueError, "pass labels="),
    "fit_flow data": (lambda: FL.fit_flow(small_flow(), X, epochs=1), ValueError, r"batches of shape \(n, 2\)"),
    "FlowProgress type": (lambda: FL.FlowProgress(sample_steps="8"), ValueError, "sample_steps"),
    "FlowProgress range": (lambda: FL.FlowProgress(sample_steps=0), ValueError, "sample_steps"),
    "few_step_error model": (lambda: FL.few_step_error("model", 4, 1), TypeError, "model must be a FlowMatchingModel"),
    "few_step_error range": (lambda: FL.few_step_error(small_flow(), 4, 0), ValueError, "steps must be an integer"),
    "straightness": (lambda: FL.straightness(np.zeros((4, 2))), ValueError, r"path must have shape \(n, steps \+ 1, ...\)"),
    "LatentFlow type": (lambda: FL.LatentFlow("flow", flat_encoder(), mean=0, scale=1), TypeError, "flow must be a FlowMatchingModel"),
    "LatentFlow scale": (lambda: FL.LatentFlow(small_flow(), flat_encoder(), mean=np.zeros(2), scale=np.zeros(2)), ValueError, "scale must be positive"),
    "build_dense_generator type": (lambda: G.build_dense_generator("30"), ValueError, "coding_size"),
    "build_dense_generator range": (lambda: G.build_dense_generator(hidden_sizes=(0,)), ValueError, "hidden_sizes"),
    "build_dense_discriminator type": (lambda: G.build_dense_discriminator(dropout="0.1"), ValueError, "dropout"),
    "build_dense_discriminator range": (lambda: G.build_dense_discriminator(dropout=1.0), ValueError, "dropout"),
    "build_dcgan_generator type": (lambda: G.build_dcgan_generator(kernel_size="5"), ValueError, "kernel_size"),
    "build_dcgan_generator range": (lambda: G.build_dcgan_generator(filters=(1,)), ValueError, "filters must hold 2"),
    "build_dcgan_discriminator type": (lambda: G.build_dcgan_discriminator(dropout=None), ValueError, "dropout"),
    "build_dcgan_discriminator range": (lambda: G.build_dcgan_discriminator(kernel_size=0), ValueError, "kernel_size"),
    "build_conditional_generator type": (lambda: G.build_conditional_generator(n_classes="10"), ValueError, "n_classes"),
    "build_conditional_generator range": (lambda: G.build_conditional_generator(filters=(8,)), ValueError, "filters must hold 2"),
    "build_conditional_discriminator type": (lambda: G.build_conditional_discriminator(kernel_size="5"), ValueError, "kernel_size"),
    "build_conditional_discriminator range": (lambda: G.build_conditional_discriminator(n_classes=1), ValueError, "n_classes"),
    "AuxiliaryClassifierGAN type": (lambda: G.AuxiliaryClassifierGAN(G.build_conditional_generator(4), G.build_conditional_discriminator(class_head=True), n_classes=10, class_loss_weight="1"), ValueError, "class_loss_weight"),
    "AuxiliaryClassifierGAN range": (lambda: G.AuxiliaryClassifierGAN(G.build_conditional_generator(4), G.build_conditional_discriminator(class_head=True), n_classes=10, class_loss_weight=-1.0), ValueError, "class_loss_weight"),
    "build_noise_predictor type": (lambda: F.build_noise_predictor(time_dim="128"), ValueError, "time_dim"),
    "build_noise_predictor range": (lambda: F.build_noise_predictor(filters=(4, 8, 8, 8)), ValueError, "filters"),
    "SinusoidalEmbedding type": (lambda: F.SinusoidalEmbedding(dim="32"), ValueError, "dim"),
    "SinusoidalEmbedding range": (lambda: F.SinusoidalEmbedding(dim=3), ValueError, "dim"),
    "build_linear_autoencoder type": (lambda: L.build_linear_autoencoder("3", coding_size=2), ValueError, "n_inputs"),
    "build_linear_autoencoder range": (lambda: L.build_linear_autoencoder(3, coding_size=0), ValueError, "coding_size"),
    "build_sparse_autoencoder type": (lambda: SP.build_sparse_autoencoder("l1"), ValueError, "activity_regularizer"),
    "build_sparse_autoencoder range": (lambda: SP.build_sparse_autoencoder(coding_size=0), ValueError, "coding_size"),
    "KLSparsityRegularizer type": (lambda: SP.KLSparsityRegularizer(target="0.1"), ValueError, "target"),
    "KLSparsityRegularizer range": (lambda: SP.KLSparsityRegularizer(target=1.0), ValueError, "target"),
    "PerImageL1L2 type": (lambda: SP.PerImageL1L2(l1="1"), ValueError, "l1"),
    "PerImageL1L2 range": (lambda: SP.PerImageL1L2(l1=-1), ValueError, "l1"),
    "frechet.build_classifier type": (lambda: FR.build_classifier(dropout="0.3"), ValueError, "dropout"),
    "frechet.build_classifier range": (lambda: FR.build_classifier(dropout=1.0), ValueError, "dropout"),
    "pretraining.build_classifier type": (lambda: P.build_classifier("encoder", pretrained=True, trainable=False), TypeError, "encoder must be a Keras model"),
    "pretraining.build_classifier range": (lambda: P.build_classifier(flat_encoder(), pretrained=True, trainable=False, n_classes=1), ValueError, "n_classes"),
    "DenseTranspose type": (lambda: LA.DenseTranspose("dense"), TypeError, "Dense"),
    "DenseTranspose value": (lambda: LA.DenseTranspose(keras.layers.Dense(3)), ValueError, "not built"),
    "fit_autoencoder type": (lambda: T.fit_autoencoder("model", X, X, epochs=1), TypeError, "autoencoder must be a Keras model"),
    "fit_autoencoder epochs": (lambda: T.fit_autoencoder(S.StackedAutoencoder((8, 4)), X, X, epochs="1"), ValueError, "epochs"),
    "fit_autoencoder range": (lambda: T.fit_autoencoder(S.StackedAutoencoder((8, 4)), X, X, epochs=1, learning_rate=0), ValueError, "learning_rate"),
    "fit_gan type": (lambda: G.fit_gan("gan", X, epochs=1), TypeError, "gan must be a GAN"),
    "fit_gan batch": (lambda: G.fit_gan(small_gan(), X, epochs=1, batch_size="32"), ValueError, "batch_size"),
    "fit_gan range": (lambda: G.fit_gan(small_gan(), X, epochs=1, learning_rate=-1), ValueError, "learning_rate"),
    "fit_diffusion type": (lambda: F.fit_diffusion(small_diffusion(), X, epochs=1, ema_momentum="0.99"), ValueError, "ema_momentum"),
    "fit_diffusion range": (lambda: F.fit_diffusion(small_diffusion(), X, epochs=1, ema_momentum=1.0), ValueError, "ema_momentum"),
    "fit_diffusion model": (lambda: F.fit_diffusion(small_gan(), X, epochs=1), TypeError, "model must be a DiffusionModel"),
    "train_greedy_layerwise type": (lambda: S.train_greedy_layerwise(X, epochs="1"), ValueError, "epochs"),
    "train_greedy_layerwise range": (lambda: S.train_greedy_layerwise(X, epochs=1, learning_rate=0), ValueError, "learning_rate"),
    "noise_sweep type": (lambda: D.noise_sweep("gaussian", "0.1", X, X, epochs=1), ValueError, "strengths must be a sequence"),
    "noise_sweep range": (lambda: D.noise_sweep("gaussian", [2.0], X, X, epochs=1), ValueError, "standard deviation"),
    "pretraining_experiment type": (lambda: P.pretraining_experiment("enc", X, np.zeros(64), X, np.zeros(64)), TypeError, "encoder must be a Keras model"),
    "pretraining_experiment range": (lambda: P.pretraining_experiment(flat_encoder(), X, np.zeros(64, int), X, np.zeros(64, int), steps=0), ValueError, "steps"),
    "FrameSlider frames": (lambda: W.FrameSlider(X[:1], captions=["a"], alt="x"), ValueError, "frames must have shape"),
    "FrameSlider captions": (lambda: W.FrameSlider(X[:2], captions=["a"], alt="x"), ValueError, "captions must hold one caption per frame"),
    "FrameSlider alt": (lambda: W.FrameSlider(X[:2], captions="ab", alt=" "), ValueError, "alt must be a sentence"),
    "FrameSlider label": (lambda: W.FrameSlider(X[:2], captions="ab", alt="x", label=3), ValueError, "label must say"),
    "FrameSlider value_range": (lambda: W.FrameSlider(X[:2], captions="ab", alt="x", value_range=(1, 0)), ValueError, "value_range"),
    "FrameSlider scale": (lambda: W.FrameSlider(X[:2], captions="ab", alt="x", scale=0), ValueError, "scale"),
    "FrameSlider start": (lambda: W.FrameSlider(X[:2], captions="ab", alt="x", start=2), ValueError, "start must be a frame"),
    "LatentExplorer decoded": (lambda: W.LatentExplorer(X[:4].reshape(2, 2, 28, 28)[:, :1], points=np.zeros((1, 2)), labels=[0], class_names="a", extent=(-3, 3), alt="x"), ValueError, "decoded must hold the images of an n x n grid"),
    "LatentExplorer points": (lambda: W.LatentExplorer(X[:4].reshape(2, 2, 28, 28), points=np.zeros((1, 3)), labels=[0], class_names="a", extent=(-3, 3), alt="x"), ValueError, "points must be 2-D codings"),
    "LatentExplorer labels": (lambda: W.LatentExplorer(X[:4].reshape(2, 2, 28, 28), points=np.zeros((1, 2)), labels=[2], class_names="a", extent=(-3, 3), alt="x"), ValueError, "labels must be class indices"),
    "LatentExplorer extent": (lambda: W.LatentExplorer(X[:4].reshape(2, 2, 28, 28), points=np.zeros((1, 2)), labels=[0], class_names="a", extent=(3, -3), alt="x"), ValueError, "extent"),
    "LatentExplorer alt": (lambda: W.LatentExplorer(X[:4].reshape(2, 2, 28, 28), points=np.zeros((1, 2)), labels=[0], class_names="a", extent=(-3, 3), alt=""), ValueError, "alt must be a sentence"),
    "FrameSlider row_labels": (lambda: W.FrameSlider(X[:2], captions="ab", alt="x", row_labels=["a", "b"]), ValueError, "row_labels must name each"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_wrong_argument_is_named_in_a_clear_error(case):
    call, exception, message = CASES[case]
    with pytest.raises(exception, match=message):
        call()


def test_the_shared_checks():
    assert check_real(1, "rate", low=0) == 1.0
    for bad in (True, "1", float("nan"), float("inf"), None):
        with pytest.raises(ValueError, match=r"rate must be a number in \[0, inf\)"):
            check_real(bad, "rate", low=0)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        check_real(1.0, "momentum", low=0, high=1, low_open=True, high_open=True)
    assert check_sizes(np.array([3, 4]), "sizes") == (3, 4)
    for bad in ("34", 3, (), (3, 0), (3, 2.5)):
        with pytest.raises(ValueError, match="sizes"):
            check_sizes(bad, "sizes")
    with pytest.raises(ValueError, match="must hold 2 integers"):
        check_sizes((1, 2, 3), "filters", length=2)
    assert check_seed(None) is None and check_seed(np.int64(3)) == 3
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="seed must be None or a non-negative integer"):
            check_seed(bad)
    with pytest.raises(TypeError, match="model must be a Keras model, e.g. x, got int"):
        check_instance(3, "model", keras.Model, what="a Keras model", example="x")
