# Two commands on a fresh clone: `make report` (set up, then build the report) and `make test`.
# Everything runs inside .venv, created from the machine's python3 and synced from uv.lock.

.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help setup system-deps report run predict sweep test test-fast lint format mutation benchmark clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: byte-compile the environment once at install. Where PYTHONDONTWRITEBYTECODE
# is set (it is on the machines here), nothing else ever caches it, and every Python process
# (each command, kernel and sweep worker) would compile pandas, scikit-learn and matplotlib
# again: `titanic run` of a small model took 31 s of CPU without, 12 s with.
$(VENV)/.synced: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --compile-bytecode --python $(BIN)/python
	@touch $@

setup: $(VENV)/.synced system-deps ## Create .venv from uv.lock and install headless Chromium if missing

system-deps: ## Install headless Chromium (Debian/Ubuntu) unless it or Quarto is on PATH
	@bash scripts/install-system-deps.sh

report: setup ## Set everything up, then render _output/report.html and _output/report.pdf
	$(BIN)/titanic render

run: setup ## Train and evaluate; print the metrics and write _output/metrics.json
	$(BIN)/titanic run

predict: setup ## Write the Kaggle submission _output/submission.csv
	$(BIN)/titanic predict

# The report first: the site's landing page and every variant's report link to it.
sweep: setup ## Render the report, then every variant in params.yaml, with a comparison page
	$(BIN)/titanic render
	$(BIN)/titanic sweep

# Tests run in TEST_WORKERS processes (pytest-xdist). Most of the suite's time goes to renders,
# sweeps and signal tests that use one core at most and wait in between: on 2 cores, two
# processes kept the machine 91% busy (5 min 15 s), three 99% (4 min 42 s; 2026-11-26).
# TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 3

test: setup ## Run the whole test suite (lint included)
	@bash scripts/install-system-deps.sh --for-tests
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS)

test-fast: $(VENV)/.synced ## Run the tests that need neither a browser nor a render
	$(BIN)/python -m pytest -m "not slow"

lint: $(VENV)/.synced ## ruff (lint and format check), pylint and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pylint src/titanic main.py
	$(BIN)/mypy

mutation: $(VENV)/.synced ## Mutation testing (mutmut) of config, features, modeling, analysis, sweep cache
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut export-cicd-stats
	@cat mutants/mutmut-cicd-stats.json; echo

format: $(VENV)/.synced ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

benchmark: setup ## Run the benchmarks and rewrite docs/benchmarks.md
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_sweep.py --per-variant
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_storage.py
	$(BIN)/python benchmarks/bench_signals.py

clean: ## Remove outputs and caches (keeps .venv)
	rm -rf _output .pytest_cache .ruff_cache .mypy_cache
