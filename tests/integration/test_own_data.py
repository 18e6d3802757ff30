"""Users' own files through raw_data_dir: bad input is named or quarantined, never fatal to the
last good warehouse; optional tables may be absent."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine.generate import GeneratorConfig, generate
from tests.conftest import run_cli

OPTIONAL = ["products", "coupons", "cities", "merchants", "branches", "events", "offers"]


@pytest.fixture
def raw_dir(tmp_path) -> Path:
    out = tmp_path / "raw"
    generate(GeneratorConfig(customers=150, seed=3, dirty_rows=False), out, "csv")
    return out


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite(path: Path, edit) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(path, index=False)


def test_text_amount_and_mixed_dates_become_quarantine_rows(tmp_path, raw_dir):
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[0, "unit_price"] = "12,50"
        frame.loc[1, "ordered_at"] = "03/04/2025"
        frame.loc[2, "ordered_at"] = frame.loc[2, "ordered_at"][:10]  # date only: accepted

    _rewrite(raw_dir / "transactions.csv", edit)
    kept_line = pd.read_csv(raw_dir / "transactions.csv", dtype=str).loc[2, "line_id"]
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True)
    reasons = [
        r
        for (r,) in con.execute(
            "select quarantine_reason from staging.stg_shop__quarantined_rows"
        ).fetchall()
    ]
    assert any("unparseable unit_price '12,50'" in r for r in reasons)
    assert any("unparseable ordered_at '03/04/2025'" in r for r in reasons)
    assert (
        con.execute(
            "select count(*) from marts.fct_order_lines where line_id = ?", [kept_line]
        ).fetchone()[0]
        == 1
    )


def test_missing_required_column_fails_by_name_and_keeps_the_last_good_warehouse(tmp_path, raw_dir):
    good = run_cli(tmp_path, "build", "--raw-data-dir", str(raw_dir))
    assert good.returncode == 0, good.stderr[-3000:]
    serving = tmp_path / "marketing.duckdb"
    before = _digest(serving)
    customers_before = (
        duckdb.connect(str(serving), read_only=True)
        .execute("select count(*) from marts.dim_customers")
        .fetchone()[0]
    )

    _rewrite(raw_dir / "transactions.csv", lambda frame: frame.pop("unit_price"))
    bad = run_cli(tmp_path, "build", "--raw-data-dir", str(raw_dir))

    output = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "transactions.csv" in output and "unit_price" in output
    assert "Traceback" not in output
    assert _digest(serving) == before
    con = duckdb.connect(str(serving), read_only=True)
    assert con.execute("select count(*) from marts.dim_customers").fetchone()[0] == (
        customers_before
    )


def test_unreadable_required_file_is_named(tmp_path, raw_dir):
    (raw_dir / "customers.csv").write_bytes(b"\x00\x01\x02 not a csv \xff\xfe")
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw_dir))
    assert result.returncode != 0
    assert "customers" in result.stdout + result.stderr
    assert not (tmp_path / "marketing.duckdb").exists()


def _mart_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = 'marts' order by table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append((column, data_type))
    return columns


def test_optional_tables_may_be_absent(tmp_path, raw_dir, sample_build):
    for table in OPTIONAL:
        (raw_dir / f"{table}.csv").unlink()
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw_dir))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "marketing.duckdb"), read_only=True)
    # Every public mart of a full build exists, with the same typed columns.
    full = duckdb.connect(str(sample_build / "marketing.duckdb"), read_only=True)
    expected, actual = _mart_columns(full), _mart_columns(con)
    assert sorted(actual) == sorted(expected)
    for table, columns in expected.items():
        assert actual[table] == columns, table
        untyped = [name for name, data_type in actual[table] if data_type == '"NULL"']
        assert untyped == [], f"{table}: columns without a type {untyped}"
    assert con.execute("select count(*) from marts.fct_coupon_activity").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.dim_customers").fetchone()[0] == 150
    assert (
        con.execute(
            "select count(*) from marts.fct_order_lines where category <> 'Uncategorized'"
        ).fetchone()[0]
        == 0
    )


def test_parquet_files_build_like_csv(tmp_path):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(customers=150, seed=3, dirty_rows=False), raw, "parquet")
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True)
    assert con.execute("select count(*) from staging.stg_shop__quarantined_rows").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.dim_customers").fetchone()[0] == 150


def test_real_campaign_data_replaces_the_simulation(tmp_path, raw_dir):
    customers = pd.read_csv(raw_dir / "customers.csv", dtype=str)["customer_id"].head(40)
    sends = pd.DataFrame(
        {
            "send_id": [f"S{i}" for i in range(40)],
            "campaign_id": "DIWALI-SMS",
            "customer_id": customers,
            "offer_id": "OFR01",
            "segment_name": "Loyal",
            "variant": ["A", "B"] * 20,
            "is_holdout": ["true" if i % 5 == 0 else "false" for i in range(40)],
            "sent_at": "2026-11-05 10:00:00",
        }
    )
    sends.to_csv(raw_dir / "campaign_sends.csv", index=False)
    responses = pd.DataFrame(
        {
            "send_id": [f"S{i}" for i in range(40) if i % 5],
            "is_delivered": "true",
            "is_opened": "true",
            "is_clicked": "false",
            "is_converted": ["true" if i % 3 == 0 else "false" for i in range(40) if i % 5],
            "revenue": ["1500.00" if i % 3 == 0 else "0" for i in range(40) if i % 5],
            "responded_at": "2026-11-06 12:00:00",
        }
    )
    responses.to_csv(raw_dir / "campaign_responses.csv", index=False)
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw_dir))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "marketing.duckdb"), read_only=True)
    rows = con.execute(
        "select variant, source, sends, holdout_customers, conversions "
        "from marts.campaign_results order by variant"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("A", "observed"), ("B", "observed")]
    assert sum(r[2] for r in rows) == 32 and rows[0][3] == 8
    assert (
        con.execute(
            "select count(*) from marts.campaign_outcomes where source = 'simulation'"
        ).fetchone()[0]
        == 0
    )


def test_orders_from_1990_to_yesterday_build_every_month(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    yesterday = date.today() - timedelta(days=1)
    months = pd.date_range("1990-01-01", yesterday, freq="MS")
    days = [month + pd.Timedelta(days=14) for month in months[:-1]] + [pd.Timestamp(yesterday)]
    pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(40)]}).to_csv(
        raw / "customers.csv", index=False
    )
    pd.DataFrame(
        {
            "order_id": [f"O{i:05d}" for i in range(len(days))],
            "customer_id": [f"C{i % 40:03d}" for i in range(len(days))],
            "ordered_at": [day.date().isoformat() for day in days],
            "quantity": 1,
            "unit_price": [f"{10 + i % 7}.50" for i in range(len(days))],
        }
    ).to_csv(raw / "transactions.csv", index=False)
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "marketing.duckdb"), read_only=True)
    monthly = con.execute(
        "select month_start, orders from marts.fct_monthly_sales order by month_start"
    ).df()
    assert [pd.Timestamp(m) for m in monthly["month_start"]] == list(months)
    assert (monthly["orders"] == 1).all()
    assert (
        con.execute(
            "select count(*) from marts.sales_forecast where segment = 'All customers'"
        ).fetchone()[0]
        == 3
    )
    assert con.execute("select count(*) from marts.fct_segment_history").fetchone()[0] > 0
