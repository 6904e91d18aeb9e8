"""tools/benchmark.py reads where a chapter's time went from the cells nbclient executed."""

from __future__ import annotations

import json

import nbformat

from tools import benchmark
from tools.benchmark import cell_seconds, exercise_seconds, slowest_cells


def executed_cell(source: str, start: str | None, end: str | None):
    cell = nbformat.v4.new_code_cell(source)
    if start and end:
        cell.metadata["execution"] = {"iopub.execute_input": start, "shell.execute_reply": end}
    return cell


def test_a_cell_lasts_from_its_input_to_its_reply():
    cell = executed_cell("x = 1", "2026-12-02T07:00:00.250Z", "2026-12-02T07:00:03.000Z")
    assert cell_seconds(cell) == 2.75
    assert cell_seconds(executed_cell("x = 1", None, None)) == 0.0  # never executed


def test_the_slowest_cells_come_first_numbered_among_code_cells():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter"),
        executed_cell("import genlib", "2026-12-02T07:00:00Z", "2026-12-02T07:00:05Z"),
        executed_cell("model.fit(x)\nprint(model)", "2026-12-02T07:00:05Z",
                      "2026-12-02T07:01:05Z"),
        executed_cell("", "2026-12-02T07:01:05Z", "2026-12-02T07:01:06Z"),
    ])
    slowest = slowest_cells(notebook, count=2)
    assert slowest == [{"cell": 2, "seconds": 60.0, "first_line": "model.fit(x)"},
                       {"cell": 1, "seconds": 5.0, "first_line": "import genlib"}]


def solution(cell):
    cell.metadata["tags"] = ["solution"]
    return cell


def test_each_exercise_is_timed_by_its_solutions_code_cells():
    notebook = nbformat.v4.new_notebook(cells=[
        executed_cell("setup()", "2026-12-02T07:00:00Z", "2026-12-02T07:00:30Z"),
        solution(nbformat.v4.new_markdown_cell("#### Solution to Exercise 4.2\n\nFirst...")),
        solution(executed_cell("a()", "2026-12-02T07:00:30Z", "2026-12-02T07:00:40Z")),
        solution(nbformat.v4.new_markdown_cell("Then:")),
        solution(executed_cell("b()", "2026-12-02T07:00:40Z", "2026-12-02T07:00:42.5Z")),
        executed_cell("chapter_goes_on()", "2026-12-02T07:00:42.5Z", "2026-12-02T07:01:00Z"),
        solution(nbformat.v4.new_markdown_cell("#### Solution to Exercise 4.3\n\nIn words.")),
    ])
    assert exercise_seconds(notebook) == {"4.2": 12.5, "4.3": 0.0}


def test_site_mode_prints_each_page_and_records_the_slowest(tmp_path, monkeypatch, capsys):
    site = tmp_path / "html"
    site.mkdir()
    (site / "index.html").write_text("<html></html>")
    monkeypatch.setattr(benchmark, "ROOT", tmp_path)
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "results-full.json").write_text('{"mode": "full"}')
    monkeypatch.setattr(benchmark, "machine", lambda: {"cpus": 2})
    monkeypatch.setattr(benchmark, "page_load_seconds",
                        lambda html: {"book/intro": 0.5, "chapters/08_x": 1.5})
    assert benchmark.main(["--site", str(site)]) == 0
    assert "slowest page: 1.50 s (target <= 2 s: met)" in capsys.readouterr().out
    saved = json.loads((tmp_path / "benchmarks" / "results-full.json").read_text())
    assert saved["site"]["slowest_seconds"] == 1.5
    monkeypatch.setattr(benchmark, "page_load_seconds", lambda html: {"book/intro": 2.5})
    assert benchmark.main(["--site", str(site), "--no-record"]) == 1
