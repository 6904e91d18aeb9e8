# The course's two entry points (see README.md):
#   make book   build the whole book, full mode, into _build/html
#   make test   run the whole test suite (unit tests, notebook sync, student versions,
#               every notebook in quick mode as in Colab, the book built in quick mode with
#               -W and every page of it opened in headless Chromium), then the same genlib
#               on the oldest supported TensorFlow/Keras (test-oldest)
# Everything else is a step of these two.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The oldest supported versions (requirements-oldest.txt = pyproject.toml's lower bounds).
OLDEST_VENV  ?= .venv-oldest
OLDEST_STAMP := $(OLDEST_VENV)/.installed
# Tests of the repository's tools (notebooks, book, deployment), not of genlib: they need
# the pinned environment's tools and run there only.
TOOLING_TESTS := tests/test_notebook_tool.py tests/test_chapters_notebooks.py \
                 tests/test_results_page.py tests/test_deployment.py tests/test_book.py \
                 tests/test_browser.py tests/toc.py tests/test_budgets.py \
                 tests/test_benchmark.py tests/test_assignments.py
# The chapters test-oldest runs as in Colab: transposed convolutions, activity
# regularization, the GAN's training step (the parts of Keras that changed).
OLDEST_CHAPTERS := 03_convolutional or 05_sparse or 07_generative

.PHONY: book book-student test test-oldest oldest unit venv data browser lint notebooks check-notebooks \
        student assignments benchmark benchmark-book clean

# Chapters executed in parallel (one kernel per core), then rendered: tools/book.py.
book: venv data check-notebooks
	GENLIB_MODE=$${GENLIB_MODE:-full} $(BIN)/python tools/book.py

# The same book without any worked solution, for an instructor who hosts it for a class:
# _build/student-book/_build/html. Shows the chapters `make book` executed, if any.
book-student: venv data check-notebooks
	GENLIB_MODE=$${GENLIB_MODE:-full} $(BIN)/python tools/book.py --student

# Quick mode unless GENLIB_MODE says otherwise: the notebooks' kernels inherit it.
# Every core (at most 4): pytest-xdist workers, an idle one taking queued tests from a busy
# one (worksteal: the notebook tests are long); they share one build of the book (conftest).
PARALLEL := -n auto --maxprocesses 4 --dist worksteal
# The oldest versions' environment is installed meanwhile (mostly waiting on the disk), its
# log shown only if it fails.
test: venv data browser lint
	$(MAKE) --no-print-directory oldest >$(VENV)/oldest-install.log 2>&1 & \
	  GENLIB_MODE=$${GENLIB_MODE:-quick} $(BIN)/python -m pytest $(PARALLEL); status=$$?; \
	  wait $$! || { cat $(VENV)/oldest-install.log; exit 1; }; exit $$status
	$(MAKE) --no-print-directory test-oldest

# genlib on the oldest supported versions (Colab's runtime): its unit tests and doctests,
# and chapters 3, 5 and 7 run as in Colab, in quick mode, in one pytest run (so that the
# workers share out the chapters and the unit tests). Needs the data (make data).
test-oldest: oldest
	GENLIB_MODE=quick $(OLDEST_VENV)/bin/python -m pytest $(PARALLEL) genlib tests \
	  $(addprefix --ignore=,$(TOOLING_TESTS)) \
	  -k "not test_notebook_runs_like_in_colab or $(OLDEST_CHAPTERS)"

oldest: $(OLDEST_STAMP)

$(OLDEST_STAMP): requirements-oldest.txt pyproject.toml
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -r requirements-oldest.txt
	$(OLDEST_VENV)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(OLDEST_STAMP)

# The fast part alone: genlib's unit tests and doctests, no notebook, no book build.
unit: venv data
	GENLIB_MODE=$${GENLIB_MODE:-quick} $(BIN)/python -m pytest $(PARALLEL) genlib tests -m "not slow"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Fashion-MNIST from Debian's package when it is not already somewhere genlib looks, then
# verified. The book may download it as a last resort (DOWNLOAD=True); the tests never do.
DOWNLOAD ?= True
test unit: DOWNLOAD = False
data: venv
	@if [ -z "$$GENLIB_DATA_DIR" ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  echo "Installing Debian's dataset-fashion-mnist"; \
	  ($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist) >/dev/null \
	    || echo "Could not install dataset-fashion-mnist; genlib will say what to do."; \
	fi
	$(BIN)/python -c 'import genlib; data = genlib.load_fashion_mnist("full", download=$(DOWNLOAD)); print("Fashion-MNIST verified:", data)'

# Debian's Chromium for the real-browser test (tests/test_browser.py), when it is missing.
# Playwright drives it; it never downloads a browser of its own.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  echo "Installing Debian's chromium"; \
	  ($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium) >/dev/null \
	    || echo "Could not install chromium; tests/test_browser.py will say what to do."; \
	fi

# The usual correctness rules and the line length (pyproject.toml's [tool.ruff]).
lint: venv
	$(BIN)/ruff check .

notebooks: venv
	$(BIN)/python tools/notebooks.py sync

check-notebooks: venv
	$(BIN)/python tools/notebooks.py check

student: venv
	$(BIN)/python tools/notebooks.py student --output _build/student

# One otter-grader assignment per chapter, in _build/assignments/<chapter>/: the student
# notebook and its public tests, the autograder, the rubric (book/instructors.md).
assignments: venv
	$(BIN)/python tools/assignments.py build --output _build/assignments

benchmark: venv data
	$(BIN)/python tools/benchmark.py

# The whole book's build from scratch in full mode, timed (budget: 45 minutes), into _build.
benchmark-book: venv data check-notebooks
	$(BIN)/python tools/benchmark.py --book

clean:
	rm -rf _build
