"""The results page's generator (tools/results_page.py) and the benchmark's --book record.

Fast: synthetic result files in a temporary folder; the real page is built by test_book.py.
"""

import doctest
import json
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from tools import benchmark, results_page
from tools.results_page import Report

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "02_stacked_autoencoders"
TARGET = next(iter(benchmark.TARGETS))


def test_doctests():
    result = doctest.testmod(results_page, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed


def write(folder: Path, mode: str, chapters: dict, **extra) -> None:
    machine = {"date": "2026-11-24T10:29:10+00:00", "cpus": 2, "processor": "x86_64",
               "python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1"}
    (folder / f"results-{mode}.json").write_text(
        json.dumps({"mode": mode, "machine": machine, "chapters": chapters, **extra}))


@pytest.fixture()
def recorded(tmp_path):
    write(tmp_path, "full", {
        CHAPTER: {"seconds": 197.1, "results": {TARGET: 0.5, "other.val_mse": 0.25}},
        "07_gans": {"seconds": 900.0, "results": {"gan.frechet": 30.0, "real_baseline.frechet": 2.0,
                                                  "dcgan.frechet": 10.0}},
    }, book={"seconds": 1900.0, "budget_seconds": 2700, "machine": {"cpus": 2}})
    write(tmp_path, "quick", {CHAPTER: {"seconds": 40.0, "results": {TARGET: 0.9}}})
    return Report.load(tmp_path)


def test_without_result_files_the_page_says_so(tmp_path):
    report = Report.load(tmp_path)
    assert not report.has_results
    assert report.summary().startswith("No results were recorded yet")
    assert report.plot_times() is None
    assert "not been timed" in report.book_sentence()
    assert report.times_table() == "No chapter was timed yet."
    assert report.metrics_table() == "No chapter recorded a metric yet."
    assert report.frechet_table() == "No chapter recorded a Fréchet distance yet."
    assert report.machine_table() == "No machine was recorded yet."


def test_a_broken_file_is_named(tmp_path):
    (tmp_path / "results-full.json").write_text("{")
    with pytest.raises(ValueError, match="results-full.json is not valid JSON"):
        Report.load(tmp_path)


def test_metrics_sit_next_to_the_imported_targets(recorded):
    table = recorded.metrics_table()
    limit, source = benchmark.TARGETS[TARGET]
    line = next(line for line in table.splitlines() if f"`{TARGET}`" in line)
    verdict = "met" if 0.5 <= limit else results_page.OVER.format("missed")
    assert f"≤ {limit:g}: {verdict} ({source})" in line
    assert "| 0.5 | 0.9 |" in line  # full, then quick
    assert "frechet" not in table  # Fréchet distances have their own table


def test_frechet_distances_come_with_the_real_baseline(recorded):
    table = recorded.frechet_table()
    assert table.startswith("**07_gans**")  # a chapter not in the book: its name, no link
    rows = [line for line in table.splitlines() if line.startswith("| ") and "gan" in line]
    assert len(rows) == 2 and "real_baseline" not in table
    assert rows[0].startswith("| gan | 30 | 2 | 15.0× |")
    assert rows[1].startswith("| dcgan | 10 | 2 | 5.0× |")


def test_times_against_budgets(recorded):
    table = recorded.times_table()
    budget = benchmark.BUDGETS[CHAPTER]
    assert f"40 s ({results_page.format_seconds(budget['quick'])})" in table
    assert "| {doc}`2. Stacked autoencoders </chapters/02_stacked_autoencoders>` |" in table
    # A chapter of the book that was never measured is listed as such.
    assert "01_efficient_representations" in table and "not measured" in table
    figure = recorded.plot_times()
    assert [ax.get_title() for ax in figure.axes] == ["quick mode", "full mode"]


def test_a_time_within_its_budget_but_without_headroom_is_flagged(tmp_path):
    budget = benchmark.BUDGETS[CHAPTER]["full"]
    write(tmp_path, "full", {CHAPTER: {"seconds": 0.9 * budget, "results": {}}})
    table = Report.load(tmp_path).times_table()
    assert "(over 80% of it)" in table and "over budget" not in table
    write(tmp_path, "full", {CHAPTER: {"seconds": 0.5 * budget, "results": {}}})
    assert "of it)" not in Report.load(tmp_path).times_table()


def test_a_time_over_its_budget_is_shown_in_red(tmp_path):
    budget = benchmark.BUDGETS[CHAPTER]["full"]
    write(tmp_path, "full", {CHAPTER: {"seconds": budget + 1.0, "results": {}}},
          book={"seconds": benchmark.BOOK_BUDGET + 60.0, "machine": {"cpus": 2}})
    report = Report.load(tmp_path)
    red = '<span class="over-budget">'
    assert red + "over budget</span>" in report.times_table()
    assert red + "over</span> its budget" in report.book_sentence()
    css = (ROOT / "book" / "_static" / "course.css").read_text()
    assert ".over-budget {" in css and "color:" in css


def test_a_book_build_older_than_a_chapter_says_so_in_red(tmp_path):
    (tmp_path / "chapters").mkdir()
    for name, title in [("01_a", "First"), ("02_b", "Second"), ("03_c", "Third")]:
        (tmp_path / "chapters" / f"{name}.md").write_text(f"# {title}\n")
    (tmp_path / "_toc.yml").write_text("".join(f"  - file: chapters/{name}\n"
                                               for name in ("01_a", "02_b", "03_c")))
    book = {"seconds": 1200.0, "machine": {"cpus": 2}, "chapters": ["01_a", "02_b"]}
    write(tmp_path, "full", {}, book=book)
    sentence = Report.load(tmp_path, root=tmp_path).book_sentence()
    assert "within its budget" in sentence
    assert ('<span class="over-budget">That build had 2 chapters; 3. Third joined the book '
            'later, and the book as it is now has not been timed.</span>') in sentence
    write(tmp_path, "full", {}, book={**book, "chapters": ["01_a", "02_b", "03_c"]})
    assert "over-budget" not in Report.load(tmp_path, root=tmp_path).book_sentence()
    del book["chapters"]
    write(tmp_path, "full", {}, book=book)
    assert Report.load(tmp_path, root=tmp_path).book_sentence().endswith(
        "Which chapters that build executed was not recorded.")


def test_the_benchmark_records_which_chapters_the_book_build_had(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.setattr(benchmark, "ROOT", tmp_path)
    (tmp_path / "chapters").mkdir()
    for name in ("02_b", "01_a"):
        (tmp_path / "chapters" / f"{name}.md").write_text("# X\n")
    monkeypatch.setattr(benchmark, "machine", lambda: {"cpus": 2})
    build = SimpleNamespace(wall_seconds=1500.0, cpu_seconds=2850.0, cores_busy=1.9)
    monkeypatch.setattr(benchmark, "build_book", lambda: build)
    assert benchmark.main(["--book", "--no-record"]) == 0
    assert "Run `make book` again" not in capsys.readouterr().out  # nothing new to show
    assert not list(tmp_path.rglob("*.json"))
    assert benchmark.main(["--book"]) == 0
    assert "Run `make book` again" in capsys.readouterr().out
    saved = json.loads((tmp_path / "benchmarks" / "results-full.json").read_text())
    assert saved["book"]["chapters"] == ["01_a", "02_b"]


def test_book_build_against_its_budget(recorded):
    assert benchmark.BOOK_BUDGET == 45 * 60 and benchmark.BOOK_TARGET == 30 * 60
    sentence = recorded.book_sentence()
    assert "31 min 40 s" in sentence and "within its budget of 45 min 00 s" in sentence
    assert "whole book, full mode" in recorded.machine_table()


def test_the_benchmark_keeps_the_book_time_when_chapters_are_measured_again(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark, "ROOT", tmp_path)
    output = benchmark.record_run("book", 1500.0, 2700.0, benchmark.BOOK_BUDGET, {"cpus": 2})
    saved = json.loads(output.read_text())
    assert saved["book"]["seconds"] == 1500.0 and saved["book"]["within_budget"]
    assert saved["book"]["cores_busy"] == 1.8 and saved["book"]["cpu_seconds"] == 2700.0
    # main() re-reads the file and replaces only the chapters it measured.
    empty = nbformat.v4.new_notebook()
    monkeypatch.setattr(benchmark, "run_chapter", lambda name, mode: (1.0, {}, empty))
    monkeypatch.setattr(benchmark, "machine", lambda: {"cpus": 2, "processor": "x", "python": "3",
                                                       "tensorflow": "2", "keras": "3"})
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_x.md").write_text("# X\n")
    assert benchmark.main(["--mode", "full"]) == 0
    saved = json.loads(output.read_text())
    assert saved["book"]["seconds"] == 1500.0 and "01_x" in saved["chapters"]


def test_no_record_times_ci_without_writing(tmp_path, monkeypatch):
    """`--ci --no-record` prints the time but records nothing (another machine's run)."""
    monkeypatch.setattr(benchmark, "ROOT", tmp_path)
    monkeypatch.setattr(benchmark, "run_ci", lambda: (10.0, 15.0))
    assert benchmark.main(["--ci", "--no-record"]) == 0
    assert not list(tmp_path.rglob("*.json"))
    assert benchmark.main(["--ci"]) == 0
    assert json.loads((tmp_path / "benchmarks" / "results-full.json").read_text())["ci"]


def test_every_exercise_with_how_it_is_graded_and_its_solutions_time(tmp_path):
    root = tmp_path / "repo"
    (root / "chapters").mkdir(parents=True)
    (root / "_toc.yml").write_text("chapters:\n  - file: chapters/03_demo\n")
    (root / "chapters" / "03_demo.md").write_text("""# Demo

:::{exercise} Checked by code
:label: ex-checked

Call `ch03.check_something(my_function)`.
:::

:::{exercise} With a rubric
:label: ex-rubric

Compare.
:::

:::{solution-start} ex-rubric
:::

It wins.

:::{admonition} Rubric
- One point.
:::

:::{solution-end}
:::

:::{exercise} Not yet gradeable
:label: ex-open

Discuss.
:::
""")
    write(tmp_path, "full", {"03_demo": {"seconds": 90.0, "results": {},
                                         "exercise_seconds": {"3.1": 0.4, "3.2": 125.0}}})
    table = Report.load(tmp_path, root=root).exercises_table()
    rows = table.splitlines()[2:]
    assert rows == [
        "| 3.1 Checked by code | checker `ch03.check_something` | 2 | 0 s | not measured |",
        "| 3.2 With a rubric | rubric | 1 | 2 min 05 s | not measured |",
        '| 3.3 Not yet gradeable | <span class="over-budget">no rubric yet</span> | 0 | '
        "not measured | not measured |",
    ]


def test_times_from_two_machines_are_not_recorded_in_one_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(benchmark, "ROOT", tmp_path)
    (tmp_path / "chapters").mkdir()
    for name in ("01_a", "02_b"):
        (tmp_path / "chapters" / f"{name}.md").write_text("# X\n")
    (tmp_path / "benchmarks").mkdir()
    write(tmp_path / "benchmarks", "full", {
        name: {"seconds": 10.0, "results": {}, "machine": {"processor": "Intel Xeon"}}
        for name in ("01_a", "02_b")})
    monkeypatch.setattr(benchmark, "machine", lambda: {"cpus": 2, "processor": "AMD EPYC",
                                                       "python": "3", "tensorflow": "2",
                                                       "keras": "3"})
    monkeypatch.setattr(benchmark, "run_chapter",
                        lambda name, mode: (1.0, {}, nbformat.v4.new_notebook()))
    monkeypatch.setattr(benchmark, "build_book", lambda: pytest.fail("built the book"))
    for argv in (["--mode", "full", "--chapter", "02"], ["--book"], ["--ci"]):
        with pytest.raises(SystemExit):
            benchmark.main(argv)
        error = capsys.readouterr().err
        assert ("benchmarks/results-full.json holds the times of 1 chapter (01_a, ...) "
                if argv[0] == "--mode" else "holds the times of 2 chapters") in error
        assert "measured on 'Intel Xeon', and this machine is 'AMD EPYC'" in error
        assert "or add --no-record" in error
    assert benchmark.main(["--mode", "full", "--chapter", "02", "--no-record"]) == 0
    # Every chapter measured again here replaces the other machine's times.
    assert benchmark.main(["--mode", "full"]) == 0
    saved = json.loads((tmp_path / "benchmarks" / "results-full.json").read_text())
    assert {entry["machine"]["processor"] for entry in saved["chapters"].values()} == {
        "AMD EPYC"}
