"""What the book's results page shows, made from the files ``tools/benchmark.py`` wrote.

``book/results.md`` is executed at every build of the book; its (hidden) code cells call
:class:`Report`, which reads ``benchmarks/results-full.json`` and ``results-quick.json`` and
turns them into Markdown tables and one figure. Nothing on the page is typed by hand: the
budgets, the classic reference values and the book's 45-minute budget are imported from
``tools/benchmark.py``, and a missing file or a missing measurement is said as such.

>>> report = Report.load(Path("/no/such/folder"))
>>> report.has_results
False
>>> print(report.summary())
No results were recorded yet: run `make benchmark` (every chapter, both modes) and `python
tools/benchmark.py --book` (the whole book), then build the book again.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from tools.benchmark import BOOK_BUDGET, BUDGETS, HEADROOM, TARGETS

ROOT = Path(__file__).resolve().parent.parent
MODES = ("full", "quick")
FRECHET_SUFFIX = ".frechet"
BASELINE = "real_baseline.frechet"
NOT_MEASURED = "not measured"
#: A missed budget or target, shown in red on the page (book/_static/course.css).
OVER = '<span class="over-budget">{}</span>'



def format_seconds(seconds: float | None) -> str:
    """``38 s``, ``7 min 19 s``, ``1 h 02 min``; a dash when there is no number.

    >>> format_seconds(38.04), format_seconds(439.2), format_seconds(3725), format_seconds(None)
    ('38 s', '7 min 19 s', '1 h 02 min', '–')
    """
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def format_value(value: float | None) -> str:
    """Four significant digits, or a dash.

    >>> format_value(0.012429459), format_value(4.23097), format_value(None)
    ('0.01243', '4.231', '–')
    """
    return "–" if value is None else f"{value:.4g}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; ``|`` inside a cell is escaped.

    >>> print(markdown_table(["a", "b"], [["1", "x|y"]]))
    | a | b |
    | --- | --- |
    | 1 | x\\|y |
    """

    def line(cells):
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])


@dataclass
class Report:
    """The recorded benchmark runs, by mode (``{"full": {...}, "quick": {...}}``).

    Each run is the content of ``benchmarks/results-MODE.json``: ``machine``, ``chapters``
    (per chapter ``seconds`` and ``results``) and, in full mode, ``book`` (the whole book's
    build time) once it has been measured.

    >>> report = Report({"quick": {"chapters": {"01_x": {"seconds": 30.0, "results": {}}}}})
    >>> report.seconds("01_x", "quick"), report.seconds("01_x", "full")
    (30.0, None)
    """

    runs: dict
    root: Path = ROOT

    @classmethod
    def load(cls, folder: Path | str = ROOT / "benchmarks", root: Path | str = ROOT) -> Report:
        """Read ``results-full.json`` and ``results-quick.json`` from ``folder`` (either may be
        missing).

        >>> Report.load("/no/such/folder").runs
        {}
        """
        runs = {}
        for mode in MODES:
            path = Path(folder) / f"results-{mode}.json"
            if path.is_file():
                try:
                    runs[mode] = json.loads(path.read_text(encoding="utf-8"))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path} is not valid JSON ({error}); run the benchmark "
                                     "again or restore the file from git") from None
        return cls(runs, Path(root))

    # -- what was recorded -------------------------------------------------------------------

    @property
    def has_results(self) -> bool:
        """Whether any chapter or book build was measured.

        >>> Report({}).has_results
        False
        """
        return any(run.get("chapters") or run.get("book") for run in self.runs.values())

    def recorded(self, mode: str) -> dict:
        """The chapters recorded in ``mode``: name -> ``{"seconds", "results", ...}``.

        >>> Report({}).recorded("full")
        {}
        """
        return self.runs.get(mode, {}).get("chapters") or {}

    def toc_chapters(self) -> list[str]:
        """The chapters the book's table of contents (``_toc.yml``) lists: the book's chapters.

        >>> Report({}, root=Path("/nowhere")).toc_chapters()
        []
        """
        toc_path = self.root / "_toc.yml"
        if not toc_path.is_file():
            return []
        files = re.findall(r"^\s*-?\s*file:\s*chapters/([\w.-]+?)(?:\.md)?\s*$",
                           toc_path.read_text(encoding="utf-8"), flags=re.MULTILINE)
        return list(dict.fromkeys(files))

    def chapters(self) -> list[str]:
        """Every chapter of the book and every chapter measured, in order.

        >>> Report({"full": {"chapters": {"99_later": {}}}}, root=Path("/nowhere")).chapters()
        ['99_later']
        """
        names = set(self.toc_chapters())
        for mode in MODES:
            names.update(self.recorded(mode))
        return sorted(names)

    def seconds(self, chapter: str, mode: str) -> float | None:
        """The wall time of ``chapter`` in ``mode``, or None when it was not measured."""
        return self.recorded(mode).get(chapter, {}).get("seconds")

    def budget(self, chapter: str, mode: str) -> float | None:
        """The chapter's budget in ``mode``: today's ``BUDGETS``, else the one recorded.

        >>> Report({}).budget("00_no_such_chapter", "full") is None
        True
        """
        budget = BUDGETS.get(chapter, {}).get(mode)
        return (
            budget
            if budget is not None
            else self.recorded(mode).get(chapter, {}).get("budget_seconds")
        )

    def results(self, chapter: str, mode: str) -> dict:
        """The metrics ``chapter`` recorded in ``mode`` (``genlib.record_result``)."""
        return self.recorded(mode).get(chapter, {}).get("results") or {}

    def chapter_title(self, chapter: str) -> str:
        """``2. Stacked autoencoders`` from the chapter's file, or its file name.

        >>> Report({}, root=Path("/nowhere")).chapter_title("02_stacked")
        '02_stacked'
        """
        path = self.root / "chapters" / f"{chapter}.md"
        if not path.is_file():
            return chapter
        title = next((line[2:].strip() for line in path.read_text(encoding="utf-8").splitlines()
                      if line.startswith("# ")), chapter)
        number = chapter.split("_", 1)[0]
        return f"{int(number)}. {title}" if number.isdigit() else title

    def chapter_link(self, chapter: str) -> str:
        """A MyST link to the chapter's page when the book has it, else its title."""
        title = self.chapter_title(chapter)
        if chapter in self.toc_chapters() and (self.root / "chapters" / f"{chapter}.md").is_file():
            return f"{{doc}}`{title} </chapters/{chapter}>`"
        return title

    # -- the page's parts --------------------------------------------------------------------

    def summary(self) -> str:
        """One sentence on where the numbers come from, or that there are none yet."""
        if not self.has_results:
            return (
                "No results were recorded yet: run `make benchmark` (every chapter, both modes) "
                "and `python tools/benchmark.py --book` (the whole book), then build the book "
                "again."
            )
        measured = {mode: len(self.recorded(mode)) for mode in MODES}
        parts = [f"{count} chapter{'' if count == 1 else 's'} in {mode} mode"
                 for mode, count in measured.items() if count]
        book = "the whole book's build" if self.book() else None
        return "Recorded: " + ", ".join(parts + ([book] if book else [])) + "."

    def machine_table(self) -> str:
        """Where each run was measured: date, CPUs, processor, versions."""
        columns = [(f"chapters, {mode} mode", self.runs[mode].get("machine"))
                   for mode in MODES if mode in self.runs and self.recorded(mode)]
        if self.book():
            columns.append(("whole book, full mode", self.book().get("machine")))
        columns = [(name, machine) for name, machine in columns if machine]
        if not columns:
            return "No machine was recorded yet."
        rows = [
            ("measured on", lambda m: m.get("date", "–").replace("T", " ")[:16] + " UTC"),
            ("CPU cores", lambda m: m.get("cpus", "–")),
            ("processor", lambda m: m.get("processor", "–")),
            ("Python", lambda m: m.get("python", "–")),
            ("TensorFlow", lambda m: m.get("tensorflow", "–")),
            ("Keras", lambda m: m.get("keras", "–")),
        ]
        return markdown_table([""] + [name for name, _ in columns],
                              [[label] + [str(get(machine)) for _, machine in columns]
                               for label, get in rows])

    def times_table(self) -> str:
        """Per chapter: the wall time in each mode against its budget."""
        modes = [mode for mode in ("quick", "full") if self.recorded(mode)]
        if not modes:
            return "No chapter was timed yet."
        header = ["chapter"] + [f"{mode} mode (budget)" for mode in modes]
        rows = []
        for chapter in self.chapters():
            row = [self.chapter_link(chapter)]
            for mode in modes:
                seconds, budget = self.seconds(chapter, mode), self.budget(chapter, mode)
                if seconds is None:
                    row.append(NOT_MEASURED)
                    continue
                cell = (
                    f"{format_seconds(seconds)} ({format_seconds(budget)})"
                    if budget
                    else format_seconds(seconds)
                )
                if budget and seconds > budget:
                    cell += " " + OVER.format("over budget")
                elif budget and seconds > HEADROOM * budget:
                    cell += f" (over {HEADROOM:.0%} of it)"
                row.append(cell)
            rows.append(row)
        return markdown_table(header, rows)

    def plot_times(self):
        """Horizontal bars: each chapter's time, one panel per mode, its budget marked.

        Returns the matplotlib Figure, or None when no chapter was timed.
        """
        import textwrap

        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        modes = [mode for mode in ("quick", "full") if self.recorded(mode)]
        if not modes:
            return None
        chapters = self.chapters()
        labels = [textwrap.fill(self.chapter_title(chapter), 24) for chapter in chapters]
        fig, axes = plt.subplots(1, len(modes), squeeze=False, sharey=True, layout="constrained",
                                 figsize=(2.9 * len(modes) + 2.0, 0.5 * len(chapters) + 1.4))
        any_over = False
        for ax, mode in zip(axes[0], modes):
            longest = max([self.seconds(c, mode) or 0 for c in chapters]
                          + [self.budget(c, mode) or 0 for c in chapters])
            for row, chapter in enumerate(chapters):
                seconds, budget = self.seconds(chapter, mode), self.budget(chapter, mode)
                if seconds is None:
                    ax.text(0, row, f" {NOT_MEASURED}", va="center", fontsize=9, color="0.3")
                    continue
                over = budget is not None and seconds > budget
                any_over |= over
                ax.barh(row, seconds, height=0.6, color="tab:red" if over else "tab:blue",
                        hatch="//" if over else None, edgecolor="white")
                if budget:
                    ax.plot([budget, budget], [row - 0.42, row + 0.42], color="black", linewidth=2)
                # The label follows the bar, or the budget mark when it would cross it.
                label = format_seconds(seconds) + (" (over)" if over else "")
                width = 0.025 * longest * (len(label) + 1)  # about 8-point characters
                start = seconds + 0.015 * longest
                if budget and start < budget < start + width:
                    start = budget + 0.015 * longest
                ax.text(start, row, label, va="center", fontsize=9)
            ax.spines[["top", "right"]].set_visible(False)
            ax.set_title(f"{mode} mode", fontsize=10)
            ax.set_xlabel("wall time (seconds)", fontsize=9)
            ax.set_xlim(0, longest * 1.35)  # room for the labels
            ax.tick_params(labelsize=9)
        axes[0][0].set_yticks(range(len(chapters)), labels=labels)
        axes[0][0].invert_yaxis()
        handles = [Patch(color="tab:blue", label="wall time"),
                   Line2D([], [], color="black", linewidth=2, label="budget")]
        if any_over:
            handles.insert(1, Patch(facecolor="tab:red", hatch="//", edgecolor="white",
                                    label="over budget"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9,
                   frameon=False)
        return fig

    def book(self) -> dict:
        """The recorded build of the whole book (full mode), or an empty dict."""
        return self.runs.get("full", {}).get("book") or {}

    def book_sentence(self) -> str:
        """The whole book's build time in full mode, against its budget."""
        book = self.book()
        if not book.get("seconds"):
            return ("The build of the whole book in full mode has not been timed yet "
                    "(`python tools/benchmark.py --book` times it).")
        seconds = book["seconds"]
        budget = BOOK_BUDGET  # today's budget, as for the chapters
        machine = book.get("machine") or {}
        cores = f" on {machine['cpus']} CPU cores" if machine.get("cpus") else ""
        model = f" ({machine['processor']})" if machine.get("processor") else ""
        verdict = "within" if seconds <= budget else OVER.format("over")
        busy = (f", with {book['cores_busy']:.2f} cores busy on average"
                if book.get("cores_busy") else "")
        sentence = (f"Building the whole book, every chapter executed in full mode "
                    f"(`make book`), took **{format_seconds(seconds)}**{cores}{model}{busy}, "
                    f"{verdict} its budget of {format_seconds(budget)}.")
        return sentence + self._chapters_since(book)

    def _chapters_since(self, book: dict) -> str:
        """What a book build did not time: the book's chapters added after it, in red."""
        if "chapters" not in book:
            return " Which chapters that build executed was not recorded."
        later = [chapter for chapter in self.toc_chapters() if chapter not in book["chapters"]]
        if not later:
            return ""
        names = ", ".join(self.chapter_title(chapter) for chapter in later)
        return " " + OVER.format(
            f"That build had {len(book['chapters'])} chapters; {names} joined the book "
            f"later, and the book as it is now has not been timed.")

    def _reference(self, name: str, value: float | None) -> str:
        if name not in TARGETS:
            return ""
        limit, source = TARGETS[name]
        verdict = "" if value is None else (": met" if value <= limit
                                            else ": " + OVER.format("missed"))
        return f"≤ {limit:g}{verdict} ({source})"

    def _names(self, chapter: str, keep) -> list[str]:
        """The chapter's result names that ``keep`` accepts, full mode's order first."""
        full, quick = self.results(chapter, "full"), self.results(chapter, "quick")
        return [name for name in [*full, *(n for n in quick if n not in full)] if keep(name)]

    def _per_chapter(self, header: list[str], rows_of) -> str:
        """One small table per chapter that has rows, under the chapter's name."""
        parts = []
        for chapter in self.chapters():
            if rows := rows_of(chapter):
                parts += [f"**{self.chapter_link(chapter)}**", markdown_table(header, rows)]
        return "\n\n".join(parts)

    def exercises_table(self) -> str:
        """Every exercise of the book's chapters: how it is graded (a checker, or the rubric in
        its worked solution) and how long its worked solution ran in each mode."""
        from tools.assignments import Question
        from tools.notebooks import exercise_summaries

        rows = []
        for chapter in self.toc_chapters():
            path = self.root / "chapters" / f"{chapter}.md"
            if not path.is_file():
                continue
            times = {mode: self.recorded(mode).get(chapter, {}).get("exercise_seconds", {})
                     for mode in MODES}
            for exercise in exercise_summaries(path):
                if exercise.checker:
                    graded = f"checker `{exercise.checker.removeprefix('genlib.exercises.')}`"
                else:
                    graded = "rubric" if exercise.has_rubric else OVER.format("no rubric yet")
                points = Question(exercise).points if exercise.checker or exercise.has_rubric \
                    else 0
                rows.append([f"{exercise.number} {exercise.title}", graded, str(points),
                             *(format_seconds(times[mode].get(exercise.number))
                               if exercise.number in times[mode] else NOT_MEASURED
                               for mode in MODES)])
        return markdown_table(["exercise", "graded by", "points",
                               "solution's run time, full mode", "quick mode"], rows)

    def metrics_table(self) -> str:
        """Per chapter: each result in full and quick mode, next to its classic reference."""
        def rows(chapter):
            full, quick = self.results(chapter, "full"), self.results(chapter, "quick")
            return [[f"`{name}`", format_value(full.get(name)), format_value(quick.get(name)),
                     self._reference(name, full.get(name))]
                    for name in self._names(chapter, lambda n: not n.endswith(FRECHET_SUFFIX))]

        tables = self._per_chapter(["result", "full mode", "quick mode",
                                    "classic reference (full mode)"], rows)
        return tables or "No chapter recorded a metric yet."

    def frechet_table(self) -> str:
        """Per chapter: Fréchet distances of the generative models, next to the real-vs-real one."""
        def rows(chapter):
            full, quick = self.results(chapter, "full"), self.results(chapter, "quick")
            baseline = full.get(BASELINE)
            table = []
            for name in self._names(
                chapter, lambda n: n.endswith(FRECHET_SUFFIX) and n != BASELINE
            ):
                value = full.get(name)
                ratio = f"{value / baseline:.1f}×" if value is not None and baseline else "–"
                table.append([name.removesuffix(FRECHET_SUFFIX), format_value(value),
                              format_value(baseline), ratio, format_value(quick.get(name)),
                              self._reference(name, value)])
            return table

        tables = self._per_chapter(["model", "full mode", "real vs real (full mode)",
                                    "ratio to real vs real", "quick mode", "reference"], rows)
        return tables or "No chapter recorded a Fréchet distance yet."
