"""Assignments (tools/assignments.py): built with otter-grader from the chapters, graded by
otter's own autograder, locally, without Docker or network.

For every chapter: the worked solutions earn every automatic point, and the student
notebook, run top to bottom without the solutions, earns none: a planted wrong answer per
checker loses that question's points with the checker's own message in the report, and a
question left unanswered (the first of a chapter with several) says that its answer is
missing. Bad submissions (not a notebook, a cell that runs too long) are graded for what
they have.
"""

import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from tests.fixtures.wrong_answers import WRONG_ANSWERS
from tools.assignments import AUTO_POINTS, FULL_MODE_ONLY, build, grade, questions
from tools.notebooks import Project, chapter_to_notebook, solution_lines_kept

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))


class _Built(dict):
    """Chapter name -> assignment folder, each built when a test first asks for it: a
    pytest-xdist worker builds only the chapters of its own tests."""

    def __init__(self, output: Path):
        super().__init__()
        self.output, self.project = output, Project(ROOT)

    def __missing__(self, stem: str) -> Path:
        self[stem] = build(ROOT / "chapters" / f"{stem}.md", self.output, self.project)
        return self[stem]


@pytest.fixture(scope="module")
def assignments(tmp_path_factory):
    """Every chapter's assignment folder, built once per worker, when first needed."""
    return _Built(tmp_path_factory.mktemp("assignments"))


def _notebook(folder: Path, kind: str) -> Path:
    return folder / kind / f"{folder.name}.ipynb"


def _automatic(md_path: Path):
    return {q.name: q for q in questions(md_path).values() if q.automatic}


@pytest.mark.parametrize("md_path", CHAPTERS, ids=lambda path: path.stem[:2])
def test_assignment_folder(md_path, assignments):
    folder = assignments[md_path.stem]
    graded = questions(md_path)
    automatic = _automatic(md_path)
    # Public tests ship with the student notebook; the autograder holds the same tests.
    assert sorted(p.stem for p in (folder / "student" / "tests").glob("*.py")) == sorted(automatic)
    with zipfile.ZipFile(folder / "autograder" / f"{md_path.stem}-autograder.zip") as archive:
        assert sorted(Path(n).stem for n in archive.namelist()
                      if n.startswith("tests/")) == sorted(automatic)
    # The tests call genlib's checker: no copy of it.
    for name, question in automatic.items():
        test = (folder / "student" / "tests" / f"{name}.py").read_text()
        module, function = question.exercise.checker.rsplit(".", 2)[-2:]
        assert f"from genlib.exercises import {module}" in test
        assert f"{module}.{function}(" in test
        assert f"points = {AUTO_POINTS}" in test
    # The student notebook: no line of any solution, one check after each automatic answer.
    student = nbformat.read(_notebook(folder, "student"), as_version=4)
    assert solution_lines_kept(chapter_to_notebook(md_path), student) == []
    checks = re.findall(r'^grader\.check\("([^"]+)"\)$',
                        "\n".join(cell.source for cell in student.cells), re.MULTILINE)
    assert checks == list(automatic)
    # The rubric: every exercise graded by hand, with its points.
    rubric = (folder / "rubric.md").read_text()
    for question in graded.values():
        if not question.automatic:
            assert f"({question.points} points, question `{question.name}`)" in rubric
            assert 2 <= question.points <= 4, "a rubric has 2 to 4 graded criteria"


def _planted(folder: Path, md_path: Path) -> tuple[Path, set[str]]:
    """The student notebook as a student hands it in: each automatic answer cell holds a
    typical wrong answer, except the first one of a chapter with several, left as the
    student got it. Returns the notebook and the names of the questions left unanswered.

    One run of the chapter shows that the student version runs top to bottom without the
    solutions, that an unanswered question scores 0 and that a wrong answer scores 0 with
    its checker's message."""
    student = nbformat.read(_notebook(folder, "student"), as_version=4)
    automatic = [q for q in questions(md_path).values() if q.automatic]
    unanswered = {automatic[0].name} if len(automatic) > 1 else set()
    by_number = {q.exercise.number: q for q in automatic}
    for cell in student.cells:
        answer = re.match(r"# Your answer to Exercise ([\d.]+)", cell.source)
        if answer and answer[1] in by_number and by_number[answer[1]].name not in unanswered:
            cell.source += "\n" + WRONG_ANSWERS[by_number[answer[1]].name].strip()
    path = folder / "planted.ipynb"
    nbformat.write(student, path)
    return path, unanswered


def _checker_says(question) -> str:
    """What the question's checker says of the planted wrong answer (first line)."""
    import importlib

    namespace = {}
    exec(WRONG_ANSWERS[question.name], namespace)
    module, function = question.exercise.checker.rsplit(".", 1)
    checker = getattr(importlib.import_module(module), function)
    feedback = checker(*(namespace[name] for name in question.exercise.checker_arguments))
    assert not feedback, f"the planted answer to {question.name} passes its checker"
    return str(feedback).splitlines()[0].strip()


@pytest.mark.slow
@pytest.mark.parametrize("md_path", CHAPTERS, ids=lambda path: path.stem[:2])
def test_grading(md_path, assignments):
    folder = assignments[md_path.stem]
    automatic = _automatic(md_path)
    if not automatic:
        pytest.skip("no exercise of this chapter is graded automatically")

    # Quick mode, as everywhere in the tests: an exercise that only full mode can train
    # for scores 0 here, and says so.
    solutions = grade(folder, _notebook(folder, "autograder"), mode="quick")
    assert solutions.problem is None
    assert solutions.possible == {name: AUTO_POINTS for name in automatic}
    full_only = {name for name, q in automatic.items() if q.exercise.checker in FULL_MODE_ONLY}
    for name in full_only:
        assert solutions.scores[name] == 0
        assert "graded in full mode only" in solutions.messages[name]
    assert {name: score for name, score in solutions.scores.items() if name not in full_only} \
        == {name: AUTO_POINTS for name in automatic if name not in full_only}, \
        solutions.report()

    submission, unanswered = _planted(folder, md_path)
    planted = grade(folder, submission, mode="quick")
    assert planted.problem is None, planted.report()
    assert planted.scores == {name: 0 for name in automatic}, planted.report()
    for name, question in automatic.items():
        if name in full_only:
            continue
        expected = ("is not defined in the notebook" if name in unanswered
                    else _checker_says(question))
        assert expected in planted.messages[name], planted.report()


@pytest.mark.slow
def test_bad_submissions_are_graded_for_what_they_have(assignments, tmp_path):
    folder = assignments[CHAPTERS[0].stem]
    not_json = tmp_path / "broken.ipynb"
    not_json.write_text('{"cells": [', encoding="utf-8")
    broken = grade(folder, not_json, mode="quick")
    assert broken.total == 0 and "not a Jupyter notebook" in broken.problem

    # A cell that runs too long is interrupted; the answers after it are still graded.
    notebook = nbformat.read(_notebook(folder, "autograder"), as_version=4)
    notebook.cells.insert(3, new_code_cell("import time\ntime.sleep(600)"))
    notebook.metadata["kernelspec"]["name"] = "my-laptop-venv"  # a kernel we do not have
    slow = tmp_path / "slow.ipynb"
    nbformat.write(notebook, slow)
    result = grade(folder, slow, mode="quick", cell_timeout=20)
    assert result.problem is None
    assert result.scores == result.possible and result.total > 0, result.report()


def test_grade_reports_a_missing_file(assignments, tmp_path):
    result = grade(assignments[CHAPTERS[0].stem], tmp_path / "missing.ipynb")
    assert result.total == 0 and "does not exist" in result.problem
    assert json.dumps(result.scores) == "{}"


def test_a_kernel_that_dies_while_starting_is_started_again(tmp_path, monkeypatch):
    """Two kernels started at once can pick the same port, and one dies before its first
    reply (seen once in CI): that says nothing about the submission, so it is graded again."""
    import subprocess

    from tools import assignments

    (tmp_path / "autograder").mkdir()
    (tmp_path / "autograder" / "x-autograder.zip").write_bytes(b"")
    submission = tmp_path / "submission.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), submission)
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        if len(calls) == 1:
            return subprocess.CompletedProcess(
                command, 1, "", f"RuntimeError: {assignments.KERNEL_START_FAILURE}")
        Path(command[5]).write_text(json.dumps({"problem": None, "questions": {
            "ex-01": {"score": 2.0, "possible": 2.0, "failures": []}}}))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(assignments.subprocess, "run", fake_run)
    result = grade(tmp_path, submission, mode="quick")
    assert len(calls) == 2 and result.problem is None and result.scores == {"ex-01": 2.0}
