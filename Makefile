# The course's two entry points (see README.md):
#   make book   build the whole book, full mode, into _build/html
#   make test   run the whole test suite (unit tests, notebook sync, student versions,
#               every notebook in quick mode as in Colab, the book built in quick mode with
#               -W and every page of it opened in headless Chromium)
# Everything else is a step of these two.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test unit venv data browser notebooks check-notebooks student benchmark \
        benchmark-book clean

book: venv data check-notebooks
	GENLIB_MODE=$${GENLIB_MODE:-full} $(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "The book is in _build/html/index.html"

# Quick mode unless GENLIB_MODE says otherwise: the notebooks' kernels inherit it.
test: venv data browser
	GENLIB_MODE=$${GENLIB_MODE:-quick} $(BIN)/python -m pytest

# The fast part alone: genlib's unit tests and doctests, no notebook, no book build.
unit: venv data
	GENLIB_MODE=$${GENLIB_MODE:-quick} $(BIN)/python -m pytest genlib tests -m "not slow"

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

notebooks: venv
	$(BIN)/python tools/notebooks.py sync

check-notebooks: venv
	$(BIN)/python tools/notebooks.py check

student: venv
	$(BIN)/python tools/notebooks.py student --output _build/student

benchmark: venv data
	$(BIN)/python tools/benchmark.py

# The whole book's build from scratch in full mode, timed (budget: 45 minutes), into _build.
benchmark-book: venv data check-notebooks
	$(BIN)/python tools/benchmark.py --book

clean:
	rm -rf _build
