"""Unsupervised pretraining, measured: reuse an autoencoder's encoder when labels are few.

:func:`pretraining_experiment` trains the same classifier (an encoder plus a softmax layer)
three ways on a small labeled subset – from scratch, on a pretrained encoder that stays
frozen, and on a pretrained encoder that is fine-tuned – for several label budgets and
seeds, and reports the test accuracy of each run. :func:`linear_probe` tests the frozen
codings themselves, with a logistic regression trained to convergence.

>>> from genlib.pretraining import SETTINGS
>>> SETTINGS
('from scratch', 'pretrained, frozen', 'pretrained, fine-tuned')
"""

from __future__ import annotations

import keras
import numpy as np

from genlib._validation import check_instance, check_positive_int, check_sizes
from genlib.compat import set_random_seed
from genlib.data import make_dataset
from genlib.training import STEPS_PER_EXECUTION

SETTINGS = ("from scratch", "pretrained, frozen", "pretrained, fine-tuned")


def balanced_subset(labels, n_labels: int, *, seed: int, n_classes: int = 10) -> np.ndarray:
    """Indices of ``n_labels`` examples, the same number from every class, drawn with ``seed``.

    >>> labels = np.repeat(np.arange(10), 50)
    >>> index = balanced_subset(labels, 100, seed=0)
    >>> len(index), np.bincount(labels[index]).tolist() == [10] * 10
    (100, True)
    """
    labels = np.asarray(labels)
    n_labels = check_positive_int(n_labels, "n_labels")
    if n_labels % n_classes:
        raise ValueError(f"n_labels must be a multiple of the {n_classes} classes, got {n_labels}")
    per_class = n_labels // n_classes
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(n_classes):
        candidates = np.flatnonzero(labels == label)
        if len(candidates) < per_class:
            raise ValueError(f"class {label} has only {len(candidates)} examples, fewer than the "
                             f"{per_class} per class that {n_labels} labels need")
        chosen.append(rng.choice(candidates, per_class, replace=False))
    return rng.permutation(np.concatenate(chosen))


def build_classifier(encoder: keras.Model, *, pretrained: bool, trainable: bool,
                     n_classes: int = 10) -> keras.Model:
    """A copy of ``encoder`` (with its weights if ``pretrained``, else freshly initialized)
    topped with a softmax layer.

    >>> from genlib.stacked import StackedAutoencoder
    >>> encoder = StackedAutoencoder((20, 5)).encoder
    >>> classifier = build_classifier(encoder, pretrained=True, trainable=False)
    >>> classifier.output_shape, len(classifier.trainable_weights)
    ((None, 10), 2)
    """
    _check_encoder(encoder)
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    copy = keras.models.clone_model(encoder)  # new layers, freshly initialized
    if pretrained:
        copy.set_weights(encoder.get_weights())
    copy.trainable = trainable
    return keras.Sequential([copy, keras.layers.Dense(n_classes, activation="softmax")])


def _check_encoder(encoder):
    check_instance(encoder, "encoder", keras.Model, what="a Keras model",
                   example="StackedAutoencoder((100, 30)).encoder")


def pretraining_experiment(encoder, x_train, y_train, x_test, y_test, *,
                           label_budgets=(500, 2000), seeds=(0, 1, 2),
                           steps: int = 1000, batch_size: int = 32,
                           learning_rate: float = 1e-3):
    """Test accuracy of the classifier trained in every setting, budget and seed.

    Parameters
    ----------
    encoder : keras.Model
        The pretrained encoder (trained on all the unlabeled images). It is copied, never
        modified.
    x_train, y_train : arrays
        The pool the labeled subsets are drawn from (balanced across classes).
    x_test, y_test : arrays
        Where accuracy is measured.
    label_budgets : sequence of int
        Numbers of labeled examples to train on (multiples of 10).
    seeds : sequence of int
        One run per seed: a different labeled subset and initialization.
    steps : int
        Gradient steps per classifier, the same for every budget (a fixed number of
        *epochs* would give the smallest budgets too few updates to converge).

    Returns
    -------
    pandas.DataFrame with columns ``labels``, ``seed``, ``setting``, ``test_accuracy``.

    Examples
    --------
    >>> from genlib.stacked import StackedAutoencoder
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((200, 28, 28)).astype("float32"), np.repeat(np.arange(10), 20)
    >>> encoder = StackedAutoencoder((20, 5)).encoder
    >>> table = pretraining_experiment(encoder, x, y, x, y, label_budgets=[50], seeds=[0], steps=2)
    >>> table.shape, sorted(table.setting) == sorted(SETTINGS)
    ((3, 4), True)
    """
    import pandas as pd

    budgets, seeds, steps = _check_experiment(
        encoder, x_train, y_train, x_test, y_test, label_budgets, seeds, steps)
    rows = []
    for budget in budgets:
        for seed in seeds:
            index = balanced_subset(y_train, budget, seed=seed)
            # `steps` steps in one epoch: Keras starts an epoch more slowly than it
            # trains the few steps of an epoch over a few hundred labels. A finite
            # dataset, not steps_per_epoch, which Keras would round up to a
            # multiple of steps_per_execution.
            subset = make_dataset(x_train[index], y_train[index],
                                  batch_size=batch_size, shuffle=True, seed=seed)
            subset = subset.repeat().take(steps)
            for setting in SETTINGS:
                set_random_seed(seed)
                classifier = build_classifier(
                    encoder, pretrained=setting != "from scratch",
                    trainable=setting != "pretrained, frozen")
                classifier.compile(loss="sparse_categorical_crossentropy",
                                   optimizer=keras.optimizers.Nadam(learning_rate),
                                   metrics=["accuracy"],
                                   steps_per_execution=STEPS_PER_EXECUTION)
                classifier.fit(subset, epochs=1, verbose=0)
                _, accuracy = classifier.evaluate(x_test, y_test, batch_size=1024,
                                                  verbose=0)
                rows.append({"labels": budget, "seed": seed, "setting": setting,
                             "test_accuracy": float(accuracy)})
    return pd.DataFrame(rows)


def linear_probe(encoder, x_train, y_train, x_test, y_test, *,
                 label_budgets=(500, 2000), seeds=(0, 1, 2)):
    """Test accuracy of a logistic regression trained to convergence on the frozen codings.

    The direct test of an encoder's features: the images are encoded once, then for every
    label budget and seed a balanced labeled subset's codings are standardized and fitted
    with scikit-learn's ``LogisticRegression`` (a softmax layer, trained until it converges,
    unlike the fixed budget of gradient steps of :func:`pretraining_experiment`).

    Parameters
    ----------
    encoder : keras.Model
        The pretrained encoder; only its predictions are used.
    x_train, y_train : arrays
        The pool the labeled subsets are drawn from (balanced across classes).
    x_test, y_test : arrays
        Where accuracy is measured.
    label_budgets : sequence of int, default (500, 2000)
        Numbers of labeled examples to train on (multiples of 10).
    seeds : sequence of int, default (0, 1, 2)
        One labeled subset per seed (the same subsets as :func:`pretraining_experiment`'s).

    Returns
    -------
    pandas.DataFrame with columns ``labels``, ``seed``, ``test_accuracy``.

    Examples
    --------
    >>> from genlib.stacked import StackedAutoencoder
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((200, 28, 28)).astype("float32"), np.repeat(np.arange(10), 20)
    >>> encoder = StackedAutoencoder((20, 5)).encoder
    >>> linear_probe(encoder, x, y, x, y, label_budgets=[50], seeds=[0, 1]).shape
    (2, 3)
    """
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    budgets, seeds, _ = _check_experiment(encoder, x_train, y_train, x_test, y_test,
                                          label_budgets, seeds)
    train_codings = encoder.predict(x_train, batch_size=1024, verbose=0)
    test_codings = encoder.predict(x_test, batch_size=1024, verbose=0)
    rows = []
    # Tiny problems: one thread beats several that wait for one another.
    with threadpool_limits(limits=1):
        for budget in budgets:
            for seed in seeds:
                index = balanced_subset(y_train, budget, seed=seed)
                classifier = make_pipeline(StandardScaler(),
                                           LogisticRegression(max_iter=2000))
                classifier.fit(train_codings[index], np.asarray(y_train)[index])
                accuracy = classifier.score(test_codings, y_test)
                rows.append({"labels": budget, "seed": seed,
                             "test_accuracy": float(accuracy)})
    return pd.DataFrame(rows)


def _check_experiment(encoder, x_train, y_train, x_test, y_test, label_budgets, seeds,
                      steps=None):
    _check_encoder(encoder)
    budgets = check_sizes(label_budgets, "label_budgets", example="(500, 2000)")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed, e.g. (0,)")
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError("each x must have as many examples as its y")
    if steps is not None:
        steps = check_positive_int(steps, "steps")
    for budget in budgets:  # every budget checked before hours of training, not after
        balanced_subset(y_train, budget, seed=0)
    return budgets, seeds, steps


def accuracies(results, setting, labels):
    """The test accuracies of one ``setting`` at one label budget, one per seed: what
    :func:`genlib.claims.tie_or_ranking` compares.

    >>> import pandas as pd
    >>> results = pd.DataFrame({"labels": [500, 500, 100], "seed": [0, 1, 0],
    ...                         "setting": ["from scratch"] * 3,
    ...                         "test_accuracy": [0.70, 0.72, 0.60]})
    >>> accuracies(results, "from scratch", 500)
    array([0.7 , 0.72])
    """
    chosen = (results.labels == labels) & (results.setting == setting)
    return results[chosen].test_accuracy.to_numpy()


def summarize(results):
    """Mean ± standard deviation of the test accuracy per label budget and setting.

    >>> import pandas as pd
    >>> results = pd.DataFrame({"labels": [500, 500], "seed": [0, 1],
    ...                         "setting": ["from scratch"] * 2, "test_accuracy": [0.70, 0.72]})
    >>> summarize(results).iloc[0, 0]
    '71.0 % ± 1.4'
    """
    grouped = results.groupby(["labels", "setting"], sort=False)["test_accuracy"]
    stats = grouped.agg(["mean", "std", "count"]).reset_index()

    def cell(row):
        spread = "" if row["count"] < 2 else f" ± {100 * row['std']:.1f}"
        return f"{100 * row['mean']:.1f} %{spread}"

    stats["test accuracy"] = stats.apply(cell, axis=1)
    table = stats.pivot(index="labels", columns="setting", values="test accuracy")
    return table[[s for s in SETTINGS if s in table.columns]]
