"""The same dbt selection built on DuckDB and on Spark (dbt-spark, session method), from the
embedded sample and from a raw_data_dir of Parquet files. Run by `make test-spark`, which
installs requirements-spark.lock first; not part of the default `make test` testpaths.

Spark's tables are read back from its warehouse directory (Parquet, one folder per table),
so the checks need no Spark session of their own: every Spark table is loaded into a DuckDB
file with the same schema and table names, and the checks run SQL against both files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from tests.spark.dbt_env import PROJECT, TEST_SPARK, dbt_env
from tests.spark.raw_layout import lay_out

# What runs on Spark: staging, the RFM intermediate models, every core SQL mart (tag:core and
# its parents), the cross-sell rules (fct_product_affinity) and the data-quality findings
# (fct_data_quality_issues: its printf() texts through macros/portable/number_text.sql). Not on
# Spark for now: the Python marts (clustering, CLV, forecast, campaigns, messages: dbt-spark
# runs Python models only on Databricks clusters, not in the session method) and the marts
# built on them (tag:ml, tag:wide, the rest of the campaign marts, reporting).
SPARK_SELECTOR = [
    "staging",
    "+tag:core",
    "+int_customer_features",
    "+fct_product_affinity",
    "+fct_data_quality_issues",
]
SPARK_EXCLUDE: list[str] = []
# The Parquet build: staging and the RFM and KPI marts, kept small for CI time.
PARQUET_SELECTOR = ["+dim_customers", "+fct_segment_kpis", "+fct_monthly_sales"]
PARQUET_CUSTOMERS = 300
# CI time: each data test on Spark is a Spark job of its own (seconds each on 2 cores), and
# the DuckDB build runs every data test on tables the comparison proves equal row for row to
# Spark's. So Spark runs, from the sample, the data tests whose SQL is this project's (its
# generic tests in macros/tests, the singular ones, the unit tests) and dbt's accepted_values
# and relationships, but not dbt's not_null and unique (plain `is null` / `group by` SQL,
# three quarters of the tests; dbt-spark's own suite runs them on Spark); from Parquet, no
# data tests: the same SQL again, on data the comparison covers.
SPARK_TESTS_EXCLUDE = {
    "sample": ["test_name:not_null", "test_name:unique"],
    "parquet": ["resource_type:test", "resource_type:unit_test"],
}


def dbt(
    workdir: Path, target: str, selector: list[str], *extra: str, tests: str = "sample"
) -> None:
    """`dbt build --target <target>` of `selector` with every artifact under `workdir`."""
    # The tests' Spark settings on both targets (two dbt threads are DuckDB's default).
    env = dbt_env(workdir, **TEST_SPARK)
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--target",
        target,
        "--select",
        *selector,
        "--indirect-selection",
        "cautious",
        *extra,
    ]
    if target == "spark":
        command += ["--exclude", *SPARK_EXCLUDE, *SPARK_TESTS_EXCLUDE[tests]]
    print(f"\n$ {' '.join(command)}", flush=True)
    result = subprocess.run(
        command, cwd=PROJECT, env=env, capture_output=True, text=True, check=False
    )
    (workdir / f"dbt-{target}.log").write_text(result.stdout + result.stderr)
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    print(summary[-1] if summary else result.stdout[-2000:], flush=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def spark_tables_to_duckdb(warehouse: Path, database: Path) -> list[tuple[str, str]]:
    """Copy every table of Spark's warehouse (<schema>.db/<table>/ Parquet) into `database`.

    An empty Spark table may have no Parquet file, so no columns to copy: it is listed in
    main.spark_empty_tables instead, and the comparison checks DuckDB's is empty too."""
    con = duckdb.connect(str(database))
    con.execute("create table main.spark_empty_tables (table_schema varchar, table_name varchar)")
    copied = []
    for schema_dir in sorted(warehouse.glob("*.db")):
        schema = schema_dir.name.removesuffix(".db")
        con.execute(f'create schema if not exists "{schema}"')
        for table_dir in sorted(path for path in schema_dir.iterdir() if path.is_dir()):
            arrow = ds.dataset(str(table_dir), format="parquet").to_table()
            if arrow.num_columns == 0:
                con.execute(
                    "insert into main.spark_empty_tables values (?, ?)", [schema, table_dir.name]
                )
            else:
                con.register("spark_table", arrow)
                con.execute(f'create table "{schema}"."{table_dir.name}" as from spark_table')
                con.unregister("spark_table")
            copied.append((schema, table_dir.name))
    con.close()
    return copied


def build_both(workdir: Path, selector: list[str], *extra: str, tests: str = "sample") -> Path:
    dbt(workdir, "dev", selector, *extra)
    dbt(workdir, "spark", selector, *extra, tests=tests)
    copied = spark_tables_to_duckdb(workdir / "spark" / "warehouse", workdir / "spark.duckdb")
    assert copied, "Spark built no tables"
    return workdir


@pytest.fixture(scope="session")
def sample_builds(tmp_path_factory) -> Path:
    """build.duckdb and spark.duckdb (Spark's tables) from the embedded sample."""
    return build_both(tmp_path_factory.mktemp("spark_sample"), SPARK_SELECTOR)


@pytest.fixture(scope="session")
def parquet_raw_dir(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("spark_raw")
    command = [
        str(Path(sys.executable).with_name("marketing-engine")),
        "generate-data",
        "--customers",
        str(PARQUET_CUSTOMERS),
        "--format",
        "parquet",
        "--workers",
        "1",
        "--out",
        str(raw),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lay_out(raw)
    return raw


@pytest.fixture(scope="session")
def parquet_builds(tmp_path_factory, parquet_raw_dir) -> Path:
    """build.duckdb and spark.duckdb built from a raw_data_dir of Parquet files."""
    return build_both(
        tmp_path_factory.mktemp("spark_parquet"),
        PARQUET_SELECTOR,
        "--vars",
        # daily_run: the daily-run path on Spark (a full build there, README) must build
        # the same tables; on a fresh DuckDB file it is a full build too.
        f"{{raw_data_dir: '{parquet_raw_dir}', daily_run: true}}",
        tests="parquet",
    )
