"""genlib.claims: each claim of the text is printed with its verdict and recorded."""

import json

import numpy as np
import pytest

from genlib.claims import beats, check_claim, failed_claims, tie_or_ranking


@pytest.fixture
def results_file(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv("GENLIB_RESULTS_FILE", str(path))
    return path


def recorded(path):
    return {r["name"]: r["value"] for r in map(json.loads, path.read_text().splitlines())}


def test_a_claim_is_recorded_and_printed_with_its_verdict(results_file, capsys, monkeypatch):
    monkeypatch.setenv("GENLIB_MODE", "full")
    assert check_claim("toy.holds", 1.0 < 2.0, "one is less than two") is True
    assert check_claim("toy.fails", np.float64(3.0) < 2.0, "three is less than two") is False
    out = capsys.readouterr().out
    assert "one is less than two – holds in this run" in out
    assert "this run contradicts the text: it does not show that three is less than two" in out
    assert recorded(results_file) == {"claim.toy.holds": 1.0, "claim.toy.fails": 0.0}


def test_quick_mode_says_when_a_claim_does_not_show(results_file, capsys, monkeypatch):
    monkeypatch.setenv("GENLIB_MODE", "quick")
    check_claim("toy.quick", False, "the DCGAN beats the dense GAN")
    out = capsys.readouterr().out
    assert out.startswith("Quick mode: this run does not show that the DCGAN beats the dense")
    assert "full mode" in out and "contradicts" not in out


@pytest.mark.parametrize("name, holds, statement, error", [
    ("Bad Name", True, "x", ValueError),
    ("ok", True, "  ", ValueError),
    ("ok", 1, "x", TypeError),         # a constant, not a comparison
    ("ok", "yes", "x", TypeError),
])
def test_check_claim_refuses_bad_arguments(name, holds, statement, error):
    with pytest.raises(error):
        check_claim(name, holds, statement)


def test_a_gap_within_the_spread_is_a_tie():
    assert tie_or_ranking([1.0, 1.4, 1.2], [1.3, 1.1, 1.5]).startswith("A and B are tied")
    assert tie_or_ranking([1.0, 1.1, 1.2], [2.0, 2.1, 2.2]).startswith("A is better than B")
    assert tie_or_ranking([1.0, 1.1, 1.2], [2.0, 2.1, 2.2],
                          lower_is_better=False).startswith("B is better than A")
    assert "one seed each" in tie_or_ranking([1.0], [2.0])
    with pytest.raises(ValueError, match="one measurement per seed"):
        tie_or_ranking([1.0, 2.0], [1.0])


def test_beats_needs_a_gap_larger_than_either_spread():
    assert beats([1.0, 1.2], [2.0, 2.2])
    assert not beats([2.0, 2.2], [1.0, 1.2])
    assert beats([2.0, 2.2], [1.0, 1.2], lower_is_better=False)
    # Gap 0.5: larger than A's spread (0.07), smaller than B's (0.71).
    assert not beats([1.0, 1.1], [1.05, 2.05])
    assert not beats([1.0], [5.0])  # one seed: the spread is unknown
    with pytest.raises(ValueError, match="one measurement per seed"):
        beats([1.0, 2.0], [1.0])


def test_the_full_mode_book_build_stops_on_a_false_claim(results_file, monkeypatch):
    from tools.book import false_claims

    monkeypatch.setenv("GENLIB_MODE", "quick")
    check_claim("toy.quick_only", False, "a quick-mode run shows it")
    monkeypatch.setenv("GENLIB_MODE", "full")
    check_claim("toy.true", True, "it holds")
    check_claim("toy.false", False, "it does not hold")
    assert false_claims(results_file) == ["claim.toy.false"]
    assert false_claims(results_file.with_name("absent.jsonl")) == []


def test_failed_claims_reads_mappings_and_pairs_and_ignores_other_results():
    # One function for the benchmark, the budget test and the book build.
    assert failed_claims({"claim.b": 0.0, "claim.a": 1.0, "vae.frechet": 0.0}) == ["claim.b"]
    assert failed_claims([("claim.z", 0.0), ("claim.y", 0.0), ("claim.x", 1.0)]) == [
        "claim.y", "claim.z"]
    assert failed_claims({}) == []
