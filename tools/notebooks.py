"""Turn the chapters (MyST Markdown notebooks) into the notebooks students open.

``chapters/NAME.md`` is the source of truth of a chapter: the book renders it with MyST, which
understands directives (``:::{note}``), roles (``{cite:p}`key```) and labels. Colab and plain
Jupyter understand none of that, so this tool writes ``notebooks/NAME.ipynb`` with every MyST
construct turned into plain Markdown, and two cells in front: an "Open in Colab" badge and a cell
that installs ``genlib`` when it is missing. The repository URL both use is read from
``_config.yml``, the one place where it is written.

Command line (run from anywhere; ``--root`` defaults to this repository)::

    python tools/notebooks.py sync                    # write notebooks/, remove orphans
    python tools/notebooks.py check                   # exit 1 when notebooks/ has drifted
    python tools/notebooks.py student --output DIR    # notebooks without the solutions

Chapter conventions the conversion relies on:

- The file name starts with the chapter number: ``01_efficient_representations.md`` is chapter 1,
  and its exercises are numbered 1.1, 1.2, ... in the order they appear.
- Exercises are ``:::{exercise} Title`` with a ``:label:`` option; their worked solutions follow as
  ``:::{solution} label`` (Markdown only) or, when the solution has code cells, between
  ``:::{solution-start} label`` / ``:::`` and ``:::{solution-end}`` / ``:::``.
- Only the directives and roles listed in ``SUPPORTED`` are allowed in Markdown cells; anything
  else stops the conversion with an error that names the file, the line and the construct.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import jupytext
import nbformat
import yaml
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: `from tools import colab` needs the root
    sys.path.insert(0, str(REPO_ROOT))

from tools.colab import (  # noqa: E402
    COLAB_BADGE_IMAGE,
    badge_markdown,
    colab_url_for,
    kaggle_url_for,
    repository_info,
)

SOLUTION_TAG = "solution"
ANSWER_TAG = "exercise-answer"
STUDENT_NOTE = "Student version: the worked solutions are removed; your instructor has them."
SOLUTION_HEADING = "#### Solution to Exercise {number}"

# Admonitions become block quotes that start with a bold word.
ADMONITION_WORDS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}
EXERCISE_DIRECTIVES = ("exercise", "exercise-start")
SOLUTION_DIRECTIVES = ("solution", "solution-start")
MARKER_DIRECTIVES = ("solution-start", "solution-end", "exercise-start", "exercise-end")
SUPPORTED_DIRECTIVES = (
    *ADMONITION_WORDS,
    "admonition",
    "exercise",
    "exercise-start",
    "exercise-end",
    "solution",
    "solution-start",
    "solution-end",
    "math",
)
SUPPORTED_ROLES = ("cite:p", "cite:t", "ref", "doc", "term", "math")
SUPPORTED = (
    "Supported in Markdown cells: directives "
    + ", ".join(f"{{{name}}}" for name in SUPPORTED_DIRECTIVES)
    + "; roles "
    + ", ".join(f"{{{name}}}" for name in SUPPORTED_ROLES)
    + "; (label)= targets, % comments and labelled $$ math."
)

# Lines and inline constructs of MyST Markdown.
# Fences may be indented, inside list items.
DIRECTIVE_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>:{3,}|`{3,})\{(?P<name>[^}\s]+)\}\s*(?P<argument>.*?)\s*$"
)
CODE_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
OPTION_LINE = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")
TARGET_LINE = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
COMMENT_LINE = re.compile(r"^\s*%")
LABELLED_MATH_END = re.compile(r"^(?P<math>.*\$\$)\s*\([^()\s]+\)\s*$")
HEADING_LINE = re.compile(r"^#{1,6}\s+(?P<title>.+?)(?:\s+#+)?\s*$")
ROLE = re.compile(r"\{(?P<name>[A-Za-z0-9_.:+-]+)\}`(?P<content>[^`]*)`")
EXPLICIT_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
CHAPTER_NUMBER = re.compile(r"^(?P<number>\d+)_")
# What a paragraph may not start with to share its line with "**Note:**".
BLOCK_START = re.compile(r"^\s*([-*+]\s|[>|#<]|\d+[.)]\s|\$\$|`{3}|~{3})")


# ---------------------------------------------------------------------------------------------
# Repository and Colab


def install_source(url: str, branch: str) -> str:
    """Source of the first code cell: install genlib from the repository when it is missing.

    Plain Python rather than ``%pip`` so that the cell also runs under nbval and in any kernel;
    ``invalidate_caches`` lets the following ``import genlib`` see the freshly installed package.
    """
    return (
        "# Install genlib, the course's shared code, when it is missing (e.g. in Colab).\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if importlib.util.find_spec("genlib") is None:\n'
        f'    repository = "{url}"\n'
        f'    requirement = f"genlib @ git+{{repository}}@{branch}"\n'
        '    pip = [sys.executable, "-m", "pip", "install", "--quiet"]\n'
        "    subprocess.check_call([*pip, requirement])\n"
        "    importlib.invalidate_caches()"
    )


# ---------------------------------------------------------------------------------------------
# Scanning MyST Markdown into lines, plain code blocks and directives


@dataclass
class Directive:
    """A fenced MyST directive: ``:::{name} argument``, options, body, closing fence."""

    name: str
    argument: str
    options: dict
    body: list[str]  # without the directive's own indentation
    indent: str = ""  # the indentation of a directive inside a list item


@dataclass
class CodeBlock:
    """A plain fenced code block (```` ```python ````), copied verbatim."""

    lines: list[str]


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes ``fence`` opened at ``start``.

    As in MyST, a closing fence is a line of the same character at least as long as the opening
    one, which is why nested directives use longer fences on the outside (``::::``).
    """
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for index in range(start + 1, len(lines)):
        if closing.match(lines[index]):
            return index
    raise ValueError(f"line {start + 1}: `{lines[start].strip()}` is never closed")


def _dedented(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip()


def _split_options(body: list[str]) -> tuple[dict, list[str]]:
    """Separate a directive's options (``:key: value`` lines or a ``---`` YAML block)."""
    if body and body[0].strip() == "---":
        for end in range(1, len(body)):
            if body[end].strip() == "---":
                options = yaml.safe_load("\n".join(body[1:end])) or {}
                return dict(options), body[end + 1 :]
        raise ValueError("a directive's `---` options block is never closed")
    options = {}
    index = 0
    while index < len(body) and (match := OPTION_LINE.match(body[index])):
        options[match["key"]] = match["value"]
        index += 1
    return options, body[index:]


def scan(lines: list[str]) -> Iterator[tuple[int, str | CodeBlock | Directive]]:
    """Yield ``(line index, item)`` for the top-level items of MyST Markdown lines.

    An item is a text line, a plain code block or a directive. The bodies of directives are not
    scanned here; the converter scans them when it renders them.
    """
    index = 0
    while index < len(lines):
        line = lines[index]
        if directive := DIRECTIVE_OPEN.match(line):
            end = _closing_fence(lines, index, directive["fence"])
            indent = directive["indent"]
            body = [_dedented(body_line, indent) for body_line in lines[index + 1 : end]]
            options, body = _split_options(body)
            yield index, Directive(directive["name"], directive["argument"], options, body, indent)
            index = end + 1
        elif fence := CODE_FENCE_OPEN.match(line):
            end = _closing_fence(lines, index, fence["fence"])
            yield index, CodeBlock(lines[index : end + 1])
            index = end + 1
        else:
            yield index, line
            index += 1


def iter_directives(lines: list[str]) -> Iterator[Directive]:
    """Yield every directive in document order, including those nested in other directives."""
    for _, item in scan(lines):
        if isinstance(item, Directive):
            yield item
            if item.name not in ("code-cell", "math"):
                yield from iter_directives(item.body)


def _without_front_matter(text: str) -> list[str]:
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        for end in range(1, len(lines)):
            if lines[end].strip() == "---":
                return lines[end + 1 :]
    return lines


# ---------------------------------------------------------------------------------------------
# What roles refer to: citations, labels, documents


def chapter_number(path: Path | str) -> int | None:
    """The chapter number from the file name prefix (``01_pca.md`` -> 1), or None."""
    match = CHAPTER_NUMBER.match(Path(path).name)
    return int(match["number"]) if match else None


def exercise_numbers(path: Path | str) -> dict[str, str]:
    """Map the label of each exercise in a chapter file to its number, ``"C.K"``.

    Exercises are numbered in the order they appear; an exercise without a label still counts.
    """
    path = Path(path)
    prefix = "" if (number := chapter_number(path)) is None else f"{number}."
    numbers = {}
    count = 0
    for directive in iter_directives(_without_front_matter(path.read_text(encoding="utf-8"))):
        if directive.name in EXERCISE_DIRECTIVES:
            count += 1
            if label := directive.options.get("label"):
                numbers[str(label)] = f"{prefix}{count}"
    return numbers


#: A checker call in an exercise's text: ``ch01.check_principal_angles(my_principal_angles)``.
CHECKER_CALL = re.compile(
    r"\b(?P<module>ch\d\d)\.(?P<function>check_\w+)\((?P<arguments>[^()]*)\)")
#: The title of the admonition that holds an exercise's grading rubric, in its solution.
RUBRIC_TITLE = "Rubric"


@dataclass
class ExerciseSummary:
    """What an instructor needs to know of one exercise before handing it out."""

    number: str  # "C.K"
    title: str
    label: str | None = None  # "ex-01-angles"
    checker: str | None = None  # "genlib.exercises.ch01.check_principal_angles", if it has one
    #: The names the student defines and passes to the checker: ``("my_principal_angles",)``.
    checker_arguments: tuple[str, ...] = ()
    #: The `Rubric` admonition of its worked solution, as MyST lines (empty: none).
    rubric: list[str] = field(default_factory=list)

    @property
    def has_rubric(self) -> bool:
        return bool(self.rubric)

    @property
    def rubric_points(self) -> int:
        """One point per criterion of the rubric (its top-level bullets)."""
        return sum(line.startswith(("- ", "* ")) for line in self.rubric)


def exercise_summaries(path: Path | str) -> list[ExerciseSummary]:
    """Every exercise of a chapter file, in order: its number, title, checker and rubric."""
    path = Path(path)
    prefix = "" if (number := chapter_number(path)) is None else f"{number}."
    summaries = []
    for directive in iter_directives(_without_front_matter(path.read_text(encoding="utf-8"))):
        if directive.name in EXERCISE_DIRECTIVES:
            call = CHECKER_CALL.search("\n".join(directive.body))
            summaries.append(ExerciseSummary(
                f"{prefix}{len(summaries) + 1}", directive.argument.strip(),
                label=directive.options.get("label"),
                checker=f"genlib.exercises.{call['module']}.{call['function']}" if call else None,
                checker_arguments=tuple(name.strip() for name in call["arguments"].split(",")
                                        if name.strip()) if call else (),
            ))
        elif (directive.name == "admonition" and directive.argument.strip() == RUBRIC_TITLE
              and summaries):
            summaries[-1].rubric = list(directive.body)
    return summaries


def heading_labels(path: Path | str) -> dict[str, str | None]:
    """Map each ``(label)=`` target in a Markdown file to the title of the heading it precedes.

    Targets that precede something else map to None: ``{ref}`label``` cannot name them.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    labels = {}
    for index, line in enumerate(lines):
        if target := TARGET_LINE.match(line):
            following = next((rest for rest in lines[index + 1 :] if rest.strip()), "")
            heading = HEADING_LINE.match(following)
            labels[target["label"]] = heading["title"] if heading else None
    return labels


def document_title(path: Path) -> str | None:
    """The first top-level heading of a Markdown file, or None."""
    for line in _without_front_matter(path.read_text(encoding="utf-8")):
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _last_names(person) -> str:
    """``van der Maaten`` for "van der Maaten, Laurens"; LaTeX accents become Unicode."""
    from pybtex.richtext import Text

    parts = [*person.rich_prelast_names, *person.rich_last_names]
    return " ".join(Text(part).render_as("text") for part in parts)


class Citations:
    """Author-year citations from a BibTeX file, as the book shows them."""

    def __init__(self, bib_path: Path):
        from pybtex.database import parse_file

        self.bib_path = bib_path
        self.entries = parse_file(str(bib_path), bib_format="bibtex").entries

    def _entry(self, key: str):
        try:
            return self.entries[key]
        except KeyError:
            raise ValueError(f"citation key `{key}` is not in {self.bib_path}") from None

    def authors(self, key: str) -> str:
        """The author part of a citation: ``Bengio``, ``Kingma and Welling``, ``Vincent et al.``."""
        entry = self._entry(key)
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        if not people:
            raise ValueError(f"{self.bib_path}: `{key}` has no author")
        names = [_last_names(person) for person in people]
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."

    def year(self, key: str) -> str:
        return self._entry(key).fields.get("year", "n.d.")

    def parenthetical(self, keys: list[str]) -> str:
        """``(Hinton and Salakhutdinov, 2006; Vincent et al., 2008)``."""
        return "(" + "; ".join(f"{self.authors(key)}, {self.year(key)}" for key in keys) + ")"

    def textual(self, keys: list[str]) -> str:
        """``Hinton and Salakhutdinov (2006), Vincent et al. (2008)``."""
        return ", ".join(f"{self.authors(key)} ({self.year(key)})" for key in keys)


def file_labels(path: Path) -> dict[str, str | None]:
    """Every label ``{ref}`` may name in one file: headings, and exercises as "Exercise C.K"."""
    try:
        labels = heading_labels(path)
        labels.update(
            {label: f"Exercise {number}" for label, number in exercise_numbers(path).items()}
        )
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return labels


class Project:
    """Where a conversion looks things up: the configuration, the bibliography, the labels.

    ``root`` is the book root (``_config.yml``, ``chapters/``, ``book/``); ``bib_path`` defaults
    to ``ROOT/book/references.bib``. Everything is read lazily, once.
    """

    def __init__(self, root: Path | str = REPO_ROOT, bib_path: Path | str | None = None):
        self.root = Path(root)
        self.bib_path = Path(bib_path) if bib_path else self.root / "book" / "references.bib"

    @cached_property
    def repository(self) -> tuple[str, str]:
        return repository_info(self.root)

    @cached_property
    def citations(self) -> Citations:
        return Citations(self.bib_path)

    def chapter_files(self) -> list[Path]:
        return sorted((self.root / "chapters").glob("*.md"))

    @cached_property
    def labels(self) -> dict[str, str | None]:
        """The labels of every chapter and book page."""
        labels = {}
        for path in [*self.chapter_files(), *sorted((self.root / "book").glob("*.md"))]:
            labels.update(file_labels(path))
        return labels


# ---------------------------------------------------------------------------------------------
# Converting one chapter


def _blank_trimmed(lines: list[str]) -> list[str]:
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = len(lines)
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _single_blank_lines(lines: list[str]) -> list[str]:
    """Collapse runs of blank lines (left where labels and comments were) outside code blocks."""
    out, fence = [], None
    for line in lines:
        if fence is None and (opening := CODE_FENCE_OPEN.match(line.lstrip("> \t"))):
            fence = opening["fence"]
        elif fence is not None and line.lstrip("> \t").startswith(fence):
            fence = None
        if fence is None and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return out


def _quoted(lines: list[str]) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in lines]


def _split_explicit(content: str) -> tuple[str | None, str]:
    """``text <target>`` -> (text, target); ``target`` -> (None, target)."""
    if match := EXPLICIT_TARGET.match(content.strip()):
        return match["text"].strip() or None, match["target"].strip()
    return None, content.strip()


class ChapterConverter:
    """Turns one chapter's cells into plain-Jupyter cells.

    Markdown cells may split: a solution marker can share a cell with ordinary text, and
    everything between ``solution-start`` and ``solution-end`` (Markdown and code cells alike)
    must carry the ``solution`` tag. Errors name the file and the line of the construct.
    """

    def __init__(self, md_path: Path, project: Project):
        self.path = md_path
        self.project = project
        self.text = md_path.read_text(encoding="utf-8")
        self.chapter = chapter_number(md_path)
        self.exercises = exercise_numbers(md_path)  # solutions may name any exercise by label
        self.exercise_count = 0  # exercises met so far: the next one is number count + 1
        self.solution: str | None = None  # number of the exercise whose gated solution is open
        self.cells: list[NotebookNode] = []
        self.pending: list[str] = []  # Markdown lines of the cell being built
        self.cell_line: int | None = None  # line of the file where the current cell starts
        self.line: int | None = None  # line of the file where the current construct starts
        self.search_from = 0

    # -- errors ------------------------------------------------------------------------------

    def display_path(self) -> str:
        try:
            return str(self.path.resolve().relative_to(self.project.root.resolve()))
        except ValueError:
            return str(self.path)

    def fail(self, message: str) -> NoReturn:
        where = self.display_path() + (f", line {self.line}" if self.line else "")
        raise ValueError(f"{where}: {message}\n{SUPPORTED}")

    def locate(self, source: str) -> int | None:
        """The line of the file where a cell's source starts (cells come in file order)."""
        offset = self.text.find(source, self.search_from) if source.strip() else -1
        if offset < 0:
            return None
        self.search_from = offset + len(source)
        return self.text.count("\n", 0, offset) + 1

    def at(self, index_in_cell: int) -> None:
        """Remember where the construct being converted is, for error messages."""
        self.line = None if self.cell_line is None else self.cell_line + index_in_cell

    # -- the whole chapter -------------------------------------------------------------------

    def convert(self) -> list[NotebookNode]:
        for cell in jupytext.reads(self.text, fmt="md:myst").cells:
            self.cell_line = self.locate(cell.source)
            self.at(0)
            tags = list(cell.metadata.get("tags", []))  # the only metadata worth keeping
            if cell.cell_type == "markdown":
                self.markdown_cell(cell.source, tags)
            elif cell.cell_type == "code":
                self.emit(new_code_cell(cell.source), tags)
            else:
                self.emit(new_raw_cell(cell.source), tags)
        if self.solution is not None:
            self.line = None
            self.fail(f"the solution to Exercise {self.solution} has no `{{solution-end}}`")
        return self.cells

    def emit(self, cell: NotebookNode, tags: list[str]) -> None:
        """Append a cell, tagged ``solution`` while a gated solution is open."""
        if self.solution is not None and SOLUTION_TAG not in tags:
            tags = [*tags, SOLUTION_TAG]
        if tags:
            cell.metadata["tags"] = tags
        self.cells.append(cell)

    def flush(self, tags: list[str]) -> None:
        """Close the Markdown cell being built (dropped when nothing but blank lines)."""
        lines = _single_blank_lines(_blank_trimmed(self.pending))
        self.pending = []
        if lines:
            self.emit(new_markdown_cell("\n".join(lines)), tags)

    # -- Markdown cells ----------------------------------------------------------------------

    def items(self, lines: list[str]) -> list[tuple[int, str | CodeBlock | Directive]]:
        try:
            return list(scan(lines))
        except ValueError as error:
            self.fail(str(error))

    def markdown_cell(self, source: str, tags: list[str]) -> None:
        for index, item in self.items(source.split("\n")):
            self.at(index)
            if isinstance(item, Directive) and item.name in ("solution", *MARKER_DIRECTIVES):
                self.exercise_or_solution_marker(item, tags)
            else:
                self.pending.extend(self.render(item))
        self.flush(tags)

    def exercise_or_solution_marker(self, directive: Directive, tags: list[str]) -> None:
        """Handle the top-level directives that open or close exercises and solutions."""
        name = directive.name
        if name in SOLUTION_DIRECTIVES:
            self.flush(tags)
            if self.solution is not None:
                self.fail(f"`{{{name}}}` inside the solution to Exercise {self.solution}")
            self.solution = self.exercise_number_of(directive.argument)
            self.pending = [SOLUTION_HEADING.format(number=self.solution), ""]
            self.pending.extend(self.render_body(directive.body))
            if name == "solution":  # not gated: the directive's body is the whole solution
                self.flush(tags)
                self.solution = None
        elif name == "solution-end":
            if self.solution is None:
                self.fail("`{solution-end}` without a `{solution-start}` before it")
            self.flush(tags)
            self.solution = None
        elif name == "exercise-start":
            self.pending.extend(self.exercise(directive))
        # exercise-end only closes the exercise's box in the book: nothing to show.

    def exercise_number_of(self, label: str) -> str:
        label = label.strip()
        if label not in self.exercises:
            self.fail(f"a solution names `{label}`, which labels no exercise in this chapter")
        return self.exercises[label]

    def exercise(self, directive: Directive) -> list[str]:
        """``### Exercise C.K: Title`` followed by the exercise's text."""
        self.exercise_count += 1
        number = str(self.exercise_count)
        if self.chapter is not None:
            number = f"{self.chapter}.{number}"
        title = self.inline(directive.argument)
        heading = f"### Exercise {number}" + (f": {title}" if title else "")
        return [heading, "", *self.render_body(directive.body)]

    def render_body(self, body: list[str]) -> list[str]:
        return _blank_trimmed([line for _, item in self.items(body) for line in self.render(item)])

    def render(self, item: str | CodeBlock | Directive) -> list[str]:
        """Plain Markdown lines for a scanned item: a text line, a code block or a directive."""
        if isinstance(item, CodeBlock):
            return item.lines  # code is shown as written
        if isinstance(item, Directive):
            return [item.indent + line if line.strip() else line for line in self.directive(item)]
        if TARGET_LINE.match(item) or COMMENT_LINE.match(item):
            return []  # labels and comments serve the book's cross-references and authors
        if match := LABELLED_MATH_END.match(item):
            item = match["math"]  # Jupyter does not number equations: drop the label
        return [self.inline(item)]

    def directive(self, directive: Directive) -> list[str]:
        """Plain Markdown for a directive that is not an exercise or solution marker."""
        name = directive.name
        if name in ADMONITION_WORDS:
            # These admonitions take no argument: text on the opening line is their first line.
            body = self.render_body([directive.argument, *directive.body])
            lead = f"**{ADMONITION_WORDS[name]}:**"
            if body and not BLOCK_START.match(body[0]):
                return _quoted([f"{lead} {body[0]}", *body[1:]])
            return _quoted([lead, *([""] + body if body else [])])
        if name == "admonition":
            title = self.inline(directive.argument) or "Note"
            body = self.render_body(directive.body)
            return _quoted([f"**{title}**", *([""] + body if body else [])])
        if name == "exercise":
            return self.exercise(directive)
        if name == "math":
            return ["$$", *_blank_trimmed(directive.body), "$$"]
        if name in ("solution", *MARKER_DIRECTIVES):
            self.fail(f"`{{{name}}}` must not be nested inside another directive")
        self.fail(f"unsupported directive `{{{name}}}`")

    # -- roles -------------------------------------------------------------------------------

    def inline(self, text: str) -> str:
        """Replace every role in a line of text by plain Markdown."""
        return ROLE.sub(lambda match: self.role(match["name"], match["content"]), text)

    def role(self, name: str, content: str) -> str:
        if name in ("cite:p", "cite:t"):
            keys = [key.strip() for key in content.split(",") if key.strip()]
            try:
                citations = self.project.citations
                return (
                    citations.parenthetical(keys) if name == "cite:p" else citations.textual(keys)
                )
            except (ValueError, OSError) as error:
                self.fail(str(error))
        if name == "math":
            return f"${content}$"
        if name == "eq":
            self.fail(
                f"`{{eq}}`{content}`` is not supported: notebooks do not number equations; "
                "refer to the equation in words"
            )
        if name not in ("ref", "doc", "term"):
            self.fail(f"unsupported role `{{{name}}}`")
        text, target = _split_explicit(content)
        if text is not None:
            return self.inline(text)
        if name == "term":
            return target
        return self.reference_title(target) if name == "ref" else self.document_title(target)

    @cached_property
    def own_labels(self) -> dict[str, str | None]:
        return file_labels(self.path)

    def reference_title(self, label: str) -> str:
        """The title ``{ref}`label``` shows: the chapter's own labels first, then the book's."""
        try:
            title = (
                self.own_labels[label] if label in self.own_labels else self.project.labels[label]
            )
        except KeyError:
            self.fail(
                f"`{{ref}}`{label}``: no `({label})=` before a heading, and no exercise labelled so"
            )
        if title is None:
            self.fail(
                f"`{{ref}}`{label}``: the label precedes no heading; write {{ref}}`text <{label}>`"
            )
        return self.inline(title)

    def document_title(self, target: str) -> str:
        base = self.project.root if target.startswith("/") else self.path.parent
        path = base / target.lstrip("/")
        if not path.suffix:
            path = path.with_suffix(".md")
        title = document_title(path) if path.is_file() else None
        if title is None:
            self.fail(
                f"`{{doc}}`{target}``: {path} has no `# ` title; write {{doc}}`text <{target}>`"
            )
        return self.inline(title)


# ---------------------------------------------------------------------------------------------
# Notebooks


def _with_ids(cells: list[NotebookNode]) -> list[NotebookNode]:
    """Number cell ids ``cell-0``, ``cell-1``... so that regenerating changes nothing."""
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    return cells


def _notebook(cells: list[NotebookNode]) -> NotebookNode:
    notebook = new_notebook(
        cells=_with_ids(cells),
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return notebook


def chapter_to_notebook(
    md_path: Path | str,
    root: Path | str = REPO_ROOT,
    bib_path: Path | str | None = None,
    project: Project | None = None,
) -> NotebookNode:
    """The notebook of one chapter: badge, install cell, then the chapter in plain Markdown.

    ``root`` is the book root (``_config.yml``, ``chapters/``, ``book/``); ``bib_path`` defaults
    to ``ROOT/book/references.bib``; a ``project`` replaces both (and is shared when converting
    many chapters). ``{ref}`` labels are looked up in the chapter, then in ``ROOT/chapters/*.md``
    and ``ROOT/book/*.md``. Raises ValueError naming the file, line and construct when the chapter
    uses MyST that plain Jupyter cannot show.
    """
    md_path = Path(md_path)
    project = project or Project(root, bib_path)
    url, branch = project.repository
    header = [
        new_markdown_cell(badge_markdown(colab_url_for(url, branch, md_path.stem),
                                         kaggle_url_for(url, branch, md_path.stem))),
        new_code_cell(install_source(url, branch)),
    ]
    return _notebook(header + ChapterConverter(md_path, project).convert())


def notebook_text(notebook: NotebookNode) -> str:
    """The exact text written to disk: nbformat's sorted, indented JSON and a final newline."""
    return nbformat.writes(notebook, version=4) + "\n"


def is_solution(cell: NotebookNode) -> bool:
    """Whether a cell belongs to a worked solution (tagged ``solution``)."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


SOLUTION_HEADING_PATTERN = re.compile(r"^#### Solution to Exercise (?P<number>[\d.]+)")


def student_version(notebook: NotebookNode) -> NotebookNode:
    """The notebook without its solutions, for students.

    Each solution (a run of cells tagged ``solution``, each solution starting with its
    ``#### Solution to Exercise C.K`` heading) becomes one empty answer cell, and a note in place
    of the Colab badge (which would open the full notebook) says that the solutions were removed.
    """
    cells = []
    previous_was_solution = False
    for cell in copy.deepcopy(notebook.cells):
        if not is_solution(cell):
            cells.append(cell)
            previous_was_solution = False
            continue
        heading = (
            SOLUTION_HEADING_PATTERN.match(cell.source) if cell.cell_type == "markdown" else None
        )
        if heading or not previous_was_solution:
            what = f"Exercise {heading['number']}" if heading else "the exercise"
            cells.append(new_code_cell(f"# Your answer to {what}", metadata={"tags": [ANSWER_TAG]}))
        previous_was_solution = True
    # The Colab badge opens the full notebook, solutions included: the note replaces it.
    cells = [cell for cell in cells if COLAB_BADGE_IMAGE not in cell.source]
    cells.insert(0, new_markdown_cell(STUDENT_NOTE))
    student = copy.deepcopy(notebook)
    student.cells = _with_ids(cells)
    nbformat.validate(student)
    return student


def solution_lines_kept(notebook: NotebookNode, student: NotebookNode) -> list[str]:
    """Lines of the notebook's solutions that its student version still shows (should be none).

    Lines that also occur outside the solutions (an ``import`` repeated from earlier, a lone
    ``)``) do not count: the student version rightly keeps those.
    """

    def lines(cells) -> set[str]:
        return {line.strip() for cell in cells for line in cell.source.splitlines() if line.strip()}

    solutions = lines(cell for cell in notebook.cells if is_solution(cell))
    elsewhere = lines(cell for cell in notebook.cells if not is_solution(cell))
    return sorted((solutions - elsewhere) & lines(student.cells))


# ---------------------------------------------------------------------------------------------
# Commands


def _in_sync(count: int) -> str:
    return f"{count} notebook{'' if count == 1 else 's'} in sync with chapters/"


def expected_notebooks(root: Path | str = REPO_ROOT) -> dict[Path, str]:
    """Map each ``notebooks/NAME.ipynb`` to the text its chapter generates."""
    project = Project(Path(root))
    return {
        project.root / "notebooks" / f"{md_path.stem}.ipynb": notebook_text(
            chapter_to_notebook(md_path, project=project)
        )
        for md_path in project.chapter_files()
    }


def _orphans(root: Path, expected: dict[Path, str]) -> list[Path]:
    return [path for path in sorted((root / "notebooks").glob("*.ipynb")) if path not in expected]


def sync(root: Path | str = REPO_ROOT) -> list[str]:
    """Write every notebook whose text changed, delete orphans; return what was done."""
    root = Path(root)
    expected = expected_notebooks(root)
    done = []
    for path, text in expected.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            done.append(f"wrote {path.relative_to(root)}")
    for path in _orphans(root, expected):
        path.unlink()
        done.append(f"removed {path.relative_to(root)} (no chapter)")
    return done


def check(root: Path | str = REPO_ROOT) -> list[str]:
    """Problems with ``notebooks/``: missing, out of sync or orphaned notebooks (empty: in sync)."""
    root = Path(root)
    expected = expected_notebooks(root)
    problems = []
    for path, text in expected.items():
        chapter = f"chapters/{path.stem}.md"
        if not path.is_file():
            problems.append(f"{path.relative_to(root)} is missing (chapter {chapter})")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.relative_to(root)} is out of sync with {chapter}")
    for path in _orphans(root, expected):
        problems.append(f"{path.relative_to(root)} has no chapter (chapters/{path.stem}.md)")
    return problems


def write_student_notebooks(output: Path | str, root: Path | str = REPO_ROOT) -> list[Path]:
    """Write the student version of every chapter's notebook into ``output``."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    project = Project(Path(root))
    for md_path in project.chapter_files():
        student = student_version(chapter_to_notebook(md_path, project=project))
        path = output / f"{md_path.stem}.ipynb"
        path.write_text(notebook_text(student), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", type=Path, default=REPO_ROOT, help="book root (default: this repository)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sync", help="write notebooks/NAME.ipynb for every chapters/NAME.md")
    commands.add_parser("check", help="exit 1 when a notebook is missing, out of sync or orphaned")
    student = commands.add_parser("student", help="write the notebooks without their solutions")
    student.add_argument("--output", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)

    try:
        if args.command == "sync":
            done = sync(args.root)
            count = len(Project(args.root).chapter_files())
            print("\n".join(done + [_in_sync(count)]))
        elif args.command == "check":
            problems = check(args.root)
            if problems:
                print("\n".join(problems), file=sys.stderr)
                print(
                    "Run `make notebooks` to regenerate notebooks/ from chapters/.", file=sys.stderr
                )
                return 1
            print(_in_sync(len(Project(args.root).chapter_files())))
        else:
            for path in write_student_notebooks(args.output, args.root):
                print(f"wrote {path}")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
