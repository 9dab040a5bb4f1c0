# The front door. Every target does its own set-up, so each works on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup browser demo test bench lint sandbox clean

setup: $(STAMP) browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

browser: $(STAMP)
	@PYTHON=$(BIN)/python sh scripts/ensure-browser.sh

demo: setup  ## start the sandbox, vault its accounts, look up ~20 members, print a summary
	$(BIN)/aggregator demo --data-dir demo-data

test: setup  ## unit, recorded-page and end-to-end tests (real sandbox, real Chromium)
	$(BIN)/python -m pytest

bench: setup  ## sequential lookups against the sandbox: median and CPU seconds per lookup
	$(BIN)/python benchmarks/sequential_lookups.py

lint: setup
	$(BIN)/ruff check aggregator vault sandbox tests benchmarks

sandbox: setup  ## run the sandbox portals in the foreground
	$(BIN)/aggregator sandbox up

clean:
	rm -rf demo-data bench-data .pytest_cache
