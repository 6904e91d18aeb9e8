# The course's two entry points (see README.md):
#   make book   build the whole book, full mode, into _build/html
#   make test   run the whole test suite (unit tests, notebook sync, student versions,
#               every notebook in quick mode, the book built in quick mode with -W)
# Everything else is a step of these two.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test unit venv data notebooks check-notebooks student benchmark clean

book: venv data check-notebooks
	GENLIB_MODE=$${GENLIB_MODE:-full} $(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "The book is in _build/html/index.html"

# Quick mode unless GENLIB_MODE says otherwise: the notebooks' kernels inherit it.
test: venv data
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

notebooks: venv
	$(BIN)/python tools/notebooks.py sync

check-notebooks: venv
	$(BIN)/python tools/notebooks.py check

student: venv
	$(BIN)/python tools/notebooks.py student --output _build/student

benchmark: venv data
	$(BIN)/python tools/benchmark.py

clean:
	rm -rf _build
