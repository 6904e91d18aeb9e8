"""Build the book with its chapters executed in parallel, one kernel per chapter.

    python tools/book.py                        # full mode (GENLIB_MODE), into _build/html
    GENLIB_MODE=quick python tools/book.py --path-output /tmp/book
    python tools/book.py --executed FOLDER --path-output /tmp/book   # render only

Jupyter Book executes the chapters one after the other, and one TensorFlow kernel keeps
only about 1.3 of two cores busy. So the chapters are first executed by jupyter-cache's
execution workers (one worker process, hence one kernel, per CPU), the longest first, into
the cache that Jupyter Book reads (``_config.yml``: ``execute_notebooks: cache``); then
``jupyter-book build -W -n --keep-going`` renders them from the cache, with its usual
checks. Each chapter still runs in its own fresh kernel with its own seed and TensorFlow's
default threads (one per core), so it prints what it prints when run alone: the numbers a
convolution or a reduction computes depend on how many threads share out its work, and a
chapter executed on one thread printed other numbers (the conditional GAN obeyed its labels
in 84 % of the images, not 86 %, and failed the text's claim). The two kernels' threads then
share the cores; the whole build's time is measured with that choice
(``tools/benchmark.py --book``).

The cache is emptied first: every build executes every chapter, in the mode asked for (the
cache does not know the mode, so outputs of one mode must never serve the other). A chapter
that fails stops the build with its traceback, before anything is rendered; so does, in
full mode, a conclusion of the text that the chapter's own numbers do not support (a claim
checked with ``genlib.claims.check_claim`` that does not hold).

With ``--executed FOLDER`` nothing is executed: the chapters' outputs are taken from the
students' notebooks already executed in FOLDER (the tests execute each one as in Colab, and
show the same cells in the book they build, instead of executing every chapter twice).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 3600  # seconds per chapter, as in _config.yml
#: The reader myst-nb itself uses, so that a cached notebook matches the page it renders.
MYST_READER = {"name": "myst_nb_md", "type": "plugin"}


@dataclass
class BuildTimes:
    """Wall time and CPU time (this process's children: kernels, Sphinx) of one build."""

    wall_seconds: float
    cpu_seconds: float

    @property
    def cores_busy(self) -> float:
        """The average number of cores busy: CPU time over wall time."""
        return self.cpu_seconds / self.wall_seconds


def chapters_longest_first() -> list[Path]:
    """The chapter files, the longest to execute first (from the recorded full-mode times),
    so that two workers finish close together instead of one waiting on a late long chapter."""
    chapters = sorted((ROOT / "chapters").glob("*.md"))
    recorded = ROOT / "benchmarks" / "results-full.json"
    seconds = {}
    if recorded.exists():
        for name, entry in json.loads(recorded.read_text()).get("chapters", {}).items():
            seconds[name] = entry.get("seconds", 0.0)
    return sorted(chapters, key=lambda path: -seconds.get(path.stem, 0.0))


def execute_chapters(cache_path: Path) -> None:
    """Execute every chapter into a fresh jupyter-cache at ``cache_path``, in parallel."""
    from jupyter_cache import get_cache

    # The kernels inherit these. No TensorFlow start-up lines before genlib is imported.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # No thread settings: each kernel computes as a reader's kernel does (module docstring).
    shutil.rmtree(cache_path, ignore_errors=True)
    # Every chapter's results and claims (genlib.record_result, genlib.claims), checked below.
    results = cache_path.parent / "results.jsonl"
    results.unlink(missing_ok=True)
    os.environ["GENLIB_RESULTS_FILE"] = str(results)
    cache = get_cache(str(cache_path))
    for chapter in chapters_longest_first():
        cache.add_nb_to_project(str(chapter), read_data=MYST_READER)
    failed = execute_in_parallel(cache)
    if failed:
        for record in cache.list_project_records():
            if record.traceback:
                print(f"\n{Path(record.uri).name} failed:\n{record.traceback}", file=sys.stderr)
        raise SystemExit(f"{len(failed)} chapter(s) failed to execute; nothing was rendered")
    failed_claims = false_claims(results)
    if failed_claims:
        raise SystemExit("the text claims what this full-mode run does not show, so nothing "
                         "was rendered: " + "; ".join(failed_claims))


def execute_in_parallel(cache, processes: int | None = None) -> list[str]:
    """Execute the cache's chapters, one worker process (one kernel) per CPU, or
    ``processes``, each worker taking the next chapter in the cache's order when it is free;
    return those that failed.

    jupyter-cache's own parallel executor hands its pool the whole list with ``pool.map``,
    which cuts it into chunks of ceil(n / (4 * workers)) chapters: with nine chapters on two
    cores, chunks of two, so that one worker executed the two longest chapters one after
    the other while the other went through the rest.
    """
    import multiprocessing

    from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

    records = cache.list_project_records()  # in the order they were added: longest first
    jobs = [ProcessData(record.pk, record.uri, cache, TIMEOUT, False) for record in records]
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(ExecutionWorkerLocalMProc(), jobs, chunksize=1)
    return [uri for status, uri in results if status != 0]


def false_claims(results: Path) -> list[str]:
    """The full-mode claims (``genlib.claims.check_claim``) recorded in ``results`` that did
    not hold: the book must not print a conclusion its own numbers contradict."""
    from genlib.claims import failed_claims

    if not results.exists():
        return []
    records = [json.loads(line) for line in results.read_text().splitlines()]
    return failed_claims((record["name"], record["value"]) for record in records
                         if record["mode"] == "full")


def cache_executed(cache_path: Path, executed: dict) -> None:
    """Put chapters executed elsewhere into a fresh cache, for :func:`render` to show.

    ``executed`` maps a chapter's stem to its student notebook (``notebooks/NAME.ipynb``)
    executed from top to bottom: the notebook's code cells are the chapter's, after its
    install cell. The tests execute every notebook as in Colab (tests/test_colab.py); the
    book they build shows those outputs instead of executing every chapter a second time.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    shutil.rmtree(cache_path, ignore_errors=True)
    cache = get_cache(str(cache_path))
    for chapter in sorted((ROOT / "chapters").glob("*.md")):
        if chapter.stem not in executed:
            raise ValueError(f"no executed notebook for the chapter {chapter.stem}")
        record = cache.add_nb_to_project(str(chapter), read_data=MYST_READER)
        page = cache.get_project_notebook(record.pk).nb
        page_cells = [cell for cell in page.cells if cell.cell_type == "code"]
        # The notebook's first code cell installs genlib; the chapter has no such cell.
        run_cells = [cell for cell in executed[chapter.stem].cells
                     if cell.cell_type == "code"][1:]
        if [c.source.strip() for c in page_cells] != [c.source.strip() for c in run_cells]:
            raise ValueError(f"notebooks/{chapter.stem}.ipynb is not the chapter's code: "
                             "run `make notebooks`")
        for number, (cell, run) in enumerate(zip(page_cells, run_cells, strict=True), 1):
            cell.outputs, cell.execution_count = run.outputs, number
        cache.cache_notebook_bundle(CacheBundleIn(page, str(chapter)), overwrite=True)


def render(path_output: Path = ROOT, *, extra_args=()) -> None:
    """Render the book from the cache (``jupyter-book build -W -n --keep-going``)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "--builder", "html", "-W", "-n",
               "--keep-going", "--path-output", str(path_output), *extra_args]
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        problems = [line for line in result.stdout.splitlines()
                    if "WARNING" in line or "ERROR" in line]
        print("\n".join(problems[-40:]) or result.stdout[-3000:], result.stderr[-3000:],
              sep="\n", file=sys.stderr)
        raise SystemExit(f"the book build failed (exit {result.returncode})")


def build(path_output: Path = ROOT, *, extra_args=()) -> BuildTimes:
    """Execute the chapters in parallel, then render the book into ``path_output/_build``."""
    start = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    execute_chapters(cache_folder(path_output))
    render(path_output, extra_args=extra_args)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))
    # The pool's workers are this process's children: their kernels are counted through them.
    own = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = (own.ru_utime - own_before.ru_utime) + (own.ru_stime - own_before.ru_stime)
    return BuildTimes(time.perf_counter() - start, cpu + own_cpu)


def cache_folder(path_output: Path) -> Path:
    """Where Jupyter Book looks for executed chapters (its default cache path)."""
    return path_output / "_build" / ".jupyter_cache"


#: Where ``--student`` writes the student edition: STUDENT_OUTPUT/_build/html.
STUDENT_OUTPUT = ROOT / "_build" / "student-book"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path-output", type=Path, default=None,
                        help="folder to write _build/ into (default: the repository, or "
                             "_build/student-book with --student)")
    parser.add_argument("--student", action="store_true",
                        help="the student edition: every worked solution left out "
                             "(book/_ext/student_edition.py); shows the chapters executed "
                             "by the last `make book` when there are some")
    parser.add_argument("--executed", type=Path, default=None, metavar="FOLDER",
                        help="render the notebooks already executed in FOLDER (NAME.ipynb "
                             "per chapter) instead of executing the chapters")
    args = parser.parse_args(argv)
    mode = os.environ.get("GENLIB_MODE", "full")
    if args.path_output is None:
        args.path_output = STUDENT_OUTPUT if args.student else ROOT
    output = args.path_output.resolve()
    if args.student:
        os.environ["COURSE_STUDENT_EDITION"] = "1"  # read by book/_ext/student_edition.py
        book_cache = cache_folder(ROOT)
        if args.executed is None and book_cache.is_dir() and output != ROOT:
            # The same pages, so the same executed chapters: no second execution.
            shutil.rmtree(cache_folder(output), ignore_errors=True)
            shutil.copytree(book_cache, cache_folder(output))
            render(output)
            print(f"student edition, rendered from {book_cache}: "
                  f"{output / '_build' / 'html' / 'index.html'}")
            return 0
    if args.executed is not None:
        import nbformat

        executed = {path.stem: nbformat.read(path, as_version=4)
                    for path in sorted(args.executed.glob("*.ipynb"))}
        try:
            cache_executed(cache_folder(output), executed)
        except ValueError as error:
            raise SystemExit(str(error)) from None
        render(output)
        print(f"rendered from {args.executed}: {output / '_build' / 'html' / 'index.html'}")
        return 0
    times = build(output)
    print(f"built in {mode} mode in {times.wall_seconds:.0f} s, {times.cpu_seconds:.0f} s of CPU "
          f"time ({times.cores_busy:.2f} of {os.cpu_count()} cores busy on average): "
          f"{args.path_output / '_build' / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
