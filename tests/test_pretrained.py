"""The trained models that ship with genlib: verified, loadable, and what they claim to be."""

import json

import numpy as np
import pytest

from genlib import frechet, pretrained


@pytest.mark.parametrize("name", sorted(pretrained.MODELS))
def test_each_shipped_model_matches_its_provenance_record(name):
    record = pretrained.provenance(name)
    assert record["name"] == name
    assert record["mode"] == "full" and record["seed"] == 42
    assert record["weights_sha256"] == pretrained.sha256(pretrained.weights_file(name))
    model = pretrained.load(name)
    assert pretrained.weighted_part(model).count_params() == record["n_parameters"]
    for key in ("training", "architecture", "training_seconds", "commit", "machine", "date",
                "frechet", "classes_covered", "versions"):
        assert key in record


def test_the_shipped_dcgan_is_the_trained_one():
    # Untrained, a generator draws one gray blur; the trained one draws every class.
    images = pretrained.load("dcgan").sample(1000, seed=1)
    assert images.shape == (1000, 28, 28)
    assert frechet.class_coverage(images).n_covered == 10
    untrained = pretrained.build("dcgan").sample(1000, seed=1)
    assert frechet.class_coverage(untrained).n_covered < 10


def test_loading_is_deterministic():
    first = pretrained.load("vae").sample(4, seed=3)
    np.testing.assert_array_equal(first, pretrained.load("vae").sample(4, seed=3))


def test_an_unknown_name_lists_what_ships():
    with pytest.raises(ValueError, match="it ships 'vae', 'dense_gan', 'dcgan'"):
        pretrained.load("stylegan")
    with pytest.raises(ValueError, match="build_classifier"):
        pretrained.build(pretrained.CLASSIFIER)


def test_corrupt_or_missing_weights_are_reported(monkeypatch, tmp_path):
    record = pretrained.WEIGHTS_DIR / "dcgan.json"
    (tmp_path / record.name).write_bytes(record.read_bytes())
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="tools/train_pretrained.py dcgan"):
        pretrained.load("dcgan")
    (tmp_path / "dcgan.weights.h5").write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(RuntimeError, match="do not match their provenance"):
        pretrained.load("dcgan")
    with pytest.raises(FileNotFoundError, match="provenance record"):
        pretrained.provenance("vae")


def test_the_training_script_writes_what_load_reads(monkeypatch, tmp_path, capsys):
    from tools import train_pretrained

    assert train_pretrained.main(["dense_gan", "--mode", "quick",
                                  "--output-dir", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "dense_gan.json").read_text())
    assert record["mode"] == "quick" and record["epochs"] >= 1
    assert "fit_gan(" in record["training"]
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    images = pretrained.load("dense_gan").sample(2, seed=0)
    assert images.shape == (2, 28, 28)
    assert "dense_gan:" in capsys.readouterr().out
