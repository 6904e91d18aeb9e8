import pytest

from genlib.modes import VALID_MODES, RunMode, current_mode


def test_default_is_full(monkeypatch):
    monkeypatch.delenv("GENLIB_MODE", raising=False)
    run = current_mode()
    assert run.name == "full"
    assert (run.n_train, run.n_valid, run.n_test) == (55_000, 5_000, 10_000)


def test_quick_is_smaller_for_every_size(monkeypatch):
    monkeypatch.setenv("GENLIB_MODE", "quick")
    quick, full = current_mode(), RunMode.named("full")
    assert quick.is_quick and not full.is_quick
    assert quick.n_train < full.n_train and quick.n_valid < full.n_valid and quick.n_test < full.n_test


@pytest.mark.parametrize("value", ["fast", "QUICK", "1", "full mode"])
def test_invalid_mode_lists_the_valid_ones(monkeypatch, value):
    monkeypatch.setenv("GENLIB_MODE", value)
    with pytest.raises(ValueError) as error:
        current_mode()
    message = str(error.value)
    assert repr(value) in message
    assert all(repr(mode) in message for mode in VALID_MODES)
    assert "GENLIB_MODE" in message


def test_every_experiment_has_epochs_in_both_modes():
    full, quick = RunMode.named("full"), RunMode.named("quick")
    assert full._epochs.keys() == quick._epochs.keys()
    for experiment in full._epochs:
        assert full.epochs(experiment) >= 1 and quick.epochs(experiment) >= 1


def test_unknown_experiment_names_the_known_ones():
    with pytest.raises(KeyError, match="linear_ae_3d"):
        RunMode.named("full").epochs("no_such_experiment")
