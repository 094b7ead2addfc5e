# qms-standards. `make help` lists the targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast lint golden bench bench-stability smoke clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned to the CPU build: otherwise sentence-transformers pulls GBs of CUDA packages.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install qms with its dependencies

demo: $(STAMP) ## Set up, validate the shipped standards and consolidate them into framework/
	$(BIN)/qms validate
	$(BIN)/qms consolidate

test: $(STAMP) ## Run the whole test suite (fast and slow tests)
	@# pytest exits 5 when it collected no tests: that must fail loudly, not pass.
	@$(BIN)/pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest ran no tests" >&2; exit 1; fi; exit $$rc

test-fast: $(STAMP) ## Run the tests that do not load the embedding model
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP) ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

bench: $(STAMP) ## Print benchmark figures (also written to bench/results.json)
	$(BIN)/python bench/run.py

bench-stability: $(STAMP) ## Reword each shipped requirement in turn; how many standards move (minutes)
	$(BIN)/python bench/stability.py --json bench/stability.json

golden: $(STAMP) ## Regenerate golden files (review with git diff)
	$(BIN)/pytest -q --regen-golden

smoke: ## qms --help in a venv with runtime dependencies only (no dev extras)
	rm -rf .venv-smoke && $(PY) -m venv .venv-smoke
	.venv-smoke/bin/pip install -q torch==2.13.0 && .venv-smoke/bin/pip install -q .
	.venv-smoke/bin/qms --help > /dev/null && echo "runtime-only install: qms --help ok"
	rm -rf .venv-smoke

clean: ## Remove the virtualenv, caches and out/ (never framework/: the agreed framework and live tracker)
	rm -rf $(VENV) out .cache .pytest_cache .hypothesis .mypy_cache .ruff_cache
