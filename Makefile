# Fresh machine: `make run` sets everything up and runs the built-in default experiment;
# `make test` sets everything up and runs the test suite. Both are idempotent.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run run-tiny test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup.sh
	touch $(STAMP)

run: setup
	$(BIN)/instructkit run

run-tiny: setup
	$(BIN)/instructkit run --model tiny

test: setup
	$(BIN)/python -m pytest -q

# Benchmarks against the tools users would pick instead (TRL, lm-eval, batched generate,
# rouge_score); writes benchmarks/RESULTS.md. The anchors come with the `bench` extra.
bench: setup
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/run_all.py

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) runs .pytest_cache
