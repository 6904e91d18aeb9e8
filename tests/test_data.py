"""Fashion-MNIST loading: search order, verification, split, errors. Nothing is downloaded."""

import gzip
import shutil

import numpy as np
import pytest

from genlib import data as gdata
from genlib.data import SHA256, DatasetError, find_data_dir, load_fashion_mnist, make_dataset
from genlib.modes import RunMode


@pytest.fixture(scope="module")
def real_dir():
    return find_data_dir(download=False)


@pytest.fixture
def copy_of_data(tmp_path, real_dir):
    """A private copy of the official files, to corrupt at will."""
    folder = tmp_path / "fmnist"
    folder.mkdir()
    for name in SHA256:
        source = gdata._file_in(real_dir, name)
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """No data in any of the default places."""
    monkeypatch.delenv("GENLIB_DATA_DIR", raising=False)
    monkeypatch.setattr(gdata, "SYSTEM_DATA_DIR", tmp_path / "no-system-dir")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-home"))


def test_full_split_sizes_types_and_range(real_dir):
    data = load_fashion_mnist("full", download=False)
    assert data.x_train.shape == (55_000, 28, 28)
    assert data.x_valid.shape == (5_000, 28, 28)
    assert data.x_test.shape == (10_000, 28, 28)
    assert len(data.y_train) == 55_000 and len(data.y_valid) == 5_000 and len(data.y_test) == 10_000
    for x in (data.x_train, data.x_valid, data.x_test):
        assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10))
    assert len(data.class_names) == 10


def test_validation_is_the_last_5000_training_images(real_dir):
    data = load_fashion_mnist("full", download=False)
    images, labels, _, _ = gdata._load_raw(real_dir.resolve())
    np.testing.assert_array_equal(data.x_valid, images[55_000:].astype(np.float32) / 255)
    np.testing.assert_array_equal(data.y_valid, labels[55_000:])
    np.testing.assert_array_equal(data.y_train, labels[:55_000])


def test_quick_mode_takes_the_leading_subsets(real_dir):
    quick, full = RunMode.named("quick"), load_fashion_mnist("full", download=False)
    data = load_fashion_mnist(quick, download=False)
    assert len(data.x_train) == quick.n_train and len(data.x_valid) == quick.n_valid
    assert len(data.x_test) == quick.n_test
    np.testing.assert_array_equal(data.x_valid, full.x_valid[: quick.n_valid])
    assert set(np.unique(data.y_train)) == set(range(10))


def test_environment_variable_comes_first(monkeypatch, copy_of_data):
    monkeypatch.setenv("GENLIB_DATA_DIR", str(copy_of_data))
    assert find_data_dir(download=False) == copy_of_data
    assert load_fashion_mnist("quick", download=False).source == str(copy_of_data)


def test_uncompressed_files_are_accepted(monkeypatch, copy_of_data):
    archive = copy_of_data / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(archive) as stream:
        (copy_of_data / "t10k-labels-idx1-ubyte").write_bytes(stream.read())
    archive.unlink()
    monkeypatch.setenv("GENLIB_DATA_DIR", str(copy_of_data))
    assert len(load_fashion_mnist("full", download=False).y_test) == 10_000


def test_truncated_file_is_named(monkeypatch, copy_of_data):
    path = copy_of_data / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5_000])
    monkeypatch.setenv("GENLIB_DATA_DIR", str(copy_of_data))
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.gz.*corrupt or truncated"):
        load_fashion_mnist(download=False)


def test_wrong_content_fails_the_checksum(monkeypatch, copy_of_data):
    path = copy_of_data / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path) as stream:
        content = bytearray(stream.read())
    content[100] = (content[100] + 1) % 10  # one label changed: still a valid IDX file
    with gzip.open(path, "wb") as stream:
        stream.write(bytes(content))
    monkeypatch.setenv("GENLIB_DATA_DIR", str(copy_of_data))
    with pytest.raises(DatasetError) as error:
        load_fashion_mnist(download=False)
    assert "t10k-labels-idx1-ubyte.gz" in str(error.value) and "SHA-256" in str(error.value)
    assert "apt-get install dataset-fashion-mnist" in str(error.value)


def test_missing_file_in_the_named_folder(monkeypatch, copy_of_data):
    (copy_of_data / "train-images-idx3-ubyte.gz").unlink()
    monkeypatch.setenv("GENLIB_DATA_DIR", str(copy_of_data))
    with pytest.raises(DatasetError, match="lacks train-images-idx3-ubyte.gz.*GENLIB_DATA_DIR"):
        find_data_dir(download=False)


def test_named_folder_that_does_not_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLIB_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="is not a folder"):
        find_data_dir(download=False)


def test_half_installed_default_folder_is_reported(nowhere, monkeypatch, copy_of_data):
    (copy_of_data / "t10k-images-idx3-ubyte.gz").unlink()
    monkeypatch.setattr(gdata, "SYSTEM_DATA_DIR", copy_of_data)
    with pytest.raises(DatasetError, match="lacks t10k-images-idx3-ubyte.gz"):
        find_data_dir(download=False)


def test_keras_cache_is_searched(nowhere, monkeypatch, tmp_path, copy_of_data):
    cache = tmp_path / "keras-home" / "datasets" / "fashion-mnist"
    shutil.copytree(copy_of_data, cache)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    assert find_data_dir(download=False) == cache


def test_nothing_anywhere_without_download(nowhere):
    with pytest.raises(DatasetError) as error:
        find_data_dir(download=False)
    message = str(error.value)
    assert "apt-get install dataset-fashion-mnist" in message and "GENLIB_DATA_DIR" in message


def test_bad_mode_argument():
    with pytest.raises(TypeError, match="mode must be"):
        load_fashion_mnist(3)
    with pytest.raises(ValueError, match="'full', 'quick'"):
        load_fashion_mnist("medium")


def test_make_dataset_batches_pairs_and_shuffles_reproducibly():
    x = np.arange(10 * 4, dtype="float32").reshape(10, 4)
    batches = list(make_dataset(x, x, batch_size=4))
    assert [tuple(inputs.shape) for inputs, _ in batches] == [(4, 4), (4, 4), (2, 4)]
    np.testing.assert_array_equal(batches[0][0], batches[0][1])

    def order(seed):
        return np.concatenate([batch.numpy()[:, 0] for batch in make_dataset(x, batch_size=3, shuffle=True, seed=seed)])

    assert sorted(order(1)) == sorted(x[:, 0])
    np.testing.assert_array_equal(order(1), order(1))


@pytest.mark.parametrize("kwargs, message", [
    (dict(inputs=np.zeros((5, 2)), targets=np.zeros((4, 2))), "same number of examples"),
    (dict(inputs=np.zeros((0, 2))), "non-empty"),
    (dict(inputs=np.zeros((5, 2)), batch_size=0), "batch_size must be a positive integer"),
    (dict(inputs=np.zeros((5, 2)), batch_size=8, drop_remainder=True), "batch_size=8 is larger"),
])
def test_make_dataset_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_dataset(**kwargs)


def test_make_dataset_can_drop_the_incomplete_batch():
    x = np.zeros((10, 4), "float32")
    assert [len(batch) for batch in make_dataset(x, batch_size=4, drop_remainder=True)] == [4, 4]


def test_fitting_on_a_dataset_prints_no_warning():
    """Keras warns that fit's default shuffle=True is ignored for a dataset; genlib silences
    exactly that warning (the course's datasets shuffle themselves), nothing else."""
    import warnings

    import keras

    import genlib  # noqa: F401  (installs the filter)

    x = np.zeros((8, 4), "float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(loss="mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        import importlib

        importlib.reload(genlib)  # its filter, on top of "default"
        model.fit(make_dataset(x, x, batch_size=4), epochs=1, verbose=0)
        warnings.warn("an unrelated warning", UserWarning, stacklevel=1)
    messages = [str(warning.message) for warning in caught]
    assert not any("shuffle" in message for message in messages), messages
    assert "an unrelated warning" in messages
