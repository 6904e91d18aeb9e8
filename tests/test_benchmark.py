"""tools/benchmark.py reads where a chapter's time went from the cells nbclient executed."""

from __future__ import annotations

import nbformat

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
