"""Each chapter's exercises as an otter-grader assignment; grading submissions with it.

    python tools/assignments.py build [--output _build/assignments] [--chapter 01 ...]
    python tools/assignments.py grade _build/assignments/01_efficient_representations \\
        SUBMISSION.ipynb ... [--mode full|quick] [--csv grades.csv] [--cell-timeout 3600]

An assignment is the chapter's notebook as students run it (in Colab or Jupyter), with every
worked solution removed, and otter-grader's machinery around its exercises
(https://otter-grader.readthedocs.io): ``build`` writes, for each chapter, the folder

    student/<chapter>.ipynb     what students get: the chapter without its solutions, an
                                otter cell at the top, and ``grader.check("ex-01-angles")``
                                after each exercise that a checker grades
    student/tests/              the public tests those calls run (ship them with the notebook)
    autograder/<chapter>-autograder.zip
                                otter's autograder: upload it to Gradescope, or grade locally
                                with ``grade`` below (or ``otter run``)
    autograder/<chapter>.ipynb  the same notebook with the worked solutions, for the grader
    rubric.md                   the exercises graded by hand: points, expected outcome, criteria

An exercise whose text names a checker (``ch01.check_principal_angles(my_principal_angles)``)
is graded automatically by that very checker of ``genlib.exercises`` (the tests call it: there
is no second copy), for ``AUTO_POINTS`` points; an exercise with a rubric is graded by hand,
one point per criterion of its rubric.

``grade`` runs otter's autograder on each submission without Docker, in this environment
(genlib and otter-grader installed), in full mode unless ``--mode quick``, and never stops on
a bad submission: a file that is not a notebook, a notebook with cells or functions missing, a
cell that runs too long (interrupted after ``--cell-timeout`` seconds, the rest still runs) is
graded for what it has, and the report says what was missing.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: `from tools import ...` needs the root
    sys.path.insert(0, str(REPO_ROOT))

from tools.notebooks import (  # noqa: E402
    ANSWER_TAG,
    SOLUTION_HEADING_PATTERN,
    ExerciseSummary,
    Project,
    chapter_to_notebook,
    exercise_summaries,
    is_solution,
    notebook_text,
    student_version,
)

#: Points of an exercise graded automatically by its checker.
AUTO_POINTS = 2
#: Seconds a cell of a submission may run before it is interrupted (the next cells still
#: run), as long as the book gives a chapter: a full-mode chapter's longest training cell
#: (chapter 9's U-Net) took 394 s on the 2-core Xeon where the budgets were measured, 567 s
#: on a 2-core AMD EPYC, and 1,813 s there beside another chapter's training.
CELL_TIMEOUT = 3600
#: Seconds the whole grading of one submission may take.
SUBMISSION_TIMEOUT = 3 * 3600

#: Checkers whose answer is a trained model that quick mode cannot train: their questions are
#: graded in full mode only (in quick mode they score 0, and the report says why).
FULL_MODE_ONLY = {
    "genlib.exercises.ch07.check_conditional_generator":
        "quick mode trains the conditional GAN for 40 steps, too few for any generator to "
        "learn the classes",
}

EXERCISE_HEADING = re.compile(r"^### Exercise (?P<number>\d+\.\d+)\b", re.MULTILINE)

#: otter assign's configuration: our own init cell (whatever the notebook is called, e.g.
#: "Copy of ..." in Colab), tests as files (Colab needs them), function-style tests (their
#: failure message is the checker's own, not a doctest trace), no PDFs.
ASSIGNMENT_CONFIG = """\
# ASSIGNMENT CONFIG
init_cell: false
check_all_cell: false
export_cell: false
run_tests: false
solutions_pdf: false
template_pdf: false
generate:
  pdf: false
  show_stdout: true
  show_hidden: true
tests:
  files: true
  ok_format: false
requirements: requirements.txt
python_version: "3.11"
"""

#: The first cell students run after genlib's install cell.
INIT_SOURCE = """\
# The assignment's checks (otter-grader): grader.check("...") runs one exercise's public
# tests, which live in the folder tests/ next to this notebook.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("otter") is None:
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.check_call([*pip, "otter-grader"])
    importlib.invalidate_caches()

import otter

grader = otter.Notebook(tests_dir="tests")"""


@dataclass
class Question:
    """One exercise as otter grades it."""

    exercise: ExerciseSummary

    @property
    def name(self) -> str:
        return self.exercise.label or f"exercise-{self.exercise.number}"

    @property
    def automatic(self) -> bool:
        return self.exercise.checker is not None

    @property
    def points(self) -> int:
        return AUTO_POINTS if self.automatic else self.exercise.rubric_points

    def header(self) -> str:
        lines = ["# BEGIN QUESTION", f"name: {self.name}", f"points: {self.points}"]
        if not self.automatic:
            lines.append("manual: true")
        return "\n".join(lines)

    def test_source(self) -> str:
        """The test: the exercise's own checker on the names the student defined."""
        module, function = self.exercise.checker.rsplit(".", 2)[-2:]
        arguments = self.exercise.checker_arguments
        missing = "\n".join(
            f"    assert {name} is not None, (\"`{name}` is not defined in the notebook: "
            f"define it, with this name, in your answer to Exercise "
            f"{self.exercise.number}\")"
            for name in arguments
        )
        test_name = "test_" + re.sub(r"\W", "_", self.name)
        full_mode_only = ""
        if why := FULL_MODE_ONLY.get(self.exercise.checker):
            full_mode_only = (
                "    from genlib.modes import current_mode\n\n"
                "    assert not current_mode().is_quick, (\n"
                f"        \"graded in full mode only ({why}): grade with GENLIB_MODE=full\")\n"
            )
        return (
            f"def {test_name}({', '.join(arguments)}):\n"
            f"{full_mode_only}{missing}\n"
            f"    from genlib.exercises import {module}\n\n"
            f"    feedback = {module}.{function}({', '.join(arguments)})\n"
            f"    assert feedback, str(feedback)"
        )


def questions(md_path: Path | str) -> dict[str, Question]:
    """The chapter's exercises that can be graded, by number ("1.2"), in order."""
    graded = {}
    for exercise in exercise_summaries(md_path):
        question = Question(exercise)
        if not (question.automatic or exercise.has_rubric):
            raise ValueError(f"{md_path}: Exercise {exercise.number} has neither a checker in "
                             "its text nor a Rubric admonition in its solution: add one")
        graded[exercise.number] = question
    return graded


def _split_at_exercises(cell: NotebookNode) -> list[tuple[str | None, NotebookNode]]:
    """A Markdown cell cut before each ``### Exercise C.K`` heading: (number or None, cell)."""
    starts = [match.start() for match in EXERCISE_HEADING.finditer(cell.source)]
    if not starts:
        return [(None, cell)]
    pieces = []
    if cell.source[: starts[0]].strip():
        pieces.append((None, new_markdown_cell(cell.source[: starts[0]].rstrip())))
    for start, end in zip(starts, [*starts[1:], len(cell.source)]):
        text = cell.source[start:end].rstrip()
        pieces.append((EXERCISE_HEADING.match(text)["number"], new_markdown_cell(text)))
    return pieces


def _untagged(cell: NotebookNode) -> NotebookNode:
    """A solution cell for otter's master notebook (its ``solution`` tag means nothing to
    otter; the student notebook we hand out is made from the chapter, not by otter)."""
    cell = copy.deepcopy(cell)
    cell.metadata.pop("tags", None)
    return cell


def master_notebook(md_path: Path | str, project: Project | None = None) -> NotebookNode:
    """The chapter's notebook in otter-assign's format: each exercise a question, its worked
    solution the question's solution, its checker the question's test."""
    md_path = Path(md_path)
    notebook = chapter_to_notebook(md_path, project=project)
    graded = questions(md_path)
    cells = [new_raw_cell(ASSIGNMENT_CONFIG)]
    in_solution: Question | None = None

    def close_question() -> None:
        cells.append(new_raw_cell("# END SOLUTION"))
        if in_solution.automatic:
            cells.extend([new_raw_cell("# BEGIN TESTS"),
                          new_code_cell(in_solution.test_source()),
                          new_raw_cell("# END TESTS")])
        cells.append(new_raw_cell("# END QUESTION"))

    for index, cell in enumerate(notebook.cells):
        if is_solution(cell):
            heading = (SOLUTION_HEADING_PATTERN.match(cell.source)
                       if cell.cell_type == "markdown" else None)
            if heading:
                if in_solution is not None:
                    close_question()
                in_solution = graded[heading["number"]]
                cells.append(new_raw_cell("# BEGIN SOLUTION"))
            cells.append(_untagged(cell))
            continue
        if in_solution is not None:
            close_question()
            in_solution = None
        for number, piece in (_split_at_exercises(cell) if cell.cell_type == "markdown"
                              else [(None, cell)]):
            if number is not None:
                cells.append(new_raw_cell(graded[number].header()))
            cells.append(piece)
        if index == 1:  # genlib's install cell: otter's own set-up comes right after it
            cells.append(new_code_cell(INIT_SOURCE))
    if in_solution is not None:
        close_question()
    master = copy.deepcopy(notebook)
    master.cells = cells
    return master


def student_notebook(md_path: Path | str, project: Project | None = None) -> NotebookNode:
    """What students get: the chapter's student version (no solution left), otter's set-up
    cell, and one ``grader.check`` call after each answer that a checker grades."""
    md_path = Path(md_path)
    graded = questions(md_path)
    student = student_version(chapter_to_notebook(md_path, project=project))
    cells = []
    for cell in student.cells:
        cells.append(cell)
        answer = re.match(r"# Your answer to Exercise (?P<number>[\d.]+)", cell.source)
        if ANSWER_TAG in cell.metadata.get("tags", []) and answer:
            question = graded[answer["number"]]
            if question.automatic:
                cells.append(new_code_cell(f'grader.check("{question.name}")'))
    # After the student note and genlib's install cell (see student_version).
    cells.insert(2, new_code_cell(INIT_SOURCE))
    student.cells = cells
    for position, cell in enumerate(student.cells):
        cell.id = f"cell-{position}"
    nbformat.validate(student)
    return student


def rubric_markdown(md_path: Path | str) -> str:
    """The exercises graded by hand, for the grader: points, then the rubric as written."""
    lines = [f"# Grading by hand: {Path(md_path).stem}", ""]
    for question in questions(md_path).values():
        if question.automatic:
            continue
        exercise = question.exercise
        rubric = "\n".join(exercise.rubric).strip()
        lines += [f"## Exercise {exercise.number}: {exercise.title} ({question.points} points, "
                  f"question `{question.name}`)", "", rubric, ""]
    return "\n".join(lines).rstrip() + "\n"


def build(md_path: Path | str, output: Path | str, project: Project | None = None) -> Path:
    """Write the assignment folder of one chapter (see the module's docstring); return it."""
    md_path = Path(md_path)
    folder = Path(output) / md_path.stem
    if folder.exists():
        shutil.rmtree(folder)
    with tempfile.TemporaryDirectory() as scratch:
        # What the autograder installs on Gradescope (otter's setup.sh): genlib, which brings
        # TensorFlow and Keras, from the course's repository.
        url, branch = (project or Project(REPO_ROOT)).repository
        (Path(scratch) / "requirements.txt").write_text(
            f"genlib @ git+{url}@{branch}\n", encoding="utf-8")
        master = Path(scratch) / f"{md_path.stem}.ipynb"
        master.write_text(notebook_text(master_notebook(md_path, project)), encoding="utf-8")
        dist = Path(scratch) / "dist"
        subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests",
                        "--no-pdfs", str(master), str(dist)],
                       check=True, capture_output=True, text=True, cwd=scratch)
        (folder / "student").mkdir(parents=True)
        shutil.copytree(dist / "student" / "tests", folder / "student" / "tests")
        (folder / "autograder").mkdir()
        [zip_file] = (dist / "autograder").glob("*-autograder_*.zip")  # named with a time
        shutil.copy(zip_file, folder / "autograder" / f"{md_path.stem}-autograder.zip")
        shutil.copy(dist / "autograder" / master.name, folder / "autograder" / master.name)
    student = student_notebook(md_path, project)
    (folder / "student" / f"{md_path.stem}.ipynb").write_text(notebook_text(student),
                                                              encoding="utf-8")
    (folder / "rubric.md").write_text(rubric_markdown(md_path), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------------
# Grading


@dataclass
class Grade:
    """One submission's automatic grade: points per question, and what went wrong."""

    submission: str
    scores: dict[str, float] = field(default_factory=dict)  # question -> points earned
    possible: dict[str, float] = field(default_factory=dict)  # question -> points possible
    messages: dict[str, str] = field(default_factory=dict)  # question -> why points were lost
    problem: str | None = None  # why the submission could not be graded at all

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    def report(self) -> str:
        lines = [f"{self.submission}: {self.total:g} of {sum(self.possible.values()):g} "
                 "automatic points"]
        if self.problem:
            lines.append(f"  not graded: {self.problem}")
        for name, score in self.scores.items():
            lines.append(f"  {name}: {score:g}/{self.possible[name]:g}")
            if name in self.messages:
                lines.append(f"    {self.messages[name]}")
        return "\n".join(lines)


def autograder_zip(assignment: Path | str) -> Path:
    """The autograder of an assignment folder written by :func:`build`."""
    found = sorted((Path(assignment) / "autograder").glob("*-autograder.zip"))
    if not found:
        raise FileNotFoundError(f"no autograder in {assignment}: build the assignment first "
                                "(python tools/assignments.py build)")
    return found[0]


def _checker_message(output: str) -> str:
    """The line of a failed test's output that says what was wrong (the checker's)."""
    for line in reversed(output.splitlines()):
        if line.strip().startswith("AssertionError"):
            return line.strip().removeprefix("AssertionError:").strip()
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "the test failed without a message"


def _readable(submission: Path) -> tuple[NotebookNode | None, str | None]:
    try:
        notebook = nbformat.read(submission, as_version=4)
    except FileNotFoundError:
        return None, f"{submission} does not exist"
    except Exception as error:  # invalid JSON, not a notebook, unreadable encoding, ...
        return None, (f"not a Jupyter notebook ({type(error).__name__}: "
                      f"{str(error).splitlines()[0][:200] if str(error) else ''}); submit the "
                      ".ipynb file as Jupyter or Colab saved it")
    return notebook, None


#: jupyter_client's error when a kernel dies before it answers its first request.
KERNEL_START_FAILURE = "Kernel died before replying to kernel_info"


def grade(assignment: Path | str, submission: Path | str, *, mode: str = "full",
          cell_timeout: int = CELL_TIMEOUT) -> Grade:
    """Grade one submission with the assignment's autograder (otter, no Docker).

    The notebook runs in the run mode ``mode`` ("full", the default: what the rubrics
    describe and what students run in Colab; or "quick"). Never raises for a bad submission:
    the :class:`Grade` then says what was wrong.
    """
    if mode not in ("full", "quick"):
        raise ValueError(f"mode must be 'full' or 'quick', got {mode!r}")
    submission = Path(submission)
    result = Grade(str(submission))
    with tempfile.TemporaryDirectory() as scratch:
        notebook, problem = _readable(submission)
        if notebook is None:
            result.problem = problem
            return result
        # otter runs the kernel the notebook names; a student's local kernel name (a virtual
        # environment's, VS Code's) does not exist here: grade with this environment's.
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        fixed = Path(scratch) / "submission.ipynb"
        nbformat.write(notebook, fixed)
        autograder = autograder_zip(assignment).resolve()
        command = [sys.executable, __file__, "_grade_one", str(autograder), str(fixed),
                   str(Path(scratch) / "results.json"), str(cell_timeout)]
        env = {**os.environ, "TMPDIR": scratch, "GENLIB_MODE": mode}
        try:
            for _ in range(2):
                run = subprocess.run(command, capture_output=True, text=True,
                                     timeout=SUBMISSION_TIMEOUT, cwd=scratch, env=env)
                # A kernel that dies while starting (two kernels started at once can pick
                # the same port) says nothing about the submission: start it once more.
                if KERNEL_START_FAILURE not in run.stderr:
                    break
        except subprocess.TimeoutExpired:
            result.problem = f"grading took over {SUBMISSION_TIMEOUT} s and was stopped"
            return result
        results_path = Path(scratch) / "results.json"
        if run.returncode != 0 or not results_path.exists():
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            result.problem = f"the autograder failed: {last}"
            return result
        results = json.loads(results_path.read_text(encoding="utf-8"))
    result.problem = results["problem"]
    for name, question in results["questions"].items():
        result.scores[name] = question["score"]
        result.possible[name] = question["possible"]
        if question["failures"]:
            result.messages[name] = "; ".join(question["failures"])
    return result


def _grade_one(autograder: str, submission: str, results: str, cell_timeout: str) -> None:
    """Grade in this process (called by :func:`grade` in a subprocess of its own)."""
    import nbconvert.preprocessors
    import otter.api

    class InterruptingExecutePreprocessor(nbconvert.preprocessors.ExecutePreprocessor):
        """otter runs notebooks without a time limit: interrupt a cell that runs too long
        and go on with the next, so that the rest of the notebook is still graded."""

        timeout = int(cell_timeout)
        interrupt_on_timeout = True

    # otter looks the class up in this module when it grades.
    nbconvert.preprocessors.ExecutePreprocessor = InterruptingExecutePreprocessor
    graded = otter.api.grade_submission(submission, autograder, quiet=True)
    questions = {}
    for name, test_file in graded.results.items():
        questions[name] = {
            "score": float(test_file.score), "possible": float(test_file.possible),
            "failures": [_checker_message(case.message) for case in test_file.test_case_results
                         if not case.passed],
        }
    problem = None
    if graded.has_catastrophic_failure():
        problem = f"the autograder could not read the notebook's results: {graded.summary()}"
    Path(results).write_text(json.dumps({"problem": problem, "questions": questions}),
                             encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Command line


def _chapters(root: Path, wanted: list[str] | None) -> list[Path]:
    chapters = sorted((root / "chapters").glob("[0-9][0-9]_*.md"))
    if wanted:
        chapters = [path for path in chapters if any(path.stem.startswith(w) for w in wanted)]
        if not chapters:
            raise SystemExit(f"no chapter matches {wanted}: give a number prefix such as 01")
    return chapters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="write the assignment folders")
    build_command.add_argument("--output", type=Path, default=REPO_ROOT / "_build" / "assignments")
    build_command.add_argument("--chapter", action="append",
                               help="a chapter's number prefix, e.g. 01 (default: all)")
    grade_command = commands.add_parser("grade", help="grade submissions of one assignment")
    grade_command.add_argument("assignment", type=Path, help="an assignment folder (build)")
    grade_command.add_argument("submissions", type=Path, nargs="+")
    grade_command.add_argument("--csv", type=Path, help="also write the scores to this file")
    grade_command.add_argument("--mode", choices=("full", "quick"), default="full",
                               help="the run mode the submissions run in (default: full)")
    grade_command.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT)
    one = commands.add_parser("_grade_one")  # internal: see grade()
    one.add_argument("arguments", nargs=4)
    args = parser.parse_args(argv)

    if args.command == "_grade_one":
        _grade_one(*args.arguments)
        return 0
    if args.command == "build":
        project = Project(REPO_ROOT)
        for md_path in _chapters(REPO_ROOT, args.chapter):
            folder = build(md_path, args.output, project)
            print(f"wrote {folder}")
        return 0
    grades = [grade(args.assignment, path, mode=args.mode, cell_timeout=args.cell_timeout)
              for path in args.submissions]
    for result in grades:
        print(result.report())
    if args.csv:
        names = list(dict.fromkeys(name for result in grades for name in result.possible))
        with args.csv.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["submission", "total", *names, "problem"])
            for result in grades:
                writer.writerow([result.submission, f"{result.total:g}",
                                 *(f"{result.scores.get(name, 0):g}" for name in names),
                                 result.problem or ""])
    return 0


if __name__ == "__main__":
    sys.exit(main())
