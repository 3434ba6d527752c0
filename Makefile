# The README's two commands:
#   make html   builds the website into _build/html
#   make test   runs every test: engine, checkers, notebooks (strict nbval), website build
#               and browser tests (installing Debian's chromium first where it can)
# Both first create the virtual environment .venv and install requirements.txt into it,
# once (again only when requirements.txt or pyproject.toml change).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: html test clean

# tools/build_book.py is `jupyter-book build` reading (executing) one notebook per core
html: $(INSTALLED)
	$(BIN)/python tools/build_book.py --all --warningiserror --nitpick --keep-going .

test: $(INSTALLED)
	tools/ensure_chromium.sh
	$(BIN)/python -m pytest

$(INSTALLED): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $(INSTALLED)

clean:
	rm -rf _build
