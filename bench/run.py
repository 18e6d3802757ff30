"""Benchmark: every pipeline stage at several scales, and the RFM step against pandas and lifetimes.

    python bench/run.py [--scales 10000,100000,1000000] [--skip-lifetimes-above N]

For each scale it generates Parquet data (once; kept in bench/data/), then
times each stage as its own process, so wall time and peak memory (max RSS of
that process, from wait4) belong to that stage alone: generation, staging,
marts, clustering, CLV, forecast, messages (template generator: no Ollama),
reports, publish. Then, in this process and on the same data, it times the
RFM step four ways and reports ratios against the project's DuckDB SQL:
pandas, lifetimes' summary_data_from_transaction_data, and the raw floor
(DuckDB scanning the amount column). Results go to bench/results/ as JSON and
are printed as tables. Timings are ratios within one run: the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from marketing_engine.build_status import SUCCESS, BuildStatus, now_utc, write_status

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA = PROJECT / "bench" / "data"
RESULTS = PROJECT / "bench" / "results"

# Stages in dependency order; each is one `dbt run` process.
STAGES = [
    ("staging", "path:models/staging"),
    (
        "rfm_and_marts",
        "int_reference_date int_order_lines_joined_to_products "
        "int_order_lines_aggregated_to_orders fct_order_lines fct_orders dim_products "
        "int_orders_aggregated_to_customers int_customers_rfm_scored "
        "fct_monthly_sales fct_product_performance fct_category_performance "
        "fct_cohort_retention fct_coupon_activity fct_branch_performance "
        "fct_segment_history fct_segment_transitions",
    ),
    (
        "clustering",
        "int_customer_features cluster_assignments customer_clusters cluster_evaluation",
    ),
    (
        "clv",
        "int_customers_clv_summary int_customers_clv_calibration "
        "customer_lifetime_value clv_model_parameters clv_holdout_validation",
    ),
    (
        "customer_marts",
        "dim_customers fct_segment_kpis fct_city_performance "
        "fct_customer_demographics cluster_profiles",
    ),
    ("forecast", "int_segment_monthly_revenue sales_forecast forecast_backtest"),
    (
        "messages",
        "message_rfm_segments message_cluster_segments "
        "message_pairings marketing_message_log marketing_messages "
        "customer_messages",
    ),
]


def measured(command: list[str], env: dict) -> dict:
    """Run `command`; wall seconds and the child's peak RSS in MB."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{output[-4000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def pipeline(scale: int, work: Path, lifetimes_limit: int) -> dict:
    raw = DATA / f"c{scale}"
    env = {
        **os.environ,
        "MARKETING_ENGINE_BUILD_DB": str(work / "build.duckdb"),
        "MARKETING_ENGINE_SERVING_DB": str(work / "marketing.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "OLLAMA_HOST": "http://127.0.0.1:9",  # closed port: the template generator
        "MARKETING_ENGINE_PII_KEY": "bench",
    }
    stages: dict[str, dict] = {}
    if not (raw / "transactions.parquet").exists():
        stages["generation"] = measured(
            [
                str(BIN / "marketing-engine"),
                "generate-data",
                "--customers",
                str(scale),
                "--seed",
                "1",
                "--format",
                "parquet",
                "--no-dirty-rows",
                "--out",
                str(raw),
            ],
            env,
        )
    dbt_vars = json.dumps({"raw_data_dir": str(raw)})
    base = [
        str(BIN / "dbt"),
        "run",
        "--project-dir",
        str(PROJECT),
        "--profiles-dir",
        str(PROJECT),
        "--vars",
        dbt_vars,
    ]
    measured(
        [
            str(BIN / "dbt"),
            "seed",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--vars",
            dbt_vars,
        ],
        env,
    )
    for stage, selector in STAGES:
        stages[stage] = measured([*base, "--select", *selector.split()], env)
    stages["tests"] = measured(
        [
            str(BIN / "dbt"),
            "test",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--vars",
            dbt_vars,
        ],
        env,
    )
    # Every dbt stage above passed (measured raises otherwise): record it as a full
    # build, since publish refuses a build file it has no passing record of.
    write_status(work / "build.duckdb", BuildStatus(SUCCESS, None, now_utc(), now_utc()))
    stages["publish"] = measured([str(BIN / "marketing-engine"), "publish"], env)
    stages["reports"] = measured(
        [str(BIN / "marketing-engine"), "report", "--out", str(work / "report")], env
    )
    with duckdb.connect(str(work / "build.duckdb"), read_only=True) as con:
        lines = con.execute("select count(*) from staging.stg_shop__order_lines").fetchone()[0]
    return {
        "stages": stages,
        "order_lines": lines,
        "rfm": rfm_comparison(raw, scale <= lifetimes_limit),
    }


# --- the RFM step, four ways ----------------------------------------------------------

RFM_SQL = """
with orders as (
    select order_id, min(customer_id) as customer_id,
           min(case when line_type = 'sale' then cast(ordered_at as date) end) as order_date,
           sum(quantity * cast(unit_price as decimal(18, 2))
               - cast(coalesce(discount_amount, 0) as decimal(18, 2))) as net
    from read_parquet('{path}')
    group by order_id
    having count(case when line_type = 'sale' then 1 end) > 0
),
customers as (
    select customer_id, max(order_date) as last_order, count(*) as frequency,
           sum(net) as monetary
    from orders group by customer_id
),
measured as (
    select customer_id, date_diff('day', last_order, date '{as_of}') as recency_days,
           frequency, monetary
    from customers
)
select customer_id, recency_days, frequency, monetary,
       cast(1 + floor(5.0 * (rank() over (order by recency_days desc) - 1) / count(*) over ())
            as integer) as r_score,
       cast(1 + floor(5.0 * (rank() over (order by frequency) - 1) / count(*) over ())
            as integer) as f_score,
       cast(1 + floor(5.0 * (rank() over (order by monetary) - 1) / count(*) over ())
            as integer) as m_score
from measured
"""


def rfm_duckdb(path: Path, as_of: str) -> pd.DataFrame:
    with duckdb.connect() as con:
        return con.execute(RFM_SQL.format(path=path, as_of=as_of)).df()


def rfm_pandas(path: Path, as_of: str) -> pd.DataFrame:
    lines = pd.read_parquet(
        path,
        columns=[
            "order_id",
            "customer_id",
            "ordered_at",
            "quantity",
            "unit_price",
            "discount_amount",
            "line_type",
        ],
    )
    lines["net"] = lines["quantity"].astype(float) * lines["unit_price"].astype(float) - lines[
        "discount_amount"
    ].astype(float).fillna(0)
    sales = lines["line_type"] == "sale"
    lines["sale_date"] = pd.to_datetime(lines["ordered_at"]).dt.normalize().where(sales)
    orders = lines.groupby("order_id").agg(
        customer_id=("customer_id", "first"), order_date=("sale_date", "min"), net=("net", "sum")
    )
    orders = orders[orders["order_date"].notna()]
    customers = orders.groupby("customer_id").agg(
        last_order=("order_date", "max"), frequency=("order_date", "size"), monetary=("net", "sum")
    )
    customers["recency_days"] = (pd.Timestamp(as_of) - customers["last_order"]).dt.days
    n = len(customers)
    for score, column, ascending in (
        ("r_score", "recency_days", False),
        ("f_score", "frequency", True),
        ("m_score", "monetary", True),
    ):
        rank = customers[column].rank(method="min", ascending=ascending)
        customers[score] = (1 + np.floor(5 * (rank - 1) / n)).astype(int)
    return customers.reset_index()


def rfm_lifetimes(path: Path, as_of: str) -> pd.DataFrame:
    from lifetimes.utils import summary_data_from_transaction_data

    lines = pd.read_parquet(
        path, columns=["customer_id", "ordered_at", "quantity", "unit_price", "discount_amount"]
    )
    lines["amount"] = lines["quantity"].astype(float) * lines["unit_price"].astype(float) - lines[
        "discount_amount"
    ].astype(float).fillna(0)
    lines["date"] = pd.to_datetime(lines["ordered_at"])
    return summary_data_from_transaction_data(
        lines,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=as_of,
        freq="D",
    )


def raw_floor(path: Path) -> float:
    with duckdb.connect() as con:
        return con.execute(f"select sum(unit_price) from read_parquet('{path}')").fetchone()[0]


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def rfm_comparison(raw: Path, with_lifetimes: bool) -> dict:
    path = raw / "transactions.parquet"
    with duckdb.connect() as con:
        as_of = str(
            con.execute(
                f"select cast(max(ordered_at) as date) + 1 from read_parquet('{path}')"
            ).fetchone()[0]
        )
    seconds: dict[str, float] = {}
    seconds["raw_floor_duckdb_scan"], _ = timed(raw_floor, path)
    seconds["project_duckdb_sql"], ours = timed(rfm_duckdb, path, as_of)
    seconds["pandas"], theirs = timed(rfm_pandas, path, as_of)
    merged = ours.merge(theirs, on="customer_id", suffixes=("", "_pandas"))
    agree = bool(
        (merged["frequency"] == merged["frequency_pandas"]).all()
        and (merged["recency_days"] == merged["recency_days_pandas"]).all()
    )
    if with_lifetimes:
        seconds["lifetimes_summary"], _ = timed(rfm_lifetimes, path, as_of)
    base = seconds["project_duckdb_sql"]
    return {
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "ratio_to_project": {k: round(v / base, 2) for k, v in seconds.items()},
        "pandas_agrees": agree,
        "customers": len(ours),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=os.environ.get("BENCH_SCALES", "10000,100000"))
    parser.add_argument("--skip-lifetimes-above", type=int, default=2_000_000)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for scale in (int(s) for s in args.scales.split(",")):
        work = PROJECT / "bench" / "work" / f"c{scale}"
        work.mkdir(parents=True, exist_ok=True)
        result = {
            "scale_customers": scale,
            "started": stamp,
            **pipeline(scale, work, args.skip_lifetimes_above),
        }
        total = sum(stage["seconds"] for stage in result["stages"].values())
        result["total_seconds"] = round(total, 1)
        result["max_peak_rss_mb"] = max(s["peak_rss_mb"] for s in result["stages"].values())
        (RESULTS / f"{stamp}-c{scale}.json").write_text(json.dumps(result, indent=2))
        print_result(result)


def print_result(result: dict) -> None:
    print(
        f"\n== {result['scale_customers']:,} customers, {result['order_lines']:,} order lines"
        f" — total {result['total_seconds']} s, peak {result['max_peak_rss_mb']} MB"
    )
    print(f"{'stage':<16}{'seconds':>10}{'peak MB':>10}")
    for name, stage in result["stages"].items():
        print(f"{name:<16}{stage['seconds']:>10.2f}{stage['peak_rss_mb']:>10.1f}")
    rfm = result["rfm"]
    print(f"RFM step ({rfm['customers']:,} customers; pandas agrees: {rfm['pandas_agrees']})")
    for name, seconds in rfm["seconds"].items():
        print(f"  {name:<24}{seconds:>8.2f} s  x{rfm['ratio_to_project'][name]:.2f}")


if __name__ == "__main__":
    main()
