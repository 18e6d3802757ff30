"""Models on the sample and on real data (CDNOW, CDNOW shifted): names agree with figures,
forecasts stay >= 0, unknown measures are null, every recommendation has its object."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from marketing_engine.forecast import MODEL_LABELS
from tests.cluster_names import contradictions

BUILDS = ["sample_build", "cdnow_build", "cdnow_shifted_build"]


@pytest.fixture(params=BUILDS)
def built(request) -> Path:
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["cdnow_build", "cdnow_shifted_build"])
def cdnow(request) -> Path:
    return request.getfixturevalue(request.param)


def _connect(workdir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(workdir / "marketing.duckdb"), read_only=True)


def test_cluster_names_agree_with_their_profiles(built):
    con = _connect(built)
    buyers = con.execute(
        "select recency_days, frequency, monetary from marts.dim_customers where frequency > 0"
    ).df()
    population = buyers.astype(float).median().to_dict()
    profiles = con.execute(
        "select cluster_name, median_recency_days, median_frequency, median_monetary,"
        " churn_risk_share from marts.cluster_profiles where cluster_id <> -1"
    ).df()
    assert len(profiles) >= 2
    problems = []
    for row in profiles.itertuples():
        median = {
            "recency_days": row.median_recency_days,
            "frequency": row.median_frequency,
            "monetary": row.median_monetary,
        }
        problems += contradictions(row.cluster_name, median, population, row.churn_risk_share)
    assert problems == []


def test_forecast_and_its_intervals_are_never_negative_and_the_backtest_runs(built):
    con = _connect(built)
    forecast = con.execute("select * from marts.sales_forecast").df()
    assert len(forecast[forecast["segment"] == "All customers"]) == 3
    bounds = forecast[["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]]
    assert (bounds.to_numpy() >= 0).all()
    assert (forecast["lower_95"] <= forecast["forecast"]).all()
    assert (forecast["forecast"] <= forecast["upper_95"]).all()
    backtest = con.execute("select * from marts.forecast_backtest").df()
    assert set(backtest["model"]) == {"regression", "naive", "seasonal_naive"}
    assert backtest.groupby("horizon_months")["is_best"].sum().eq(1).all()


def test_the_published_total_forecast_is_the_backtest_winner_and_stays_near_history(built):
    # recomputed from fct_monthly_sales, without the forecasting code
    con = _connect(built)
    total = con.execute(
        "select * from marts.sales_forecast where segment = 'All customers' order by month_start"
    ).df()
    revenue = (
        con.execute(
            "select cast(revenue as double) as revenue from marts.fct_monthly_sales "
            "where not is_partial_month order by month_start"
        )
        .df()["revenue"]
        .clip(lower=0)
    )
    model = total["model"].iloc[0]
    assert (total["model"] == model).all()
    assert (total["model_label"] == MODEL_LABELS[model]).all()
    chosen = con.execute("select distinct model from marts.forecast_backtest where is_chosen")
    assert [row[0] for row in chosen.fetchall()] == [model]
    assert total["note"].iloc[0].startswith(f"{MODEL_LABELS[model]} chosen")
    if model == "naive":
        assert total["forecast"].tolist() == pytest.approx([revenue.iloc[-1]] * len(total))
    elif model == "seasonal_naive":
        expected = revenue.iloc[-12 : -12 + len(total)].tolist()
        assert total["forecast"].tolist() == pytest.approx(expected)
    else:
        assert "not published" not in total["note"].iloc[0]
    for segment, rows in con.execute("select * from marts.sales_forecast").df().groupby("segment"):
        assert rows["model_label"].notna().all() and rows["note"].notna().all(), segment
    assert total["upper_95"].max() <= 3 * revenue.max() * (1 + 1e-9)


def test_without_coupons_or_demographics_those_measures_are_null(cdnow):
    con = _connect(cdnow)
    profiles = con.execute(
        "select coupon_burn_rate, female_share, share_with_kids from marts.cluster_profiles"
    ).df()
    assert profiles.isna().all().all(), profiles
    targets = con.execute("select coupon_burn_rate from marts.campaign_targets").df()
    assert targets["coupon_burn_rate"].isna().all()
    features = duckdb.connect(str(cdnow / "build.duckdb"), read_only=True)
    assert features.execute(
        "select count(*) from intermediate.int_customer_features where coupon_burn_rate is not null"
    ).fetchone() == (0,)


def test_every_recommendation_has_its_object(built):
    con = _connect(built)
    targets = con.execute(
        "select recommended_action, cross_sell_category from marts.campaign_targets"
    ).df()
    cross_sell = targets[targets["recommended_action"] == "cross-sell"]
    assert cross_sell["cross_sell_category"].notna().all()


def test_burn_rate_is_burnt_claims_over_claims_in_clusters_and_targets(sample_build):
    con = duckdb.connect(str(sample_build / "build.duckdb"), read_only=True)
    # Independent: burnt / claimed straight from the staged coupons of each group's buyers.
    burn = (
        " count(case when coupons.coupon_status = 'burnt' then 1 end) * 1.0"
        " / nullif(count(coupons.customer_id), 0)"
    )
    segments = con.execute(
        f"select targets.coupon_burn_rate, {burn} as expected"
        " from marts.campaign_targets as targets"
        " inner join marts.dim_customers as customers"
        "  on customers.rfm_segment = targets.rfm_segment and customers.frequency > 0"
        " left join staging.stg_shop__coupons as coupons"
        "  on coupons.customer_id = customers.customer_id"
        " group by targets.rfm_segment, targets.coupon_burn_rate"
    ).df()
    clusters = con.execute(
        f"select profiles.coupon_burn_rate, {burn} as expected"
        " from marts.cluster_profiles as profiles"
        " inner join marts.cluster_assignments as assigned"
        "  on assigned.algorithm = profiles.algorithm"
        "  and assigned.cluster_id = profiles.cluster_id"
        " left join staging.stg_shop__coupons as coupons"
        "  on coupons.customer_id = assigned.customer_id"
        " group by profiles.algorithm, profiles.cluster_id, profiles.coupon_burn_rate"
    ).df()
    for table in (segments, clusters):
        assert table["expected"].notna().any()
        assert (table["coupon_burn_rate"] - table["expected"]).abs().max() < 1e-9
        assert (table["coupon_burn_rate"].isna() == table["expected"].isna()).all()


def test_gross_margin_without_product_costs_is_null_not_revenue(cdnow):
    con = _connect(cdnow)
    for table, where in [
        ("fct_orders", ""),
        ("fct_monthly_sales", " where orders > 0"),
        ("dim_customers", " where frequency > 0"),
        ("fct_segment_kpis", " where orders > 0"),
    ]:
        known = con.execute(
            f"select count(gross_margin), count(*) from marts.{table}{where}"
        ).fetchone()
        assert known[0] == 0 and known[1] > 0, table


def test_gross_margin_is_revenue_minus_cost_where_costs_are_known(sample_build):
    con = duckdb.connect(str(sample_build / "build.duckdb"), read_only=True)
    # Independent: staged lines and products, not fct_order_lines.
    expected = con.execute(
        "select sum(lines.quantity * lines.unit_price - lines.discount_amount"
        " - lines.quantity * products.unit_cost), count(*) - count(products.unit_cost)"
        " from staging.stg_shop__order_lines as lines"
        " left join staging.stg_shop__products as products"
        "  on lines.product_id = products.product_id"
    ).fetchone()
    assert expected[1] == 0, "the sample should have a cost for every line"
    total = con.execute("select sum(gross_margin) from marts.fct_orders").fetchone()[0]
    assert (
        abs(float(total) - float(expected[0]))
        < 0.01 * con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    )
