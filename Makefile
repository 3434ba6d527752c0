# The README's two commands:
#   make html   builds the website into _build/html
#   make test   runs every test: engine, checkers, notebooks (strict nbval, then again with
#               PyTorch, numpy and OpenBLAS forced onto two other CPUs' code paths), website
#               build and browser tests (installing Debian's chromium first where it can)
# and, for maintainers (CONTRIBUTING.md, "What to run"):
#   make check  the inner loop, well under a minute: lint, then the engine's and the
#               checkers' tests with fewer hypothesis examples and without the few slow ones
#   make lint   ruff check and ruff format --check (CI runs it before make test)
#   make format ruff's fixes and formatting, applied
# Both first create the virtual environment .venv and install requirements.txt into it,
# once (again only when requirements.txt or pyproject.toml change).
#
# The pinned requirements have wheels for Python 3.11 to 3.14 only (numpy 2.4.6,
# scikit-learn 1.9.1 and matplotlib 3.11.2 need 3.11 or newer; numpy 2.4.6 has no wheel
# for 3.15). With another default python3, name one: `make PYTHON=python3.12 test`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# requirements-instructor.txt (nbgrader), on top: the tests of tools/grade.py use it
INSTRUCTOR := $(VENV)/.installed-instructor
PYTHON_SUPPORTED := 3.11 to 3.14

.PHONY: html test test-cpu-paths check lint format clean

# Python may keep its compiled bytecode (the __pycache__ folders, ignored by git). Some
# environments switch that off with PYTHONDONTWRITEBYTECODE; then every process compiles
# labs, the tools and the tests again, and every notebook kernel labs: about 0.2 s of CPU
# a process, over a hundred processes in `make test`. These commands switch it back on
# (an empty value is "not set" to Python).
export PYTHONDONTWRITEBYTECODE :=

# tools/build_book.py is `jupyter-book build` reading (executing) one notebook per core
html: $(INSTALLED)
	$(BIN)/python tools/build_book.py --execute cache --warningiserror --nitpick --keep-going .

# The notebooks run again under two other CPUs' code paths. The third variant,
# avx512-intel, only switches OpenBLAS to the kernels this machine already picks (its
# --probe changes nothing here but a thread count), so it waits for make test-cpu-paths.
test: $(INSTALLED) $(INSTRUCTOR)
	tools/ensure_chromium.sh
	$(BIN)/python -m pytest
	$(BIN)/python tools/cpu_paths.py avx2 baseline

# the inner loop: lint, then engine and checker tests (hypothesis profile "quick", see
# tests/conftest.py; the tests marked slow are left to make test)
check: lint
	LABS_HYPOTHESIS_PROFILE=quick $(BIN)/python -m pytest -q -m "not slow" tests/engine tests/checkers

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# only the notebooks, under every other CPU's code paths (tools/cpu_paths.py says which)
test-cpu-paths: $(INSTALLED)
	$(BIN)/python tools/cpu_paths.py

# Stop at once, before creating .venv, when the interpreter cannot install the pins.
define check_python
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 14) else 1)' 2>/dev/null || { \
	  found=$$($(PYTHON) -c 'import platform; print("Python", platform.python_version())' 2>/dev/null || echo "not found"); \
	  echo "error: $(PYTHON): $$found. The course's pinned requirements install on Python $(PYTHON_SUPPORTED)." >&2; \
	  echo "       Install one of those and name it, for example: make PYTHON=python3.12 $(or $(MAKECMDGOALS),html)" >&2; \
	  exit 1; }
endef

$(INSTALLED): requirements.txt pyproject.toml
	$(check_python)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python tools/jupyterlab_defaults.py
	touch $(INSTALLED)

$(INSTRUCTOR): $(INSTALLED) requirements-instructor.txt
	$(BIN)/python -m pip install -r requirements-instructor.txt
	touch $(INSTRUCTOR)

clean:
	rm -rf _build
