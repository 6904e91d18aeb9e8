"""Every chapter has an up-to-date notebook twin that reads well in Colab, and a student version.

For each chapters/NAME.md: notebooks/NAME.ipynb is exactly what `make notebooks` generates, has no
outputs and no raw MyST, its student version keeps none of the solutions, and the chapter has
exercises, each with a worked solution. Fast: converts text, executes nothing.
"""

import functools
import re
from pathlib import Path

import nbformat
import pytest

from tools.notebooks import (
    Project,
    chapter_to_notebook,
    is_solution,
    notebook_text,
    solution_lines_kept,
    student_version,
)

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Project(ROOT)
CHAPTERS = PROJECT.chapter_files()
FIX = "run `make notebooks` and commit notebooks/"

RAW_MYST = [
    re.compile(r"^[ \t>]*(:::+|```+)\{[a-z-]+\}", re.MULTILINE),
    re.compile(r"\{[a-z:-]+\}`"),
    re.compile(r"^[ \t>]*\(.*\)=$", re.MULTILINE),
]

chapter = pytest.mark.parametrize(
    "md_path",
    [pytest.param(path, id=path.stem) for path in CHAPTERS]
    or [pytest.param(None, marks=pytest.mark.skip(reason="chapters/ holds no chapter yet"))],
)


@functools.cache
def generated(md_path):
    return chapter_to_notebook(md_path, project=PROJECT)


def committed_path(md_path):
    return ROOT / "notebooks" / f"{md_path.stem}.ipynb"


@chapter
def test_committed_notebook_is_up_to_date(md_path):
    path = committed_path(md_path)
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: {FIX}"
    assert path.read_text(encoding="utf-8") == notebook_text(generated(md_path)), (
        f"{path.relative_to(ROOT)} is out of sync with chapters/{md_path.name}: {FIX}"
    )


@chapter
def test_committed_notebook_has_no_outputs(md_path):
    path = committed_path(md_path)
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is missing (reported by test_committed_notebook_is_up_to_date)")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.relative_to(ROOT)} {cell.id} has outputs: {FIX}"
            )


@chapter
def test_markdown_has_no_raw_myst(md_path):
    for cell in generated(md_path).cells:
        if cell.cell_type == "markdown":
            for pattern in RAW_MYST:
                match = pattern.search(cell.source)
                assert not match, f"{md_path.name} {cell.id}: raw MyST {match[0]!r} would show in Colab"


@chapter
def test_student_version_has_no_solution(md_path):
    notebook = generated(md_path)
    student = student_version(notebook)
    assert not any(is_solution(cell) for cell in student.cells)
    assert solution_lines_kept(notebook, student) == [], f"{md_path.name}: the student version shows solutions"


@chapter
def test_every_exercise_has_a_worked_solution(md_path):
    markdown = "\n".join(cell.source for cell in generated(md_path).cells if cell.cell_type == "markdown")
    exercises = re.findall(r"^### Exercise ([\d.]+)", markdown, re.MULTILINE)
    solutions = re.findall(r"^#### Solution to Exercise ([\d.]+)", markdown, re.MULTILINE)
    assert exercises, f"{md_path.name} has no exercise: every chapter ends with exercises"
    missing = sorted(set(exercises) - set(solutions), key=exercises.index)
    assert not missing, f"{md_path.name}: no worked solution for Exercise {', '.join(missing)}"


def test_no_notebook_without_chapter():
    chapters = {path.stem for path in CHAPTERS}
    orphans = [path.name for path in sorted((ROOT / "notebooks").glob("*.ipynb")) if path.stem not in chapters]
    assert not orphans, f"notebooks without a chapter: {orphans}: {FIX}"


def parsed_code_cells(md_path):
    """Each code cell of the chapter's notebook with its syntax tree (IPython-only cells,
    e.g. ``%pip``, are left out: they hold no genlib code)."""
    import ast

    for cell in generated(md_path).cells:
        if cell.cell_type == "code":
            try:
                yield cell, ast.parse(cell.source)
            except SyntaxError:
                continue


def shown_sources(md_path):
    """The genlib objects a chapter shows with ``show_source(...)``, by the name it uses."""
    import ast
    import importlib

    names, shown = {}, {}
    for _, tree in parsed_code_cells(md_path):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("genlib"):
                for alias in node.names:
                    names[alias.asname or alias.name] = (node.module, alias.name)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "show_source" and node.args):
                shown[ast.unparse(node.args[0])] = None
    for expression in shown:
        first, *rest = expression.split(".")
        assert first in names, f"{md_path.name}: cannot tell where show_source({expression}) comes from"
        module, name = names[first]
        obj = getattr(importlib.import_module(module), name)
        for part in rest:
            obj = getattr(obj, part)
        shown[expression] = obj
    return shown


#: The book's column, in characters: code shown on a page must fit it (CONTRIBUTING.md).
PAGE_COLUMNS = 84


@chapter
def test_shown_source_fits_the_page(md_path):
    """What show_source puts on the page: code without docstrings, within the column."""
    from genlib.source import show_source

    for expression, obj in shown_sources(md_path).items():
        code = show_source(obj).data
        assert '"""' not in code and "Traceback (most recent call last)" not in code
        long = [line for line in code.splitlines() if len(line) > PAGE_COLUMNS]
        assert not long, (f"{md_path.name} shows {expression}, with lines longer than "
                          f"{PAGE_COLUMNS} characters: {long}")


@chapter
def test_no_cell_ends_by_echoing_a_recorded_result(md_path):
    """``record_result`` returns its value: as a cell's last line it would print a bare number."""
    import ast

    for cell, tree in parsed_code_cells(md_path):
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            name = ast.unparse(last.value.func)
            assert not name.endswith("record_result"), (
                f"{md_path.name} {cell.id} ends with {name}(...), which shows a bare number "
                "under the cell: assign it (`_ = ...`) or print a sentence"
            )
