"""The recorded times are within their budgets.

`tools/benchmark.py` measures (never the tests: they time nothing) and writes
``benchmarks/results-MODE.json``; this test reads what was recorded and fails when a chapter,
the whole book or CI was recorded over its budget, so that a slow chapter cannot land
unnoticed. Budgets come from `tools/benchmark.py`, the one place they are written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genlib.claims import failed_claims
from tools.benchmark import BOOK_BUDGET, BUDGETS, CI_BUDGET, book_chapters

ROOT = Path(__file__).resolve().parent.parent
MODES = ("quick", "full")


def recorded(mode: str) -> dict:
    path = ROOT / "benchmarks" / f"results-{mode}.json"
    assert path.exists(), f"{path.name} is missing: run `python tools/benchmark.py --mode {mode}`"
    return json.loads(path.read_text())


@pytest.mark.parametrize("mode", MODES)
def test_every_chapter_was_measured_and_is_within_its_budget(mode):
    chapters = recorded(mode)["chapters"]
    for chapter in book_chapters():
        assert chapter in chapters, (f"{chapter} has no recorded {mode}-mode time: run "
                                     f"`python tools/benchmark.py --mode {mode} --chapter "
                                     f"{chapter[:2]}`")
        seconds, budget = chapters[chapter]["seconds"], BUDGETS[chapter][mode]
        assert seconds <= budget, f"{chapter} took {seconds} s in {mode} mode: over its {budget} s"


def test_the_whole_book_and_ci_are_within_their_budgets():
    full = recorded("full")
    assert "book" in full, "no whole-book time recorded: run `python tools/benchmark.py --book`"
    assert full["book"]["seconds"] <= BOOK_BUDGET, (
        f"the whole book took {full['book']['seconds']} s: over its {BOOK_BUDGET} s")
    if "ci" in full:
        assert full["ci"]["seconds"] <= CI_BUDGET, (
            f"CI took {full['ci']['seconds']} s: over its {CI_BUDGET} s")


@pytest.mark.xfail(strict=True, reason=(
    "issue 20: the recorded build (Xeon, 1,264 s) had chapters 1-8; the nine-chapter book was "
    "timed only on an AMD EPYC, 3,106 s, over its budget, and not recorded. Remove this mark "
    "when a nine-chapter build is recorded"))
def test_the_recorded_book_build_had_every_chapter():
    book = recorded("full")["book"]
    missing = sorted(set(book_chapters()) - set(book.get("chapters", [])))
    assert not missing, (f"the recorded book build did not execute {', '.join(missing)}: run "
                         f"`python tools/benchmark.py --book` again")


def test_every_recorded_full_mode_claim_holds():
    # genlib.claims.check_claim records each conclusion of the text as claim.* (1 = holds).
    failed = [f"{chapter}: {name}"
              for chapter, entry in recorded("full")["chapters"].items()
              for name in failed_claims(entry.get("results", {}))]
    assert not failed, ("the full-mode run recorded claims of the text that did not hold: "
                        + "; ".join(failed))
