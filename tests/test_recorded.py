"""The measurements genlib ships (genlib/recorded/), and the scripts that record them."""

import pytest

from genlib.results import RECORDED, recorded_runs


@pytest.mark.parametrize("name", RECORDED)
def test_each_recorded_measurement_reads_as_a_table(name):
    runs = recorded_runs(name)
    assert len(runs) >= 3
    assert {"name", "seed", "frechet", "classes_covered", "train_seconds", "cpus",
            "date"} <= set(runs.columns)
    assert (runs.frechet > 0).all() and runs.classes_covered.between(0, 10).all()


def test_an_unknown_measurement_lists_what_ships():
    with pytest.raises(ValueError, match="'gan_recipes', 'ddpm_recipes'"):
        recorded_runs("vae_recipes")


def test_the_ddpm_script_refuses_steps_that_are_not_whole_epochs(capsys):
    from tools import ddpm_recipes

    with pytest.raises(SystemExit):
        ddpm_recipes.parse(["--name", "x", "--steps", "150"])
    assert "multiple of 100" in capsys.readouterr().err
    assert ddpm_recipes.parse(["--name", "x"]).batch_size == 64


def test_the_gan_script_trains_the_dense_networks_on_request():
    from tools import gan_recipes

    args = gan_recipes.parse(["--name", "x", "--networks", "dense", "--instance-noise", "0.1"])
    assert args.networks == "dense" and args.instance_noise == 0.1


def test_the_gan_script_trains_the_conditional_networks_with_the_chapters_losses(capsys):
    from tools import gan_recipes

    args = gan_recipes.parse(["--name", "x", "--networks", "conditional", "--class-loss", "1"])
    assert (args.networks, args.class_loss) == ("conditional", 1.0)
    for wrong in (["--networks", "conditional", "--loss", "hinge"],
                  ["--class-loss", "1"]):
        with pytest.raises(SystemExit):
            gan_recipes.parse(["--name", "x", *wrong])
    error = capsys.readouterr().err
    assert "no --loss, --r1" in error and "--class-loss needs --networks conditional" in error


def test_the_conditional_runs_record_how_often_the_class_is_obeyed():
    runs = recorded_runs("gan_recipes")
    conditional = runs[runs.name.str.startswith("conditional")]
    assert set(conditional.name) == {"conditional", "conditional-aux1"}
    assert conditional.obeyed.between(0, 1).all()
    assert (conditional.obeyed_worst <= conditional.obeyed).all()


def test_a_saved_run_carries_its_machine_and_date(monkeypatch, tmp_path, capsys):
    import json

    from tools import recording

    monkeypatch.setattr(recording, "RECORDED_DIR", tmp_path)
    line = recording.save_run({"name": "x", "frechet": 1.5}, "trial")
    record = json.loads((tmp_path / "trial.jsonl").read_text())
    assert json.loads(line) == record and record["frechet"] == 1.5
    assert {"cpus", "processor", "tensorflow", "keras"} <= set(record["machine"])
    assert record["date"].endswith("+00:00") and line in capsys.readouterr().out
    recording.save_run({"name": "y"}, "trial", save=False)
    assert len((tmp_path / "trial.jsonl").read_text().splitlines()) == 1
