# The front door. Every target does its own set-up, so each works on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# pytest-xdist workers for `make test` / `make test-load` (0: one process). Measured on 2 cores: 3 and 4
# workers 258-260 s, 6 and 8 workers 316 s (the suite keeps both cores busy; each worker adds its own
# sandbox and Chromium); 4 leaves a little slack for an e2e test waiting on a portal (README.md: "Tests run in parallel").
TEST_WORKERS ?= 4
# Each worker imports and assertion-rewrites every test module, and the CLI tests start `python -m aggregator`
# processes: with PYTHONDONTWRITEBYTECODE set (some shells set it) each of them compiled everything again.
test test-load: export PYTHONDONTWRITEBYTECODE :=

.PHONY: setup browser demo test test-load bench bench-scale lint sandbox clean docs-screenshots

setup: $(STAMP) browser

$(STAMP): pyproject.toml sandbox/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sandbox
	@touch $(STAMP)

browser: $(STAMP)
	@PYTHON=$(BIN)/python sh scripts/ensure-browser.sh

demo: setup  ## sandbox + vault, import a day's appointments, run the overnight batch, print the worklist
	$(BIN)/aggregator demo --data-dir demo-data

test: setup  ## types and import layers, then unit, recorded-page and end-to-end tests (real sandbox, real Chromium)
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

test-load: setup  ## the end-to-end suite with two CPU hogs busy beside it for its whole run (no test may assume an idle machine)
	$(BIN)/python scripts/cpu_hogs.py --procs 2 -- $(BIN)/python -m pytest -m e2e -n $(TEST_WORKERS)

bench: setup  ## overnight batch (300 appointments, 250 ms per request), sequential lookups, parsing the recorded pages
	$(BIN)/python benchmarks/overnight_batch.py
	$(BIN)/python benchmarks/sequential_lookups.py
	$(BIN)/python benchmarks/parse_pages.py

bench-scale: setup  ## scale-out: the batch on 1, 2 and 4 queue workers (local PostgreSQL), 12 portal accounts, +1.5 s per request
	$(BIN)/python benchmarks/scale_out.py

lint: setup  ## ruff, mypy (types) and import-linter (imports run one way down the layers)
	$(BIN)/ruff check aggregator vault sandbox tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

docs-screenshots: setup  ## sandbox + web app with demo data: capture the main pages into docs/screenshots/
	$(BIN)/python scripts/docs_screenshots.py

sandbox: setup  ## run the sandbox portals in the foreground
	$(BIN)/aggregator sandbox up

clean:
	rm -rf demo-data bench-data .pytest_cache
