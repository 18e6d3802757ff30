"""Raw files on Spark fail and fall back the way they do on DuckDB, in words: a missing
raw_data_dir names the directory and the fix (not Spark's PATH_NOT_FOUND and a Java stack
trace), a second dbt invocation in the same SparkSession sees a raw file added since the
first (the listing of raw_data_dir is made per invocation), and a daily run says that Spark
rebuilds the daily models in full. The raw-file
layouts themselves (a CSV header for people, a folder of Parquet parts, a stale copy in a
subfolder) are in the Parquet build that test_engines_agree compares row for row."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from tests.spark.dbt_env import PROJECT, run_in_project


def test_a_missing_raw_data_dir_names_the_directory_and_the_fix(tmp_path):
    missing = tmp_path / "no_such_dir"
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
    result = run_in_project(command, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"Required raw table 'customers' not found in raw_data_dir '{missing}'" in output
    assert "unset raw_data_dir to use the embedded sample" in output
    assert "PATH_NOT_FOUND" not in output and "\tat org.apache" not in output, output[-3000:]


def test_a_daily_run_on_spark_says_it_builds_in_full(parquet_builds):
    log = (parquet_builds / "dbt-spark.log").read_text()
    assert "Daily run on Spark: base_shop__order_lines and" in log


# Two dbtRunner invocations in one process, so in one SparkSession (dbt-spark's session
# method takes the process's session): customers.csv is added to raw_data_dir between them.
TWO_INVOCATIONS = """
import json, shutil, sys
from dbt.cli.main import dbtRunner

raw_dir, customers = sys.argv[1], sys.argv[2]
args = ["run", "--target", "spark", "--select", "base_shop__customers",
        "--vars", "{raw_data_dir: '" + raw_dir + "'}"]
runner = dbtRunner()
first = runner.invoke(args)
shutil.copy(customers, raw_dir + "/customers.csv")
second = runner.invoke(args)
print("OUTCOME " + json.dumps([first.success, second.success]))
"""


def test_a_second_invocation_in_the_same_session_lists_the_files_anew(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    command = [
        sys.executable,
        "-c",
        textwrap.dedent(TWO_INVOCATIONS),
        str(raw),
        str(PROJECT / "seeds" / "sample" / "raw_customers.csv"),
    ]
    result = run_in_project(command, tmp_path)
    output = result.stdout + result.stderr
    outcome = [line for line in result.stdout.splitlines() if line.startswith("OUTCOME ")]
    assert result.returncode == 0 and outcome, output[-4000:]
    # The first finds no customers file; the second, in the same session, finds the one
    # added (a listing kept from the first invocation would still miss it).
    assert json.loads(outcome[-1].removeprefix("OUTCOME ")) == [False, True], output[-4000:]
    assert "Required raw table 'customers' not found in raw_data_dir" in output
