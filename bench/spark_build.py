"""Benchmark: the SQL layer built on Spark (dbt-spark, local session) next to DuckDB.

    python bench/spark_build.py [--customers 1000000] [--workers 2]

Generates Parquet raw data once per scale (bench/data/c<customers>/, shared with
bench/run.py), then times, each as its own process, `dbt build` of the same selection
(staging, the RFM intermediate models, the core SQL marts, fct_product_affinity and
fct_data_quality_issues, with their data tests: what tests/spark builds on Spark) on
the DuckDB target and on the Spark target, both reading that raw_data_dir. One machine:
Spark is expected to be slower here (JVM start, a catalog, a shuffle per join); the point
is that the same project runs on it and scales out by changing the profile's spark.master
(or method: thrift) to a cluster. The figures go to
bench/results/<stamp>-spark-c<customers>.json with the ratio Spark / DuckDB measured in the
same run (the machine may be shared: quote the ratio, not the seconds).

Needs `make bench-spark` (installs requirements-spark.lock and a JDK).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # run as a script: the project's tests package
from tests.spark.dbt_env import dbt_env  # noqa: E402  (one dbt environment with tests/spark)

BIN = Path(sys.executable).parent
DATA = PROJECT / "bench" / "data"
WORK = PROJECT / "bench" / "work"
RESULTS = PROJECT / "bench" / "results"
SELECTOR = [
    "+tag:core",
    "+int_customer_features",
    "+fct_product_affinity",
    "+fct_data_quality_issues",
]
# Models left out on both engines, so both time the same models and tests (none now).
SPARK_EXCLUDE: list[str] = []


def raw_dir(customers: int, workers: int) -> tuple[Path, float | None]:
    """Parquet raw data for `customers` (generated when missing, timed)."""
    target = DATA / f"c{customers}"
    if (target / "transactions.parquet").exists():
        return target, None
    started = time.perf_counter()
    subprocess.run(
        [
            str(BIN / "marketing-engine"),
            "generate-data",
            "--customers",
            str(customers),
            "--format",
            "parquet",
            "--workers",
            str(workers),
            "--out",
            str(target),
        ],
        check=True,
    )
    return target, time.perf_counter() - started


def timed_build(target: str, raw: Path, work: Path, selector: list[str]) -> dict:
    """Wall seconds of `dbt build --target <target>` on `raw`, in a fresh work directory."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dbt_env(work)
    command = [
        str(BIN / "dbt"),
        "build",
        "--target",
        target,
        "--select",
        *selector,
        "--indirect-selection",
        "cautious",
        "--vars",
        f"{{raw_data_dir: '{raw}'}}",
    ]
    if SPARK_EXCLUDE:
        command += ["--exclude", *SPARK_EXCLUDE]
    load_before = os.getloadavg()
    started = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    (work / "build.log").write_text(result.stdout + result.stderr)
    done = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    return {
        "seconds": round(seconds, 1),
        "ok": result.returncode == 0,
        "summary": done[-1].split("  ", 1)[-1] if done else result.stdout[-500:],
        # The machine may be shared: 1/5/15-minute load averages when the build started
        # and ended (2 cores here; above 2, other work competed for them).
        "load_average_start": [round(x, 2) for x in load_before],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "log": str((work / "build.log").relative_to(PROJECT)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers",
        type=int,
        default=int(os.environ.get("BENCH_SPARK_CUSTOMERS", "1000000")),
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    raw, generation_seconds = raw_dir(args.customers, args.workers)
    duckdb_run = timed_build(
        "dev", raw, WORK / f"spark-bench-c{args.customers}" / "duckdb", SELECTOR
    )
    spark_run = timed_build(
        "spark", raw, WORK / f"spark-bench-c{args.customers}" / "spark", SELECTOR
    )
    result = {
        "customers": args.customers,
        "selector": SELECTOR,
        "spark_exclude": SPARK_EXCLUDE,
        "generation_seconds": generation_seconds,
        "duckdb": duckdb_run,
        "spark": spark_run,
        "spark_over_duckdb": round(spark_run["seconds"] / duckdb_run["seconds"], 2),
        "spark_master": os.environ.get("MARKETING_ENGINE_SPARK_MASTER", "local[2]"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-spark-c{args.customers}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {path.relative_to(PROJECT)}")
    if not (duckdb_run["ok"] and spark_run["ok"]):
        sys.exit("a build failed: see the logs named above")


if __name__ == "__main__":
    main()
