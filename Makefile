# The README's first two commands: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install core-libraries sdk3 node chromium postgresql bench-tools lint test bench demo serve clean

$(STAMP): pyproject.toml app/parsing/_core.c | core-libraries
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[trainer,dev]'
	touch $(STAMP)

install: $(STAMP)

# The SageMaker SDK v3 cannot share .venv with v2 (pyproject.toml's dev extra): tests/sdk runs
# users' v3 scripts with .venv-sdk3's python. Rebuilt when its requirements change.
SDK3_VENV := .venv-sdk3
SDK3_STAMP := $(SDK3_VENV)/.installed
$(SDK3_STAMP): tests/sdk3-requirements.txt
	$(PYTHON) -m venv $(SDK3_VENV)
	$(SDK3_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SDK3_VENV)/bin/python -m pip install --quiet -r tests/sdk3-requirements.txt
	touch $(SDK3_STAMP)

sdk3: $(SDK3_STAMP)

# ESLint for the dashboard's scripts, from npm at package-lock.json's versions.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json | node
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

lint: install $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	node_modules/.bin/eslint app/web/static/js eslint.config.mjs

# The dashboard's browser tests drive Debian's Chromium: Playwright cannot download its own.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# apt waits up to ten minutes for another apt to release the dpkg lock.
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq
node:
	@command -v npm >/dev/null || { echo "make: installing Debian's nodejs and npm for ESLint"; $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && $(APT_INSTALL) nodejs npm; }
chromium:
	@command -v chromium >/dev/null || { echo "make: installing Debian's chromium for the browser tests"; $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && $(APT_INSTALL) chromium; }

# The compiled matching core (app/parsing/core.py) links Debian's PCRE2 and Hyperscan; the
# install builds it where their headers are, and goes on without it where they are not.
core-libraries:
	@{ [ -f /usr/include/pcre2.h ] && [ -f /usr/include/hs/hs.h ]; } || { echo "make: installing Debian's libpcre2-dev and libhyperscan-dev for the compiled matching core"; $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && $(APT_INSTALL) libpcre2-dev libhyperscan-dev; } || echo "make: no PCRE2 or Hyperscan headers: the parser runs on the regex module alone"

# The benchmark's tools: ripgrep's 40 passes (a reference row), wrk (the fleet's load).
bench-tools:
	@{ command -v rg >/dev/null && command -v wrk >/dev/null; } || { echo "make: installing Debian's ripgrep and wrk for the benchmark"; $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && $(APT_INSTALL) ripgrep wrk; }

# The storage and concurrency tests run on PostgreSQL too: tests/postgres.py starts a
# throwaway server from Debian's binaries (initdb into a temporary folder).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "make: installing Debian's postgresql for the PostgreSQL tests"; $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && $(APT_INSTALL) postgresql; }

test: lint sdk3 chromium postgresql
	$(BIN)/pytest

# Parser, HTTP ingest and ranking at scale; writes bench/RESULTS.md (see bench/README.md).
bench: install bench-tools
	$(BIN)/python -m bench --write-results

# The reference sweep runs `python -m trainer`: the venv's python comes first on PATH.
demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/logmetrics demo

serve: install
	$(BIN)/logmetrics serve

clean:
	rm -rf $(VENV) $(SDK3_VENV) node_modules data .pytest_cache .mypy_cache .ruff_cache
