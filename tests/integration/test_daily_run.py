"""A daily run (`build --daily`) after appending one day gives the tables a full build gives.

History: generated raw files (with the generator's dirty rows) minus the last day, built in
full. Then the day is appended, with a line_id already loaded on an earlier day (a
duplicate across days) and a return booked today against an old order, and the same
working file is built with --daily. A separate full build of the same final files is the
reference: every table of the staging, intermediate and marts schemas must be equal row
for row, except the few that by design keep history across builds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine.generate import GeneratorConfig, generate
from tests.conftest import run_cli

LAST_DAY = "2026-10-31"
# Tables and columns that carry the previous build by design, so a second build differs
# from a first one whatever the daily run does (README "Clustering", "Predictions",
# "Messages with Ollama"): None means the whole table.
KEPT_ACROSS_BUILDS: dict[str, set[str] | None] = {
    "clv_backtest_history": None,  # one row per as_of_date built
    "rpt_clv_backtest_history": None,
    "rpt_clv_kpis": {"backtest_builds"},
    "marketing_message_log": None,  # every message decision, with when it was made
    "marketing_messages": None,  # copy reused from the cache of the previous build
    "cluster_assignments": None,  # cluster ids kept from the previous build's centroids
    "cluster_profiles": None,
}


def _split_last_day(full: Path, history: Path) -> pd.DataFrame:
    """Write `history` (all files of `full`, transactions without LAST_DAY); return the day."""
    shutil.copytree(full, history)
    lines = pd.read_csv(full / "transactions.csv", dtype=str, keep_default_na=False)
    on_day = lines["ordered_at"].str[:10] == LAST_DAY
    earlier = lines[~on_day]
    earlier.to_csv(history / "transactions.csv", index=False)
    old_sale = earlier[earlier["line_type"] == "sale"].iloc[10].copy()
    repeated = old_sale.copy()
    repeated["ordered_at"] = f"{LAST_DAY}T12:00:00"  # a line_id loaded on an earlier day
    returned = old_sale.copy()
    returned["line_id"] = old_sale["line_id"] + "-R"
    returned["line_type"] = "return"
    returned["quantity"] = "-1"
    returned["ordered_at"] = f"{LAST_DAY}T13:00:00"  # a return today on an old order
    day = pd.concat([lines[on_day], pd.DataFrame([repeated, returned])])
    pd.concat([earlier, day]).to_csv(full / "transactions.csv", index=False)
    return day


def _build(workdir: Path, raw: Path, *flags: str) -> str:
    result = run_cli(workdir, "build", "--raw-data-dir", str(raw), "--no-publish", *flags)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def daily_and_full(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame, str]:
    """(daily build file, full build file, the appended day, the daily run's output)."""
    root = tmp_path_factory.mktemp("daily_run")
    full_raw = root / "full_raw"
    generate(GeneratorConfig(customers=300, seed=5, dirty_rows=True), full_raw, "csv")
    daily_raw = root / "daily" / "raw"
    day = _split_last_day(full_raw, daily_raw)
    _build(root / "daily", daily_raw)
    shutil.copy2(full_raw / "transactions.csv", daily_raw / "transactions.csv")
    output = _build(root / "daily", daily_raw, "--daily")
    _build(root / "full", full_raw)
    return root / "daily" / "build.duckdb", root / "full" / "build.duckdb", day, output


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = 'daily' and table_schema in ('staging', 'intermediate', 'marts') "
        "order by 1, 2"
    ).fetchall()


def _compared_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The select list to compare: doubles to 9 significant digits (a fit's last bits vary
    with the order of a parallel sum), every column but those kept across builds."""
    skipped = KEPT_ACROSS_BUILDS.get(table) or set()
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'daily' and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    return ", ".join(
        f'printf(\'%.9g\', "{name}") as "{name}"' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
        for name, kind in columns
        if name not in skipped
    )


def test_daily_run_appended_without_a_full_build(daily_and_full):
    daily_db, _, day, output = daily_and_full
    assert "running a full build instead" not in output
    with duckdb.connect(str(daily_db), read_only=True) as con:
        loaded = con.execute(
            "select count(*) from staging.base_shop__order_lines where ordered_at >= ?",
            [LAST_DAY],
        ).fetchone()[0]
        # The day's rows plus the generator's dirty row dated in the future.
        future = con.execute(
            "select count(*) from staging.base_shop__order_lines where ordered_at > ?",
            [f"{LAST_DAY} 23:59:59"],
        ).fetchone()[0]
    assert loaded == len(day) + future


def test_daily_run_equals_a_full_build_table_by_table(daily_and_full):
    daily_db, full_db, _, _ = daily_and_full
    con = duckdb.connect()
    con.execute(f"attach '{daily_db}' as daily (read_only)")
    con.execute(f"attach '{full_db}' as full_build (read_only)")
    compared, differing = [], []
    for schema, table in _tables(con):
        if table in KEPT_ACROSS_BUILDS and KEPT_ACROSS_BUILDS[table] is None:
            continue
        columns = _compared_columns(con, schema, table)
        daily = f"select {columns} from daily.{schema}.{table}"
        full = f"select {columns} from full_build.{schema}.{table}"
        only_daily = con.execute(f"select count(*) from ({daily} except all {full})").fetchone()[0]
        only_full = con.execute(f"select count(*) from ({full} except all {daily})").fetchone()[0]
        compared.append(table)
        if only_daily or only_full:
            differing.append(
                f"{schema}.{table}: {only_daily} rows only daily, {only_full} only full"
            )
    assert {"base_shop__order_lines", "int_order_lines_aggregated_to_orders"} <= set(compared)
    assert {"fct_orders", "fct_order_lines", "dim_customers", "fct_segment_kpis"} <= set(compared)
    assert not differing, "\n".join(differing)


def test_daily_run_keeps_the_cross_day_rules(daily_and_full):
    daily_db, _, day, _ = daily_and_full
    repeated, returned = day.iloc[-2], day.iloc[-1]
    with duckdb.connect(str(daily_db), read_only=True) as con:
        reasons = con.execute(
            "select quarantine_reason from staging.base_shop__order_lines "
            "where line_id = ? order by ordered_at",
            [repeated["line_id"]],
        ).fetchall()
        has_return = con.execute(
            "select has_return from marts.fct_orders where order_id = ?",
            [returned["order_id"]],
        ).fetchone()[0]
    assert reasons == [(None,), ("duplicate line_id (repeated row)",)]
    assert has_return is True


def test_changed_history_falls_back_to_a_full_build(tmp_path):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(customers=40, seed=9, dirty_rows=False), raw, "csv")
    _build(tmp_path, raw)
    lines = pd.read_csv(raw / "transactions.csv", dtype=str, keep_default_na=False)
    late = lines.iloc[[0]].copy()
    late["line_id"] = "LATE-1"  # a late-arriving row, dated inside the loaded history
    pd.concat([lines, late]).to_csv(raw / "transactions.csv", index=False)
    output = _build(tmp_path, raw, "--daily")
    assert "Full build needed" in output and "running a full build instead" in output
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        kept = con.execute(
            "select count(*) from marts.fct_order_lines where line_id = 'LATE-1'"
        ).fetchone()[0]
    assert kept == 1
