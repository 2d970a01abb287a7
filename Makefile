# The README's first two commands: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test demo serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[trainer,dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The reference sweep runs `python -m trainer`: the venv's python comes first on PATH.
demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/logmetrics demo

serve: install
	$(BIN)/logmetrics serve

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
