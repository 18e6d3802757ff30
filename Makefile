# Two commands on a fresh machine with only python3: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup run test lint format bench bench-clv sample clean

setup: $(STAMP)  ## Create .venv and install the package with its pinned deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

run: setup  ## Build the warehouse on the embedded sample, test and publish it, render the reports
	$(BIN)/marketing-engine build
	$(BIN)/marketing-engine report

lint: setup  ## ruff on Python, sqlfluff on SQL models
	$(BIN)/ruff check src tests bench python_models
	$(BIN)/ruff format --check src tests bench python_models
	$(BIN)/sqlfluff lint models analyses tests/dbt

format: setup
	$(BIN)/ruff format src tests bench python_models
	$(BIN)/ruff check --fix src tests bench python_models

test: setup lint  ## Lint, then unit and integration tests (dbt build into a temp file)
	$(BIN)/python -m pytest

bench: setup  ## Time every stage at 10k and 100k customers (BENCH_SCALES=10000,100000,1000000)
	$(BIN)/python bench/run.py

bench-clv: setup  ## CLV stage at 1M customers, before vs after fitting on distinct triples
	$(BIN)/python bench/clv_stage.py

sample: setup  ## Regenerate the embedded sample in seeds/sample
	$(BIN)/marketing-engine generate-data --out seeds/sample --prefix raw_ --format csv

clean:
	rm -rf target logs warehouse reports/build
