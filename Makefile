# Two commands on a fresh machine with only python3: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# requirements.lock pins every package with hashes (`make lock` re-resolves it);
# uv installs it in seconds. uv itself comes from PyPI, at the version the lock pins.
LOCK := requirements.lock
UV := $(BIN)/uv
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' $(LOCK))
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup lock lock-spark run test test-spark java lint format bench bench-clv bench-python \
	bench-spark sample clean

setup: $(STAMP)  ## Create .venv and install the package with its locked deps

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

lock: | $(UV)  ## Re-resolve requirements.lock from pyproject.toml (after changing a dependency)
	$(UV) pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 --quiet -o $(LOCK)

# Spark's packages (dbt-spark[session], pyspark) have their own hashed lock, installed
# only by `make test-spark` / `make bench-spark`: the main install stays fast. The lock is
# constrained by requirements.lock, so dbt-core and every shared package keep its versions.
SPARK_LOCK := requirements-spark.lock
SPARK_STAMP := $(VENV)/.spark-installed-$(shell cat $(LOCK) $(SPARK_LOCK) | cksum | cut -d' ' -f1)

lock-spark: | $(UV)  ## Re-resolve requirements-spark.lock from requirements-spark.in
	$(UV) pip compile requirements-spark.in --constraint $(LOCK) --generate-hashes \
		--universal --python-version 3.11 --quiet -o $(SPARK_LOCK)

$(SPARK_STAMP): $(SPARK_LOCK) $(STAMP)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r $(SPARK_LOCK)
	rm -f $(VENV)/.spark-installed-*
	touch $@

java:  ## A Java runtime for Spark 4 (17 or newer): Debian's default JRE when `java` is missing
	@# default-jre-headless is OpenJDK 17 on Debian 12 and 21 on Debian 13 (which has no
	@# openjdk-17 package); Spark 4 runs on either. An older java fails here, in words,
	@# instead of as an UnsupportedClassVersionError from the JVM mid-build.
	@if ! command -v java >/dev/null; then \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq default-jre-headless; \
	fi
	@java -version 2>&1 | head -1
	@major=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' | head -1); \
	if [ "$${major:-0}" -lt 17 ]; then \
		echo "Spark 4 needs Java 17 or newer, but 'java' on PATH is version $${major:-unknown}." >&2; \
		echo "Install one (apt-get install default-jre-headless, or openjdk-17-jre-headless)" >&2; \
		echo "and put it first on PATH, or set JAVA_HOME to it." >&2; \
		exit 1; \
	fi

run: setup  ## Build the warehouse on the embedded sample, test and publish it, render the reports
	$(BIN)/marketing-engine build
	$(BIN)/marketing-engine report

lint: setup  ## ruff on Python, mypy on src/, sqlfluff (dbt templater: the compiled SQL) on SQL
	$(BIN)/ruff check src tests bench python_models
	$(BIN)/ruff format --check src tests bench python_models
	$(BIN)/mypy
	@# The dbt templater compiles against a scratch file, never the warehouse a build holds.
	mkdir -p target
	MARKETING_ENGINE_BUILD_DB=target/lint.duckdb $(BIN)/sqlfluff lint models python_models analyses tests/dbt

format: setup
	$(BIN)/ruff format src tests bench python_models
	$(BIN)/ruff check --fix src tests bench python_models

test: setup lint  ## Lint, then unit and integration tests (dbt build into a temp file)
	$(BIN)/python -m pytest --durations=30

test-spark: setup $(SPARK_STAMP) java  ## Build staging, RFM and KPI marts on Spark and DuckDB; compare them
	@echo "On Spark (dbt-spark, session method): staging, the RFM intermediate models, every"
	@echo "core SQL mart (+tag:core), fct_product_affinity and fct_data_quality_issues, from"
	@echo "the embedded sample and from Parquet files."
	@echo "DuckDB-only for now: the Python marts (clustering, CLV, forecast, campaigns, messages;"
	@echo "dbt-spark runs Python models only on Databricks clusters) and the marts built on"
	@echo "them (tag:ml, tag:wide, the other campaign marts, reporting)."
	$(BIN)/python -m pytest tests/spark -v -s -p no:cacheprovider

bench: setup  ## Time every stage at 10k and 100k customers (BENCH_SCALES=10000,100000,1000000)
	$(BIN)/python bench/run.py

bench-clv: setup  ## CLV stage at 1M customers, before vs after fitting on distinct triples
	$(BIN)/python bench/clv_stage.py

bench-python: setup  ## Each Python model timed and checked on a built warehouse (WORK=dir of a bench build)
	$(BIN)/python bench/python_models.py --build-db $(WORK)/build.duckdb --target $(WORK)/target

bench-spark: setup $(SPARK_STAMP) java  ## Spark vs DuckDB build time at BENCH_SPARK_CUSTOMERS (default 1M)
	$(BIN)/python bench/spark_build.py

sample: setup  ## Regenerate the embedded sample in seeds/sample
	$(BIN)/marketing-engine generate-data --out seeds/sample --prefix raw_ --format csv

clean:
	rm -rf target logs warehouse reports/build
