"""genlib: the shared code of the course *Representation learning and generative models*.

Every chapter imports what it needs from here instead of redefining it::

    import genlib
    genlib.set_random_seed(42)           # the one seed of a notebook
    run = genlib.current_mode()          # sizes and epochs for "full" or "quick"
    data = genlib.load_fashion_mnist()   # verified Fashion-MNIST, split 55k/5k/10k

Submodules, one concept each (from the foundations up):

- :mod:`genlib.compat` – the supported TensorFlow/Keras versions, and what differs between them;
- :mod:`genlib.modes` – run modes (``GENLIB_MODE=full|quick``): data sizes and epochs;
- :mod:`genlib.data` – Fashion-MNIST loading with checksum verification, ``tf.data`` pipelines;
- :mod:`genlib.plots` – one plotting style, image grids, reconstructions, diagrams;
- :mod:`genlib.progress` – progress bars and sample rows for long training runs;
- :mod:`genlib.training` – the course's training recipe and its run record (``TrainingRun``);
- :mod:`genlib.layers` – custom Keras layers (``DenseTranspose``);
- :mod:`genlib.linear` – the linear autoencoder and its comparison with PCA (chapter 1);
- :mod:`genlib.stacked` – stacked autoencoders, tied weights, greedy layer-wise training;
- :mod:`genlib.pretraining` – unsupervised pretraining measured against training from scratch;
- :mod:`genlib.convolutional` – convolutional and recurrent autoencoders (chapter 3);
- :mod:`genlib.denoising` – denoising autoencoders: corruption layers, noise sweeps (chapter 4);
- :mod:`genlib.sparse` – sparse autoencoders: KL sparsity regularizer, sparsity measures (ch. 5);
- :mod:`genlib.generative` – what every generative model shares: ``sample(n, *, seed=None)``,
  images in [-1, 1] for training;
- :mod:`genlib.vae` – variational autoencoders (chapter 6);
- :mod:`genlib.gan` – generative adversarial networks (chapter 7);
- :mod:`genlib.diffusion` – diffusion models: schedules, the U-Net, DDPM and DDIM (chapter 8);
- :mod:`genlib.flow` – flow matching: straight paths, ODE solvers, guidance, latent flows (ch. 9);
- :mod:`genlib.pretrained` – trained models that ship with genlib, with their provenance;
- :mod:`genlib.frechet` – a Fréchet distance on a shipped Fashion-MNIST classifier's features;
- :mod:`genlib.precision_recall` – precision (realism) and recall (variety) of samples;
- :mod:`genlib.results` – results recorded for the benchmark script;
- :mod:`genlib.claims` – the text's conclusions checked against the run's numbers;
- :mod:`genlib.source` – show genlib's code in a notebook;
- :mod:`genlib.widgets` – interactive figures that need no kernel (a slider through frames);
- :mod:`genlib.exercises` – checkers that give students specific feedback.
"""

import os as _os
import platform as _platform
import warnings as _warnings

from genlib import compat as _compat

# One clear line, before TensorFlow is imported, when TensorFlow or Keras is too old.
_compat.check_versions()

# TensorFlow's C++ messages are noise for readers, its error lines too (an error that
# stops TensorFlow reaches Python as an exception): e.g. TensorFlow 2.19 with oneDNN on a
# processor without AVX-512 logs "oneDNN supports DT_INT32 only on platforms with AVX-512.
# Falling back to the default Eigen-based implementation" as an error. They must be
# silenced before TensorFlow is first imported, which is why this happens here.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow uses its oneDNN kernels by default only on Intel processors with AVX-512 VNNI
# or newer; elsewhere (AMD processors, older Intel ones) convolutions run on slower generic
# kernels: on a 2-core AMD EPYC, chapter 8's U-Net trained in about 30 % less time.
if _platform.machine().lower() in _compat.ONEDNN_MACHINES:
    _os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

_tf = _compat.import_tensorflow()  # without its C++ start-up notices

# Its Python warnings (e.g. "triggered tf.function retracing" when several small models
# call predict) go to stdout in Jupyter, so they would land in the chapters' printed
# output; errors still show. The level must be set after TensorFlow configures its logger.
_tf.get_logger().setLevel("ERROR")

# Keras' fit() defaults to shuffle=True, then warns under the cell, for every tf.data
# dataset it is given, that it ignores it. The course's datasets shuffle themselves
# (make_dataset(..., shuffle=True)), so that warning is only noise.
_warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored",
                         category=UserWarning)

from genlib.compat import set_random_seed  # noqa: E402
from genlib.data import FashionMNIST, load_fashion_mnist, make_dataset  # noqa: E402
from genlib.modes import RunMode, current_mode  # noqa: E402
from genlib.results import record_result  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "RunMode",
    "current_mode",
    "FashionMNIST",
    "load_fashion_mnist",
    "make_dataset",
    "record_result",
    "set_random_seed",
]
