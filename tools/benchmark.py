"""Measure the course against its time budgets and quality targets, on this machine.

    python tools/benchmark.py                      # every chapter, quick and full mode
    python tools/benchmark.py --mode quick --chapter 01
    python tools/benchmark.py --ci                 # time .ci/run on a fresh clone
    python tools/benchmark.py --book               # time the whole book's build, full mode
    PYTHONPATH=. .venv-oldest/bin/python tools/benchmark.py --no-record --mode full --chapter 05
                                                   # a chapter on the oldest versions

Each chapter's notebook (``notebooks/NAME.ipynb``) is executed from a fresh kernel, as a
student would run it, with ``GENLIB_MODE`` set; the wall time includes the kernel start.
The results a chapter records with ``genlib.record_result`` (validation errors, …) are
compared with ``TARGETS`` in full mode, and every claim of the text the chapter checked
(``genlib.claims.check_claim``, recorded as ``claim.*``) must hold in full mode. Everything
is printed as a table and written to ``benchmarks/results-MODE.json`` with a description
of the machine. The exit status is 1 when a budget is exceeded, a target missed or a
full-mode claim fails.

``--book`` times the whole book's build from scratch in full mode as `make book` runs it
(``tools/book.py``: the chapters executed in parallel, then rendered, into ``_build``) and
records its wall time, CPU time and cores busy in ``benchmarks/results-full.json`` under
``book``; ``--ci`` does the same for `.ci/run` on a fresh clone, under ``ci``.

The files hold one machine's times: a run on another processor than the recorded chapters'
is refused (with ``--no-record`` it prints its times and writes nothing), unless it
measures every chapter of the mode again, which replaces them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `from tools import book` needs the root
    sys.path.insert(0, str(ROOT))

#: Seconds allowed per chapter and mode (from the chapters' issues).
BUDGETS = {
    "01_efficient_representations": {"quick": 60, "full": 120},
    "02_stacked_autoencoders": {"quick": 60, "full": 300},
    "03_convolutional_recurrent": {"quick": 60, "full": 480},
    "04_denoising_autoencoders": {"quick": 60, "full": 180},
    "05_sparse_autoencoders": {"quick": 60, "full": 240},
    "06_variational_autoencoders": {"quick": 60, "full": 300},
    "07_generative_adversarial_networks": {"quick": 60, "full": 480},
    "08_diffusion_models": {"quick": 60, "full": 600},
    "09_flow_matching": {"quick": 60, "full": 600},
}

#: Quality targets, in full mode: result name -> (largest allowed value, where it comes from).
TARGETS = {
    "stacked_ae.val_mse": (0.0132, "classic 784-100-30 stacked autoencoder"),
    "tied_ae.val_mse": (0.0133, "classic tied 784-100-30 autoencoder"),
    "conv_ae.val_mse": (0.0121, "classic convolutional autoencoder, 30 codings, 10 epochs"),
    "denoising_dropout.val_mse": (0.0166, "classic Dropout(0.5) 784-100-30 denoising "
                                          "autoencoder, 10 epochs"),
    "sparse_l1.val_loss": (0.0111, "classic L1 sparse autoencoder 784-100-300 (1e-4), 10 epochs; "
                                   "Keras' loss, MSE + penalty"),
    "sparse_kl.val_loss": (0.0099, "classic KL sparse autoencoder (p = 0.1, weight 5e-3); "
                                   "Keras' loss, MSE + penalty"),
    "sparse_kl.mean_activation_error": (0.02, "|mean coding activation - 0.1| of the KL sparse "
                                              "autoencoder"),
    "vae.val_loss": (0.0311, "classic 10-D VAE, 784-150-100, 25 epochs at batch 128"),
    "dcgan.frechet": (22.0, "the DCGAN's Fréchet distance, 10,000 samples (chapter 7; issue 22)"),
    "dcgan.classes_missed": (0, "DCGAN samples cover the 10 classes (chapter 7; issue 22)"),
    "dcgan_minus_dense.frechet": (0.0, "the DCGAN's Fréchet distance is below the dense GAN's"),
    "ddpm.frechet": (17.0, "the DDPM's Fréchet distance, 2,000 samples, 50 DDIM steps "
                           "(chapter 8; issue 22)"),
    "ddpm.sample_64_seconds": (60.0, "the DDPM samples 64 images in at most 60 s"),
    "ddpm.classes_missed": (2, "DDPM samples cover at least 8 of the 10 classes"),
    "guidance.wrong_class_share": (0.2, "with classifier-free guidance, the classifier "
                                        "recognizes the requested class in at least 80 % "
                                        "of the images at some weight (chapter 9; issue 20)"),
}
#: Headroom (issue 21): every chapter should take at most this share of its budget, so that a
#: slower machine of the same class stays within it. A target, not a budget: the report and
#: the results page flag a chapter above it, and the exit status does not change.
HEADROOM = 0.8
CI_BUDGET = 20 * 60
#: The whole book, every chapter in full mode, built on 2 CPU cores (issue 10).
BOOK_BUDGET = 45 * 60
#: Targets of the whole book's build (issue 21): at most 30 minutes, so that a slower machine
#: of the same class stays within the budget, with this many cores busy on average.
BOOK_TARGET = 30 * 60
BOOK_CORES_TARGET = 1.7


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ start-up lines in the report
    import keras
    import tensorflow as tf

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "processor": cpu_model(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


#: How many of a chapter's slowest cells the report prints and records.
SLOWEST_CELLS = 5


def cell_seconds(cell) -> float:
    """How long a code cell executed by nbclient took, from the timestamps it records."""
    times = cell.get("metadata", {}).get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    # Python 3.10 reads no "Z" suffix.
    start, end = (datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                  for stamp in (start, end))
    return (end - start).total_seconds()


def slowest_cells(notebook, count: int = SLOWEST_CELLS) -> list[dict]:
    """The notebook's ``count`` slowest code cells: their number (1 = the first code cell),
    seconds and first line, so that a budget discussion starts from where the time goes."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    timed = [{"cell": number, "seconds": round(cell_seconds(cell), 1),
              "first_line": cell.source.strip().splitlines()[0][:70] if cell.source.strip()
              else ""} for number, cell in enumerate(cells, start=1)]
    return sorted(timed, key=lambda entry: -entry["seconds"])[:count]


def exercise_seconds(notebook) -> dict[str, float]:
    """How long each exercise's worked solution took: its code cells (tagged ``solution``,
    after the ``#### Solution to Exercise C.K`` heading), by exercise number ``"C.K"``."""
    from tools.notebooks import SOLUTION_HEADING_PATTERN, is_solution

    seconds, current = {}, None
    for cell in notebook.cells:
        if not is_solution(cell):
            current = None
        elif cell.cell_type == "markdown":
            if match := SOLUTION_HEADING_PATTERN.match(cell.source):
                current = match["number"]
                seconds.setdefault(current, 0.0)
        elif current is not None:
            seconds[current] += cell_seconds(cell)
    return {number: round(value, 1) for number, value in seconds.items()}


def run_chapter(name: str, mode: str) -> tuple[float, dict, object]:
    """Execute one chapter notebook in ``mode`` from an empty folder.

    Returns the wall time, the results the chapter recorded (``genlib.record_result``) and
    the executed notebook (for :func:`slowest_cells` and :func:`exercise_seconds`).
    """
    import nbclient
    import nbformat

    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        results_file = Path(folder) / "results.jsonl"
        os.environ["GENLIB_MODE"] = mode  # the kernel inherits both variables
        os.environ["GENLIB_RESULTS_FILE"] = str(results_file)
        client = nbclient.NotebookClient(notebook, timeout=3600, kernel_name="python3",
                                         resources={"metadata": {"path": folder}})
        start = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - start
        lines = results_file.read_text().splitlines() if results_file.exists() else []
        results = {record["name"]: record["value"] for record in map(json.loads, lines)}
        return elapsed, results, notebook


def run_ci() -> tuple[float, float]:
    """Time `.ci/run` on a fresh clone of HEAD, with ../shared beside it as CI has it.

    Returns the wall time and the CPU time of everything it ran, in seconds."""
    with tempfile.TemporaryDirectory() as folder:
        clone = Path(folder) / "main"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        shared = ROOT.parent / "shared"
        if shared.is_dir():
            (Path(folder) / "shared").symlink_to(shared)
        start = time.perf_counter()
        cpu_before = children_cpu_seconds()
        result = subprocess.run(["bash", ".ci/run"], cwd=clone, env={**os.environ, "CI": "true"},
                                stdin=subprocess.DEVNULL, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        cpu = children_cpu_seconds() - cpu_before
        tail = "\n".join(result.stdout.splitlines()[-3:])
        print(tail)
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
            raise SystemExit(f".ci/run failed (exit {result.returncode}) after {elapsed:.0f} s")
        return elapsed, cpu


def _wrote(output) -> str:
    return "" if output is None else f"; wrote {output.relative_to(ROOT)}"


def children_cpu_seconds() -> float:
    """User + system CPU time of this process's finished children (and theirs)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_book():
    """Build the whole book in full mode into ``_build`` as `make book` does (tools/book.py:
    chapters executed in parallel, then rendered); return its wall and CPU times."""
    from tools import book

    os.environ["GENLIB_MODE"] = "full"
    return book.build(ROOT)


def book_chapters() -> list[str]:
    """The chapters of the course (``chapters/*.md``), by name: what is measured."""
    return sorted(p.stem for p in (ROOT / "chapters").glob("*.md"))


def records_from_another_machine(processor: str | None, mode: str,
                                 replaced=()) -> str | None:
    """Why times measured on ``processor`` must not be recorded beside those in
    ``benchmarks/results-MODE.json``, or None: the file's chapters other than ``replaced``
    (the ones this run measures again) were measured on another processor. One file holds
    one machine's times, so that they compare with one set of budgets."""
    path = ROOT / "benchmarks" / f"results-{mode}.json"
    if processor is None or not path.is_file():
        return None
    chapters = json.loads(path.read_text()).get("chapters", {})
    others = sorted(name for name, entry in chapters.items() if name not in replaced
                    and entry.get("machine", {}).get("processor") not in (None, processor))
    if not others:
        return None
    count = f"{len(others)} chapter{'s' if len(others) > 1 else ''}"
    return (f"{path.relative_to(ROOT)} holds the times of {count} ({others[0]}, ...) "
            f"measured on {chapters[others[0]]['machine']['processor']!r}, and this "
            f"machine is {processor!r}: times from two machines cannot share one set of "
            f"budgets")


def record_run(key: str, wall: float, cpu: float, budget: float, info: dict,
               chapters: list[str] | None = None) -> Path:
    """Write a whole run's times (``book`` or ``ci``) into ``benchmarks/results-full.json``,
    with the ``chapters`` a book's build executed (a chapter added later was not timed in it).
    """
    output = ROOT / "benchmarks" / "results-full.json"
    output.parent.mkdir(exist_ok=True)
    recorded = (
        json.loads(output.read_text()) if output.exists() else {"mode": "full", "chapters": {}}
    )
    recorded[key] = {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
                     "cores_busy": round(cpu / wall, 2), "budget_seconds": budget,
                     "within_budget": wall <= budget, "machine": info}
    if chapters is not None:
        recorded[key]["chapters"] = chapters
    output.write_text(json.dumps(recorded, indent=2) + "\n")
    return output


#: Target for the time a page of the built site takes to load in the browser (issue 19).
PAGE_LOAD_TARGET = 2.0


def page_load_seconds(html: Path) -> dict[str, float]:
    """Each page of the built site (``_toc.yml``'s, served on localhost), loaded in Debian's
    headless Chromium: seconds from navigation to the end of its load event, the slower of two
    loads (the first warms the browser's cache of the theme's shared files)."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.toc import toc_pages

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    times = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu"])
            for docname in toc_pages():
                loads = []
                for _ in range(2):
                    page = browser.new_page()
                    page.goto(f"{site}/{docname}.html", wait_until="load")
                    loads.append(page.evaluate(
                        "() => performance.getEntriesByType('navigation')[0].loadEventEnd")
                        / 1000)
                    page.close()
                times[docname] = round(max(loads), 3)
            browser.close()
    finally:
        server.shutdown()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", action="append", choices=["quick", "full"],
                        help="run mode(s) to measure (default: both)")
    parser.add_argument("--chapter", action="append",
                        help="chapter name or number prefix, e.g. 01 (default: all)")
    parser.add_argument("--ci", action="store_true", help="time .ci/run on a fresh clone instead")
    parser.add_argument("--book", action="store_true",
                        help="time the whole book's build in full mode (into _build) instead")
    parser.add_argument("--no-record", action="store_true",
                        help="print the times and results, write nothing (e.g. to run the "
                             "chapters with another Python: .venv-oldest/bin/python "
                             "tools/benchmark.py --no-record ...; or to time CI on a machine "
                             "that is not the reference)")
    parser.add_argument("--executed", type=Path, metavar="DIR",
                        help="also write each executed chapter notebook into DIR, to read "
                             "its outputs")
    parser.add_argument("--site", nargs="?", const=ROOT / "_build" / "html", type=Path,
                        metavar="HTML", help="time each page of the built site loading in "
                        "headless Chromium instead (default: _build/html, from `make book`)")
    args = parser.parse_args(argv)
    if args.site is not None:
        if not (args.site / "index.html").is_file():
            parser.error(f"no built site in {args.site}: run `make book` first")
        times = page_load_seconds(args.site)
        for docname, seconds in times.items():
            print(f"{seconds:6.2f} s  {docname}")
        slowest = max(times.values())
        met = slowest <= PAGE_LOAD_TARGET
        output = None
        if not args.no_record:
            output = ROOT / "benchmarks" / "results-full.json"
            recorded = json.loads(output.read_text())
            recorded["site"] = {"page_load_seconds": times, "slowest_seconds": slowest,
                                "target_seconds": PAGE_LOAD_TARGET, "machine": machine()}
            output.write_text(json.dumps(recorded, indent=2) + "\n")
        print(f"slowest page: {slowest:.2f} s (target <= {PAGE_LOAD_TARGET:g} s: "
              f"{'met' if met else 'MISSED'}){_wrote(output)}")
        return 0 if met else 1
    from genlib.claims import failed_claims  # imports TensorFlow: not needed for --help

    if args.book or args.ci:
        info = machine()
        if not args.no_record and (why := records_from_another_machine(
                info.get("processor"), "full")):
            parser.error(f"{why}. Measure every chapter on this machine first (`python "
                         f"tools/benchmark.py`), or add --no-record.")
    if args.book:
        times = build_book()
        output = None if args.no_record else record_run(
            "book", times.wall_seconds, times.cpu_seconds, BOOK_BUDGET, info,
            chapters=book_chapters())
        within = times.wall_seconds <= BOOK_BUDGET
        fast = times.wall_seconds <= BOOK_TARGET
        busy = times.cores_busy >= BOOK_CORES_TARGET
        print(f"the whole book, full mode: {times.wall_seconds:.0f} s on {info['cpus']} CPUs, "
              f"{'within' if within else 'OVER'} the budget of {BOOK_BUDGET} s (target <= "
              f"{BOOK_TARGET} s: {'met' if fast else 'MISSED'}); {times.cpu_seconds:.0f} s of "
              f"CPU time, {times.cores_busy:.2f} cores busy (target >= {BOOK_CORES_TARGET}: "
              f"{'met' if busy else 'MISSED'}){_wrote(output)}")
        if output:
            print("Run `make book` again for a site whose results page shows this build's "
                  "time.")
        return 0 if within and fast and busy else 1

    if args.ci:
        wall, cpu = run_ci()
        output = None if args.no_record else record_run("ci", wall, cpu, CI_BUDGET, info)
        verdict = "within" if wall <= CI_BUDGET else "OVER"
        print(
            f"CI (.ci/run on a fresh clone): {wall:.0f} s, {verdict} the budget of {CI_BUDGET} s; "
            f"{cpu:.0f} s of CPU time, {cpu / wall:.2f} cores busy{_wrote(output)}"
        )
        return 0 if wall <= CI_BUDGET else 1

    chapters = book_chapters()
    if args.chapter:
        chapters = [c for c in chapters if any(c.startswith(prefix) for prefix in args.chapter)]
        if not chapters:
            parser.error(f"no chapter matches {args.chapter}")
    over = False
    info = machine()
    for mode in args.mode or ["quick", "full"]:
        if not args.no_record and (why := records_from_another_machine(
                info.get("processor"), mode, replaced=chapters)):
            parser.error(f"{why}. Measure every chapter on this machine (`python "
                         f"tools/benchmark.py --mode {mode}`), or add --no-record.")
    print(f"machine: {info['cpus']} CPUs, {info['processor']}, Python {info['python']}, "
          f"TensorFlow {info['tensorflow']}, Keras {info['keras']}")
    for mode in args.mode or ["quick", "full"]:
        results = {}
        for chapter in chapters:
            seconds, metrics, executed = run_chapter(chapter, mode)
            if args.executed:
                import nbformat

                args.executed.mkdir(parents=True, exist_ok=True)
                nbformat.write(executed, args.executed / f"{chapter}-{mode}.ipynb")
            slowest = slowest_cells(executed)
            budget = BUDGETS.get(chapter, {}).get(mode)
            ok = budget is None or seconds <= budget
            over |= not ok
            results[chapter] = {"seconds": round(seconds, 1), "budget_seconds": budget,
                                "within_budget": ok, "results": metrics,
                                "slowest_cells": slowest,
                                "exercise_seconds": exercise_seconds(executed),
                                # Chapters recorded at different times may differ here.
                                "machine": info}
            budget_text = f"budget {budget} s" if budget else "no budget"
            if budget and ok:
                share = seconds / budget
                budget_text += f", {share:.0%} of it" + (
                    "" if share <= HEADROOM else f": above the {HEADROOM:.0%} headroom target")
            print(
                f"{mode:6} {chapter:40} {seconds:7.1f} s  ({budget_text}{'' if ok else ', OVER'})"
            )
            for entry in slowest[:3]:
                print(f"{'':8}cell {entry['cell']:<3} {entry['seconds']:7.1f} s  "
                      f"{entry['first_line']}")
            failed = failed_claims(metrics) if mode == "full" else []
            over |= bool(failed)
            for metric, value in metrics.items():
                target = TARGETS.get(metric) if mode == "full" else None
                verdict = ""
                if target:
                    met = value <= target[0]
                    over |= not met
                    verdict = (
                        f"  (target <= {target[0]}: {'met' if met else 'MISSED'}; {target[1]})"
                    )
                elif metric.startswith("claim.") and mode == "full":
                    # genlib.claims: the text's conclusions must hold in the book's mode.
                    verdict = ("  (CLAIM FAILED: the chapter's text says otherwise)"
                               if metric in failed else "  (the text's claim holds)")
                print(f"{'':8}{metric:38} {value:.6g}{verdict}")
        if args.no_record:
            continue
        output = ROOT / "benchmarks" / f"results-{mode}.json"
        output.parent.mkdir(exist_ok=True)
        # Chapters measured earlier stay in the file; the ones measured now replace theirs.
        # The whole book's build time (--book) stays too.
        saved = json.loads(output.read_text()) if output.exists() else {}
        recorded = saved.get("chapters", {})
        recorded.update(results)
        saved.update({"mode": mode, "machine": info, "chapters": recorded})
        output.write_text(json.dumps(saved, indent=2) + "\n")
        print(f"wrote {output.relative_to(ROOT)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
