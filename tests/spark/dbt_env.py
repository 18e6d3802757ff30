"""The environment of a dbt run from the project with every artifact under one work folder:
the DuckDB build file, Spark's warehouse (and its metastore beside it), target/ and logs/.
One definition for tests/spark and bench/spark_build.py, so they run dbt the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

# For the tests' one-off Spark runs: two dbt threads keep both cores busy (one runs Python
# while the other waits on the JVM); an in-memory catalog skips the Hive metastore's start-up
# (each run is one process; tables are read back from their Parquet files, under the schema
# named here whatever the caller's environment says). The benchmark keeps the profile's
# defaults instead (Hive catalog, one thread), as a user's build runs.
TEST_SPARK = {
    "MARKETING_ENGINE_DBT_THREADS": "2",
    "MARKETING_ENGINE_SPARK_CATALOG": "in-memory",
    "MARKETING_ENGINE_SPARK_SCHEMA": "marketing_engine",
}


def dbt_env(workdir: Path, **settings: str) -> dict[str, str]:
    """os.environ plus the project's profile and every artifact under `workdir`; `settings`
    adds or overrides variables (TEST_SPARK, say)."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PARTIAL_PARSE": "false",
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "MARKETING_ENGINE_BUILD_DB": str(workdir / "build.duckdb"),
        "MARKETING_ENGINE_SPARK_WAREHOUSE": str(workdir / "spark" / "warehouse"),
        **settings,
    }


def run_in_project(command: list[str], workdir: Path) -> subprocess.CompletedProcess:
    """`command` run from the project in the tests' Spark settings, its output captured."""
    return subprocess.run(
        command,
        cwd=PROJECT,
        env=dbt_env(workdir, **TEST_SPARK),
        capture_output=True,
        text=True,
        check=False,
    )


def dbt_show(target: str, workdir: Path, sql: str) -> list[dict]:
    """The rows of `sql` (Jinja and the project's macros allowed) on `target`, run with
    `dbt show --inline` in the tests' Spark settings."""
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "--quiet",
        "show",
        "--target",
        target,
        "--inline",
        sql,
        "--limit",
        "-1",
        "--output",
        "json",
    ]
    result = run_in_project(command, workdir)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{") :])["show"]
