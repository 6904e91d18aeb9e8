"""Tests of tools/notebooks.py (chapters -> notebooks) and book/_ext/colab_badge.py.

They convert the fixture chapter tests/fixtures/99_fixture.md, which uses every supported MyST
construct, and small chapters written on the fly. Fast: no TensorFlow, no notebook execution.
"""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.core import publish_doctree

from tools import notebooks
from tools.colab import colab_url, repository_info
from tools.notebooks import (
    Project,
    chapter_to_notebook,
    check,
    is_solution,
    notebook_text,
    solution_lines_kept,
    student_version,
    sync,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE = FIXTURES / "99_fixture.md"
FIXTURE_BIB = FIXTURES / "references.bib"

# MyST that plain Jupyter would show as raw text.
RAW_MYST = [
    re.compile(r"^[ \t>]*(:::+|```+)\{[a-z-]+\}", re.MULTILINE),  # directives
    re.compile(r"\{[a-z:-]+\}`"),  # roles
    re.compile(r"^[ \t>]*\(.*\)=$", re.MULTILINE),  # targets
    re.compile(r"\$\$\s*\(eq-"),  # equation labels
]

# A tiny book for the commands: its own _config.yml, one chapter, a bibliography.
CONFIG = """\
title: Fixture book
repository:
  url: https://github.com/example-org/example-course
  branch: fixture-branch
"""


@pytest.fixture(scope="module")
def notebook():
    return chapter_to_notebook(FIXTURE, bib_path=FIXTURE_BIB)


@pytest.fixture(scope="module")
def markdown(notebook):
    """The Markdown of the fixture notebook, all cells together."""
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.fixture(scope="module")
def student(notebook):
    return student_version(notebook)


@pytest.fixture
def book(tmp_path):
    """A copy of the fixture as a book of its own, in tmp_path."""
    (tmp_path / "_config.yml").write_text(CONFIG)
    (tmp_path / "chapters").mkdir()
    (tmp_path / "book").mkdir()
    shutil.copy(FIXTURE, tmp_path / "chapters" / FIXTURE.name)
    shutil.copy(FIXTURE_BIB, tmp_path / "book" / "references.bib")
    (tmp_path / "book" / "running.md").write_text("# How to run the notebooks\n")
    return tmp_path


def convert_snippet(tmp_path, body, name="98_snippet.md"):
    """Convert a chapter made of one Markdown snippet."""
    path = tmp_path / name
    path.write_text(f"# A snippet chapter\n\n{body}\n")
    return chapter_to_notebook(path, bib_path=FIXTURE_BIB)


def cell_with(notebook, text):
    matches = [cell for cell in notebook.cells if text in cell.source]
    assert len(matches) == 1, f"{len(matches)} cells contain {text!r}"
    return matches[0]


# --- the converted fixture ------------------------------------------------------------------


def test_markdown_has_no_raw_myst(markdown):
    for pattern in RAW_MYST:
        assert not pattern.search(markdown), f"raw MyST left: {pattern.search(markdown)[0]!r}"
    assert "A MyST comment" not in markdown


def test_badge_then_install_cell(notebook):
    badge, install = notebook.cells[:2]
    url, branch = repository_info(ROOT)
    org_repo = url.removeprefix("https://github.com/")
    expected = f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/notebooks/99_fixture.ipynb"
    assert badge.cell_type == "markdown"
    kaggle = (f"https://kaggle.com/kernels/welcome?src=https://github.com/{org_repo}/blob/{branch}"
              "/notebooks/99_fixture.ipynb")
    assert badge.source == (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({expected}) "
        f"[![Open In Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)]({kaggle})")
    assert colab_url("99_fixture") == expected

    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code is install
    assert 'find_spec("genlib") is None' in install.source
    assert f'repository = "{url}"' in install.source
    assert f'requirement = f"genlib @ git+{{repository}}@{branch}"' in install.source
    assert not re.search(r"^\s*[%!]", install.source, re.MULTILINE), "no IPython magics or shell escapes"
    compile(install.source, "install cell", "exec")


def test_citations(markdown):
    assert "compress\n(Hinton and Salakhutdinov, 2006);" in markdown
    assert "Vincent et al. (2008) corrupt" in markdown
    assert "(Bengio, 2009; van der Maaten and Hinton, 2008)" in markdown
    assert "and Bengio (2009)." in markdown


def test_references_terms_and_inline_math(markdown):
    assert "Cross-references: the setup section, Setting up the fixture,\nExercises, Exercise 99.1," in markdown
    assert "the how to run page" in markdown
    assert "a coding and two codings." in markdown
    assert "Inline math: $z = f(x)$." in markdown


def test_math(markdown):
    assert "$$\n\\hat{x} = g(f(x))\n$$\n" in markdown
    assert "$$\nL = \\lVert x - \\hat{x} \\rVert^2\n$$" in markdown


def test_admonitions_become_block_quotes(markdown):
    assert "> **Note:** A note's first line.\n> And its second line." in markdown
    assert "> **Tip:** An outer tip.\n>\n> > **Warning:** A warning inside the tip." in markdown
    assert "> **A titled aside**\n>\n> The body of the titled aside." in markdown
    assert "> **Important:** Important text on the directive's line." in markdown
    assert "> **See also:**\n>\n> - The reference list." in markdown
    assert "1. A list item holding a note:\n\n   > **Note:** The indented note, (Bengio, 2009)." in markdown
    assert "```python\ncodings = encoder(inputs)\n```" in markdown


def test_exercises_are_numbered_by_chapter(markdown):
    assert "### Exercise 99.1: Angles between subspaces\n\nCompute the principal angles" in markdown
    assert "### Exercise 99.2\n\nExplain why" in markdown


def test_solution_cells_are_tagged(notebook):
    gated = [
        cell_with(notebook, "#### Solution to Exercise 99.1"),
        cell_with(notebook, "fixture_solution_angles = [0.0, 0.0]"),
        cell_with(notebook, "The gated solution ends with this sentence."),
    ]
    assert "every principal angle is zero" in gated[0].source  # the heading leads the solution's text
    assert gated[1].cell_type == "code"
    non_gated = cell_with(notebook, "#### Solution to Exercise 99.2")
    assert "because the codings span the same subspace" in non_gated.source
    assert all(is_solution(cell) for cell in [*gated, non_gated])

    assert not is_solution(cell_with(notebook, "Text after the gated solution"))
    assert not is_solution(cell_with(notebook, "### Exercise 99.2"))
    assert sum(is_solution(cell) for cell in notebook.cells) == 4


def test_code_cells_keep_source_and_tags_only(notebook):
    cell = cell_with(notebook, "print(round(math.pi, 2))")
    assert cell.source == "import math\n\nprint(round(math.pi, 2))"
    assert dict(cell.metadata) == {"tags": ["hide-input"]}
    assert all(cell.outputs == [] and cell.execution_count is None for cell in notebook.cells if cell.cell_type == "code")
    assert set(notebook.metadata) == {"kernelspec", "language_info"}
    assert notebook.metadata.kernelspec.name == "python3"
    assert dict(notebook.metadata.language_info) == {"name": "python"}


def test_regeneration_is_byte_identical(notebook):
    again = chapter_to_notebook(FIXTURE, bib_path=FIXTURE_BIB)
    assert notebook_text(again) == notebook_text(notebook)
    assert [cell.id for cell in notebook.cells] == [f"cell-{index}" for index in range(len(notebook.cells))]
    assert notebook_text(notebook).endswith("}\n")


# --- the student version --------------------------------------------------------------------


def test_student_version_keeps_no_solution_line(notebook, student):
    text = notebook_text(student)
    solution_lines = [
        line.strip()
        for cell in notebook.cells
        if is_solution(cell)
        for line in cell.source.splitlines()
        if line.strip()
    ]
    assert len(solution_lines) >= 6
    for line in solution_lines:
        assert line not in text, f"solution line kept in the student version: {line!r}"
    assert solution_lines_kept(notebook, student) == []


def test_student_version_has_answer_cells_and_note(notebook, student):
    assert not any(is_solution(cell) for cell in student.cells)
    answers = [cell for cell in student.cells if "exercise-answer" in cell.metadata.get("tags", [])]
    assert [cell.source for cell in answers] == ["# Your answer to Exercise 99.1", "# Your answer to Exercise 99.2"]
    assert all(cell.cell_type == "code" for cell in answers)
    assert "colab-badge.svg" not in notebook_text(student)  # it would open the solutions
    assert student.cells[0].source == notebooks.STUDENT_NOTE
    assert student.cells[1].source == notebook.cells[1].source  # the install cell
    assert "Text after the gated solution" in notebook_text(student)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet, construct",
    [
        (":::{figure} image.png\n:::", "{figure}"),
        ("```{glue} name\n```", "{glue}"),
        ("See {numref}`fig-x`.", "{numref}"),
        ("See {eq}`eq-x`.", "{eq}"),
        (":::{note}\nSee {download}`data.csv`.\n:::", "{download}"),
        ("::::{note}\n:::{solution-start} ex-x\n:::\n::::", "{solution-start}"),
    ],
)
def test_unsupported_construct_is_an_error(tmp_path, snippet, construct):
    with pytest.raises(ValueError) as error:
        convert_snippet(tmp_path, snippet)
    message = str(error.value)
    assert construct in message
    assert "98_snippet.md, line 3" in message
    assert "Supported in Markdown cells" in message


@pytest.mark.parametrize(
    "snippet, complaint",
    [
        (":::{exercise}\n:label: ex-a\nDo.\n:::\n\n:::{solution-start} ex-a\n:::\nNo end.", "no `{solution-end}`"),
        (":::{solution-end}\n:::", "without a `{solution-start}`"),
        (":::{solution} ex-unknown\nText.\n:::", "`ex-unknown`, which labels no exercise"),
        ("As {cite:p}`nobody2099`.", "`nobody2099` is not in"),
        ("See {ref}`no-such-label`.", "no `(no-such-label)=`"),
        ("(not-a-heading)=\nText.\n\nSee {ref}`not-a-heading`.", "precedes no heading"),
        (":::{note}\nNever closed.", "is never closed"),
    ],
)
def test_broken_chapter_is_an_error(tmp_path, snippet, complaint):
    with pytest.raises(ValueError, match=re.escape(complaint)):
        convert_snippet(tmp_path, snippet)


def test_doc_role_without_text_shows_the_title(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "glossary.md").write_text("(glossary)=\n# Glossary of terms\n")
    (tmp_path / "_config.yml").write_text(CONFIG)
    path = tmp_path / "97_doc.md"
    path.write_text("# Doc\n\nSee {doc}`/book/glossary` and {ref}`glossary`.\n")
    notebook = chapter_to_notebook(path, root=tmp_path, bib_path=FIXTURE_BIB)
    assert "See Glossary of terms and Glossary of terms." in notebook.cells[2].source


def test_solution_marker_sharing_a_cell_with_text(tmp_path):
    notebook = convert_snippet(
        tmp_path,
        ":::{exercise} Shared\n:label: ex-s\nDo.\n:::\n\nBefore.\n\n:::{solution-start} ex-s\n:::\nInside.\n\n"
        "```{code-cell} ipython3\nanswer = 42\n```\n\nStill inside.\n\n:::{solution-end}\n:::\n\nAfter.",
    )
    tagged = [cell.source for cell in notebook.cells if is_solution(cell)]
    assert tagged == ["#### Solution to Exercise 98.1\n\nInside.", "answer = 42", "Still inside."]
    assert not is_solution(cell_with(notebook, "Before."))
    assert not is_solution(cell_with(notebook, "After."))


# --- the commands ---------------------------------------------------------------------------


def test_sync_then_check(book):
    notebook_path = book / "notebooks" / "99_fixture.ipynb"
    assert check(book) == ["notebooks/99_fixture.ipynb is missing (chapter chapters/99_fixture.md)"]
    assert sync(book) == ["wrote notebooks/99_fixture.ipynb"]
    assert check(book) == []
    assert sync(book) == []  # nothing changed, nothing written
    assert "example-org/example-course/blob/fixture-branch/notebooks/99_fixture.ipynb" in notebook_path.read_text()

    notebook_path.write_text(notebook_path.read_text().replace("principal angles", "angles"))
    (book / "notebooks" / "00_gone.ipynb").write_text("{}")
    assert check(book) == [
        "notebooks/99_fixture.ipynb is out of sync with chapters/99_fixture.md",
        "notebooks/00_gone.ipynb has no chapter (chapters/00_gone.md)",
    ]
    assert sync(book) == ["wrote notebooks/99_fixture.ipynb", "removed notebooks/00_gone.ipynb (no chapter)"]
    assert check(book) == []


def run_tool(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "notebooks.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_command_line(book, tmp_path):
    drifted = run_tool("--root", str(book), "check")
    assert drifted.returncode == 1
    assert "notebooks/99_fixture.ipynb is missing" in drifted.stderr
    assert "make notebooks" in drifted.stderr

    assert run_tool("--root", str(book), "sync").returncode == 0
    in_sync = run_tool("--root", str(book), "check")
    assert (in_sync.returncode, in_sync.stdout.strip()) == (0, "1 notebook in sync with chapters/")

    output = tmp_path / "student"
    written = run_tool("--root", str(book), "student", "--output", str(output))
    assert written.returncode == 0, written.stderr
    assert "99_fixture.ipynb" in written.stdout
    assert "fixture_solution_angles" not in (output / "99_fixture.ipynb").read_text()


def test_command_line_reports_conversion_errors(book):
    (book / "chapters" / "98_bad.md").write_text("# Bad\n\n:::{figure} x.png\n:::\n")
    result = run_tool("--root", str(book), "check")
    assert result.returncode == 1
    assert "chapters/98_bad.md, line 3: unsupported directive `{figure}`" in result.stderr


def test_repository_info_defaults_to_main(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a/b.git/\n")
    assert repository_info(tmp_path) == ("https://github.com/a/b", "main")
    assert Project(tmp_path).repository == ("https://github.com/a/b", "main")


# --- the Sphinx extension -------------------------------------------------------------------


def load_extension():
    path = ROOT / "book" / "_ext" / "colab_badge.py"
    spec = importlib.util.spec_from_file_location("colab_badge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def doctree_of(rst):
    """A doctree as Sphinx reads it: the page title stays a section's title."""
    return publish_doctree(rst, settings_overrides={"doctitle_xform": False, "report_level": 5})


def badge_app(docname):
    theme = {"repository_url": "https://github.com/example-org/example-course", "repository_branch": "dev"}
    return SimpleNamespace(env=SimpleNamespace(docname=docname), config=SimpleNamespace(html_theme_options=theme))


def test_extension_puts_badge_under_chapter_titles():
    extension = load_extension()
    doctree = doctree_of("Chapter title\n=============\n\nFirst paragraph.\n")
    extension.add_colab_badge(badge_app("chapters/03_conv"), doctree)
    section = next(iter(doctree.findall(nodes.section)))
    assert isinstance(section[0], nodes.title)
    badge = section[1]
    link = badge[0]
    assert link["refuri"] == (
        "https://colab.research.google.com/github/example-org/example-course/blob/dev/notebooks/03_conv.ipynb"
    )
    assert link[0]["alt"] == "Open In Colab"
    kaggle = badge[2]
    assert kaggle["refuri"] == (
        "https://kaggle.com/kernels/welcome?src=https://github.com/example-org/example-course"
        "/blob/dev/notebooks/03_conv.ipynb"
    )
    assert kaggle[0]["alt"] == "Open In Kaggle"
    assert 'href="../notebooks/03_conv.ipynb" download' in badge[4].astext()
    assert section[2].astext() == "First paragraph."


def test_the_student_edition_has_no_badges():
    extension = load_extension()
    doctree = doctree_of("Chapter title\n=============\n\nFirst paragraph.\n")
    before = doctree.pformat()
    app = badge_app("chapters/03_conv")
    app.config.course_student_edition = True
    extension.add_colab_badge(app, doctree)
    assert doctree.pformat() == before


def test_extension_leaves_other_pages_alone():
    extension = load_extension()
    doctree = doctree_of("Intro\n=====\n\nText.\n")
    before = doctree.pformat()
    extension.add_colab_badge(badge_app("book/intro"), doctree)
    assert doctree.pformat() == before


def test_extension_is_parallel_safe():
    calls = []
    app = SimpleNamespace(connect=lambda *args, **kwargs: calls.append(args))
    metadata = load_extension().setup(app)
    assert metadata["parallel_read_safe"] and metadata["parallel_write_safe"]
    assert calls and calls[0][0] == "doctree-read"
