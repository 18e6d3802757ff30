"""Raw files on Spark fail and fall back the way they do on DuckDB, in words: a missing
raw_data_dir names the directory and the fix (not Spark's PATH_NOT_FOUND and a Java stack
trace), and a daily run says that Spark rebuilds the daily models in full. The raw-file
layouts themselves (a CSV header for people, a folder of Parquet parts, a stale copy in a
subfolder) are in the Parquet build that test_engines_agree compares row for row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.spark.conftest import PROJECT


def test_a_missing_raw_data_dir_names_the_directory_and_the_fix(tmp_path):
    missing = tmp_path / "no_such_dir"
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MARKETING_ENGINE_BUILD_DB": str(tmp_path / "build.duckdb"),
        "MARKETING_ENGINE_SPARK_WAREHOUSE": str(tmp_path / "spark" / "warehouse"),
        "MARKETING_ENGINE_SPARK_CATALOG": "in-memory",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "run",
        "--target",
        "spark",
        "--select",
        "base_shop__customers",
        "--vars",
        f"{{raw_data_dir: '{missing}'}}",
    ]
    result = subprocess.run(
        command, cwd=PROJECT, env=env, capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"Required raw table 'customers' not found in raw_data_dir '{missing}'" in output
    assert "unset raw_data_dir to use the embedded sample" in output
    assert "PATH_NOT_FOUND" not in output and "\tat org.apache" not in output, output[-3000:]


def test_a_daily_run_on_spark_says_it_builds_in_full(parquet_builds):
    log = (parquet_builds / "dbt-spark.log").read_text()
    assert "Daily run on Spark: base_shop__order_lines and" in log
