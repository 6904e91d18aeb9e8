"""Assignments (tools/assignments.py): built with otter-grader from the chapters, graded by
otter's own autograder, locally, without Docker or network.

For every chapter: the worked solutions earn every automatic point, the untouched student
notebook none (without crashing), and a planted wrong answer per checker (in a notebook of
the answers alone) loses that question's points with the checker's own message in the
report. Bad submissions (not a notebook, a cell that runs too long) are graded for what they
have.
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


@pytest.fixture(scope="module")
def assignments(tmp_path_factory):
    """Every chapter's assignment folder, built once."""
    output = tmp_path_factory.mktemp("assignments")
    project = Project(ROOT)
    return {path.stem: build(path, output, project) for path in CHAPTERS}


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


def _planted(folder: Path, md_path: Path) -> Path:
    """The student notebook's answer cells alone, each automatic one holding a typical wrong
    answer: a submission whose author deleted the chapter's cells, graded like any other
    (and without running the chapter a third time)."""
    student = nbformat.read(_notebook(folder, "student"), as_version=4)
    by_number = {q.exercise.number: q for q in questions(md_path).values()}
    answers = []
    for cell in student.cells:
        answer = re.match(r"# Your answer to Exercise ([\d.]+)", cell.source)
        if answer and by_number[answer[1]].automatic:
            wrong = WRONG_ANSWERS[by_number[answer[1]].name]
            answers.append(new_code_cell(cell.source + "\n" + wrong.strip()))
    student.cells = answers
    path = folder / "planted.ipynb"
    nbformat.write(student, path)
    return path


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

    untouched = grade(folder, _notebook(folder, "student"), mode="quick")
    assert untouched.problem is None
    assert untouched.scores == {name: 0 for name in automatic}, untouched.report()
    for name in set(automatic) - full_only:
        assert "is not defined in the notebook" in untouched.messages[name]

    planted = grade(folder, _planted(folder, md_path), mode="quick")
    assert planted.scores == {name: 0 for name in automatic}, planted.report()
    for name, question in automatic.items():
        if name not in full_only:
            assert _checker_says(question) in planted.messages[name], planted.report()


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
