"""Real data: CDNOW master (1997-1998) and CDNOW shifted to end yesterday, through raw_data_dir.

Every figure is checked against an independent pandas recomputation from the
raw CSV written by tests.datasets, not against the warehouse's own SQL.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.datasets import read_raw_transactions

BUILDS = ["cdnow_build", "cdnow_shifted_build"]


@pytest.fixture(params=BUILDS)
def cdnow(request) -> Path:
    return request.getfixturevalue(request.param)


def _serving(workdir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(workdir / "marketing.duckdb"), read_only=True)


def _valid_lines(workdir: Path) -> pd.DataFrame:
    """Raw lines the build should keep: CDNOW's only defect is a zero dollar value."""
    lines = read_raw_transactions(workdir / "raw")
    return lines[lines["amount"] > 0]


def test_monthly_sales_has_every_month_with_the_raw_revenue(cdnow):
    lines = _valid_lines(cdnow)
    month = pd.to_datetime(lines["order_date"]).dt.to_period("M")
    expected = lines.groupby(month)["amount"].sum()
    months = pd.period_range(month.min(), month.max(), freq="M")
    assert len(months) >= 18  # 1997-01..1998-06; 19 calendar months once shifted by days

    con = _serving(cdnow)
    actual = con.execute(
        "select month_start, revenue, orders from marts.fct_monthly_sales order by month_start"
    ).df()
    assert [pd.Period(m, "M") for m in actual["month_start"]] == list(months)
    for period, revenue in zip(months, actual["revenue"], strict=True):
        assert Decimal(str(revenue)) == expected.get(period, Decimal(0)), period
    assert actual["orders"].sum() == len(lines)


def test_rfm_matches_an_independent_recomputation_for_every_customer(cdnow):
    lines = _valid_lines(cdnow)
    as_of = max(lines["order_date"]) + pd.Timedelta(days=1)
    per_customer = lines.groupby("customer_id").agg(
        last=("order_date", "max"), frequency=("order_id", "nunique"), monetary=("amount", "sum")
    )
    per_customer["recency_days"] = [(as_of - d).days for d in per_customer["last"]]

    con = _serving(cdnow)
    actual = (
        con.execute(
            "select customer_id, recency_days, frequency, monetary from marts.dim_customers"
        )
        .df()
        .set_index("customer_id")
    )
    raw_customers = pd.read_csv(cdnow / "raw" / "customers.csv", dtype=str)["customer_id"]
    assert sorted(actual.index) == sorted(raw_customers)
    buyers = actual.loc[per_customer.index]
    assert (buyers["recency_days"].to_numpy() == per_customer["recency_days"].to_numpy()).all()
    assert (buyers["frequency"].to_numpy() == per_customer["frequency"].to_numpy()).all()
    assert [Decimal(str(m)) for m in buyers["monetary"]] == list(per_customer["monetary"])
    # Customers whose only lines were worth 0 have no valid order: no recency, no spend.
    others = actual.drop(per_customer.index)
    assert others["recency_days"].isna().all()
    assert (others["frequency"] == 0).all() and (others["monetary"] == 0).all()


def test_zero_value_lines_are_quarantined_with_a_reason(cdnow):
    lines = read_raw_transactions(cdnow / "raw")
    zero = int((lines["amount"] == 0).sum())
    assert zero == 80
    con = duckdb.connect(str(cdnow / "build.duckdb"), read_only=True)
    reasons = con.execute(
        "select quarantine_reason from staging.stg_shop__quarantined_rows"
        " where source_table = 'transactions'"
    ).fetchall()
    assert len(reasons) == zero
    assert all("price" in reason for (reason,) in reasons)


def test_every_clv_model_converges_on_cdnow_and_the_best_holdout_wins(cdnow):
    con = duckdb.connect(str(cdnow / "build.duckdb"), read_only=True)
    comparison = con.execute(
        "select model, is_converged, holdout_mae, holdout_bias, is_chosen, calibration_customers "
        "from marts.clv_model_comparison order by holdout_mae"
    ).df()
    assert len(comparison) == 3 and comparison["is_converged"].all()
    assert comparison["is_chosen"].tolist() == [True, False, False]
    # The calibration base: every customer with a valid order before the 180-day holdout.
    lines = _valid_lines(cdnow)
    as_of = max(lines["order_date"]) + pd.Timedelta(days=1)
    end = pd.Timestamp(as_of) - pd.Timedelta(days=181)
    first = lines.groupby("customer_id")["order_date"].min()
    assert (comparison["calibration_customers"] == int((pd.to_datetime(first) <= end).sum())).all()
    assert (comparison["holdout_mae"] > 0).all()
