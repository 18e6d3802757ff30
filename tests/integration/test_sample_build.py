"""`marketing-engine build` on the embedded sample: marts are right and look like a business."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine.publish import keyed_hash
from tests.conftest import run_cli

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE = PROJECT / "seeds" / "sample"
NAMED_SEGMENTS = {
    "Champions",
    "Loyal",
    "Potential Loyalists",
    "New",
    "Promising",
    "Need Attention",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
}


def _read_sample(table: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / f"raw_{table}.csv", dtype=str, keep_default_na=False)


def _expected_rfm(read_table=_read_sample) -> pd.DataFrame:
    """R, F and M per customer from the raw tables, written without the project's SQL.

    By default the sample CSVs; `read_table` may read any all-text raw tables (the Parquet
    files of a raw_data_dir on Spark)."""
    lines = read_table("transactions")
    customers = read_table("customers")
    products = read_table("products")

    lines["at"] = pd.to_datetime(lines["ordered_at"], format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    lines["qty"] = pd.to_numeric(lines["quantity"], errors="coerce")
    lines["price"] = pd.to_numeric(lines["unit_price"], errors="coerce")
    lines["discount"] = pd.to_numeric(lines["discount_amount"], errors="coerce").fillna(0)
    usable = (
        lines["at"].notna()
        & (lines["at"] < pd.Timestamp.today().normalize() + pd.Timedelta(days=1))
        & (lines["price"] > 0)
        & (lines["qty"] != 0)
        & ~((lines["qty"] < 0) & (lines["line_type"] == "sale"))
        & lines["customer_id"].isin(customers["customer_id"])
        & lines["product_id"].isin(products["product_id"])
        & ~lines.duplicated("line_id", keep="first")
    )
    lines = lines[usable].copy()
    lines["net"] = lines["qty"] * lines["price"] - lines["discount"]

    sales = lines[lines["line_type"] == "sale"]
    order_dates = sales.groupby("order_id")["at"].min().dt.normalize()
    order_customer = sales.groupby("order_id")["customer_id"].first()
    order_net = lines[lines["order_id"].isin(order_dates.index)].groupby("order_id")["net"].sum()
    orders = pd.DataFrame({"customer_id": order_customer, "date": order_dates, "net": order_net})
    as_of = lines["at"].max().normalize() + pd.Timedelta(days=1)
    per_customer = orders.groupby("customer_id").agg(
        last=("date", "max"), frequency=("date", "size"), monetary=("net", "sum")
    )
    per_customer["recency_days"] = (as_of - per_customer["last"]).dt.days
    return per_customer


def assert_dim_customers_match(con, expected: pd.DataFrame) -> None:
    """dim_customers' R, F and M equal `expected` (from _expected_rfm) for every buyer."""
    actual = (
        con.execute(
            "select customer_id, recency_days, frequency, cast(monetary as double) as monetary "
            "from marts.dim_customers where frequency > 0"
        )
        .df()
        .set_index("customer_id")
    )
    assert set(actual.index) == set(expected.index)
    joined = actual.join(expected.add_suffix("_expected"))
    assert (joined["recency_days"] == joined["recency_days_expected"]).all()
    assert (joined["frequency"] == joined["frequency_expected"]).all()
    assert (joined["monetary"] - joined["monetary_expected"]).abs().max() < 0.01


def test_rfm_matches_an_independent_recomputation_for_every_customer(warehouse):
    assert_dim_customers_match(warehouse, _expected_rfm())


def test_every_named_segment_has_customers_and_shares_sum_to_one(warehouse):
    rows = warehouse.execute(
        "select segmentation, segment_name, customers, customer_share, revenue_share "
        "from marts.fct_segment_kpis"
    ).df()
    rfm = rows[rows["segmentation"] == "rfm_segment"]
    populated = set(rfm.loc[rfm["customers"] > 0, "segment_name"])
    assert populated >= NAMED_SEGMENTS
    for _, group in rows.groupby("segmentation"):
        assert group["customer_share"].sum() == pytest.approx(1.0)
        assert group["revenue_share"].sum() == pytest.approx(1.0)


def test_champions_outspend_the_lost(warehouse):
    clv = dict(
        warehouse.execute(
            "select segment_name, historical_clv from marts.fct_segment_kpis "
            "where segmentation = 'rfm_segment'"
        ).fetchall()
    )
    assert clv["Champions"] > 5 * clv["Lost"]


def test_dirty_sample_rows_are_quarantined_with_reasons(warehouse):
    reasons = {
        reason
        for (reason,) in warehouse.execute(
            "select quarantine_reason from staging.stg_shop__quarantined_rows"
        ).fetchall()
    }
    assert any("duplicate" in r for r in reasons)
    assert any(r.startswith("unparseable unit_price") for r in reasons)
    assert any(r.startswith("unparseable ordered_at") for r in reasons)
    assert "unknown customer_id" in reasons
    assert "future ordered_at" in reasons
    assert "non-positive unit_price" in reasons


def test_every_raw_row_is_either_staged_or_quarantined(warehouse):
    raw = len(pd.read_csv(SAMPLE / "raw_transactions.csv", dtype=str))
    staged, quarantined = warehouse.execute(
        "select (select count(*) from staging.stg_shop__order_lines), "
        "(select count(*) from staging.stg_shop__quarantined_rows "
        " where source_table = 'transactions')"
    ).fetchone()
    assert staged + quarantined == raw


def test_todays_snapshot_in_segment_history_equals_dim_customers(warehouse):
    mismatches = warehouse.execute(
        "select count(*) from marts.fct_segment_history as history "
        "inner join marts.dim_customers as customers using (customer_id) "
        "where history.snapshot_index = 0 and history.rfm_segment <> customers.rfm_segment"
    ).fetchone()[0]
    assert mismatches == 0


def test_serving_file_holds_marts_with_pii_hashed(sample_build, warehouse):
    serving = duckdb.connect(str(sample_build / "marketing.duckdb"), read_only=True)
    schemas = {
        row[0]
        for row in serving.execute(
            "select distinct table_schema from information_schema.tables"
        ).fetchall()
    }
    assert schemas == {"marts"}
    raw_email = warehouse.execute(
        "select email from marts.dim_customers order by customer_id limit 1"
    ).fetchone()[0]
    served = serving.execute(
        "select email, first_name from marts.dim_customers order by customer_id limit 1"
    ).fetchone()
    assert "@" in raw_email
    assert served[0] == keyed_hash(raw_email, "test-key")  # joinable from outside
    assert served[1] is None
    # Parquet is written only on request (publish --parquet, see test_publish).
    assert not (sample_build / "marketing_parquet").exists()


def test_clusters_are_filled_and_sensible(warehouse):
    evaluation = (
        warehouse.execute(
            "select algorithm, n_clusters, silhouette from marts.cluster_evaluation "
            "where is_chosen and algorithm <> 'kmeans_sweep'"
        )
        .df()
        .set_index("algorithm")
    )
    assert evaluation.loc["kmeans", "n_clusters"] >= 3
    assert evaluation.loc["kmeans", "silhouette"] > 0.15
    unclustered = warehouse.execute(
        "select count(*) from marts.customer_360 where frequency > 0 and cluster_id is null"
    ).fetchone()[0]
    assert unclustered == 0
    insights = warehouse.execute(
        "select insights from marts.cluster_profiles where is_primary"
    ).fetchall()
    assert insights and all(3 <= len(text.split("\n")) <= 5 for (text,) in insights)


def test_rebuilding_gives_identical_cluster_labels(sample_build, warehouse, tmp_path):
    query = (
        "select customer_id, algorithm, cluster_id, cluster_name from marts.cluster_assignments "
        "order by all"
    )
    before = warehouse.execute(query).fetchall()
    # Rebuild a copy, so the session's read-only connection keeps its file.
    shutil.copy(sample_build / "build.duckdb", tmp_path / "build.duckdb")
    result = run_cli(tmp_path, "build", "--select", "cluster_assignments", "--no-publish")
    assert result.returncode == 0, result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        after = con.execute(query).fetchall()
    assert after == before


def test_clv_predictions_track_the_holdout_and_reach_customer_360(warehouse):
    overall = warehouse.execute(
        "select mean_predicted, mean_actual, correlation from marts.clv_holdout_validation "
        "where calibration_purchases = 'all'"
    ).fetchone()
    assert overall[0] == pytest.approx(overall[1], rel=0.2)
    assert overall[2] > 0.5
    converged = warehouse.execute(
        "select bool_and(is_converged) from marts.clv_model_parameters"
    ).fetchone()[0]
    assert converged
    missing = warehouse.execute(
        "select count(*) from marts.customer_360 where frequency > 0 and p_alive is null"
    ).fetchone()[0]
    assert missing == 0
    # Customers flagged at churn risk by the rule are less likely alive by the model.
    at_risk, safe = warehouse.execute(
        "select avg(p_alive) filter (where is_churn_risk), "
        "avg(p_alive) filter (where not is_churn_risk) "
        "from marts.customer_360 where frequency > 1"
    ).fetchone()
    assert at_risk < safe


def test_forecast_tables_are_filled_and_honest(warehouse):
    forecast = warehouse.execute(
        "select count(*), bool_and(lower_95 <= forecast and forecast <= upper_95) "
        "from marts.sales_forecast where segment = 'All customers'"
    ).fetchone()
    assert forecast == (3, True)
    models = {
        row[0]
        for row in warehouse.execute(
            "select distinct model from marts.forecast_backtest"
        ).fetchall()
    }
    assert models == {"regression", "naive", "seasonal_naive"}
    best_per_horizon = warehouse.execute(
        "select count(*) from marts.forecast_backtest where is_best group by horizon_months"
    ).fetchall()
    assert all(count == 1 for (count,) in best_per_horizon)


def test_the_clv_model_with_the_lowest_holdout_mae_scores_the_customers(warehouse):
    comparison = warehouse.execute(
        "select model, is_converged, holdout_mae, is_chosen from marts.clv_model_comparison"
    ).df()
    assert set(comparison["model"]) == {"bg_nbd", "mbg_nbd", "pareto_nbd"}
    assert comparison["is_converged"].all() and comparison["is_chosen"].sum() == 1
    chosen = comparison.loc[comparison["holdout_mae"].idxmin(), "model"]
    assert comparison.loc[comparison["is_chosen"], "model"].item() == chosen
    used = warehouse.execute("select distinct model from marts.customer_lifetime_value").df()
    assert list(used["model"]) == [f"{chosen}_gamma_gamma"]
    parameters = warehouse.execute("select model from marts.clv_model_parameters").df()
    assert set(parameters["model"]) == {chosen, "gamma_gamma"}
    # Actual holdout purchases, recomputed from fct_orders: distinct order days after
    # calibration_end and before as_of_date, for customers who bought by calibration_end.
    mismatches = warehouse.execute(
        """
        with period as (
            select max(calibration_end) as calibration_end, max(as_of_date) as as_of_date
            from marts.clv_model_comparison
        ),
        actual as (
            select orders.customer_id,
                   count(distinct case when orders.order_date > period.calibration_end
                                       and orders.order_date < period.as_of_date
                                       then orders.order_date end) as purchases,
                   min(orders.order_date) as first_order
            from marts.fct_orders as orders cross join period
            group by orders.customer_id
        )
        select count(*) from actual
        cross join period
        full join marts.clv_holdout_predictions as predictions
            on actual.customer_id = predictions.customer_id
        where (actual.first_order <= period.calibration_end
               or predictions.customer_id is not null)
          and (predictions.holdout_purchases is distinct from actual.purchases)
        """
    ).fetchone()[0]
    assert mismatches == 0


def test_sample_ratio_checks_match_an_independent_chi_square(warehouse):
    from scipy import stats

    tests = warehouse.execute(
        """select campaign_id, segment_name, offer_id,
                  count(*) filter (where is_holdout) as holdout,
                  count(*) filter (where not is_holdout) as treated
           from marts.campaign_outcomes group by all
           having count(*) filter (where not is_holdout) > 0"""
    ).df()
    assert len(tests)
    shown = warehouse.execute(
        "select distinct campaign_id, segment_name, offer_id, srm_p_value "
        "from marts.campaign_results"
    ).df()
    merged = tests.merge(shown, on=["campaign_id", "segment_name", "offer_id"])
    assert len(merged) == len(tests) == len(shown)
    total = merged["holdout"] + merged["treated"]
    expected = stats.chisquare(
        [merged["holdout"], merged["treated"]], [0.1 * total, 0.9 * total], axis=0
    ).pvalue
    assert merged["srm_p_value"].to_numpy() == pytest.approx(expected, rel=1e-9)


def test_an_unchanged_rebuild_adds_no_backtest_history_row(sample_build, warehouse, tmp_path):
    before = warehouse.execute(
        "select as_of_date, model, holdout_mae from marts.clv_backtest_history"
    ).fetchall()
    assert len(before) == 1
    shutil.copy(sample_build / "build.duckdb", tmp_path / "build.duckdb")
    result = run_cli(tmp_path, "build", "--select", "+clv_backtest_history", "--no-publish")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        after = con.execute(
            "select as_of_date, model, holdout_mae from marts.clv_backtest_history"
        ).fetchall()
    assert after == before


def test_customer_360_is_dim_customers_with_its_cluster_and_predictions(warehouse, sample_build):
    """The wide mart adds columns and loses or changes nothing (checked against its parts)."""
    dim_columns = [
        row[0]
        for row in warehouse.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'dim_customers'"
        ).fetchall()
    ]
    assert "clv_12_months" not in dim_columns and "cluster_name" not in dim_columns
    listed = ", ".join(f'"{c}"' for c in dim_columns)
    for left, right in (("dim_customers", "customer_360"), ("customer_360", "dim_customers")):
        extra = warehouse.execute(
            f"select count(*) from (select {listed} from marts.{left} "
            f"except all select {listed} from marts.{right})"
        ).fetchone()[0]
        assert extra == 0, f"{left} rows not in {right}"
    mismatched = warehouse.execute(
        """select count(*) from marts.customer_360 as wide
           left join marts.customer_clusters as clusters using (customer_id)
           left join marts.customer_lifetime_value as clv using (customer_id)
           where wide.cluster_id is distinct from clusters.cluster_id
              or wide.cluster_name is distinct from clusters.cluster_name
              or wide.p_alive is distinct from clv.p_alive
              or wide.churn_probability is distinct from clv.churn_probability
              or wide.clv_12_months is distinct from clv.clv_12_months
              or wide.expected_order_value is distinct from clv.expected_order_value
              or wide.expected_purchases_90d is distinct from clv.expected_purchases_90d
              or wide.expected_next_purchase_date
                 is distinct from clv.expected_next_purchase_date"""
    ).fetchone()[0]
    assert mismatched == 0
    with duckdb.connect(str(sample_build / "marketing.duckdb"), read_only=True) as serving:
        emails = serving.execute(
            "select count(*) from marts.customer_360 join marts.dim_customers using (customer_id) "
            "where customer_360.email is distinct from dim_customers.email"
        ).fetchone()[0]
        raw = warehouse.execute(
            "select email from marts.customer_360 where email is not null limit 1"
        ).fetchone()[0]
        served = serving.execute(
            "select count(*) from marts.customer_360 where email = ?", [raw]
        ).fetchone()[0]
    assert emails == 0  # hashed with the same key as dim_customers
    assert served == 0  # no plain-text email in the serving file


def test_a_rebuild_that_chooses_another_model_replaces_that_dates_backtest(
    sample_build, warehouse, tmp_path
):
    # A previous build for the same as_of_date chose another model (e.g. before a data
    # fix): the rebuild must replace that date's backtest, not keep two rows for it.
    chosen = warehouse.execute("select model from marts.clv_backtest_history").fetchall()
    other = next(m for m in ("bg_nbd", "pareto_nbd") if (m,) not in chosen)
    shutil.copy(sample_build / "build.duckdb", tmp_path / "build.duckdb")
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute(
            "insert into marts.clv_backtest_history by name "
            f"select * replace ('{other}' as model) from marts.clv_backtest_history"
        )
    result = run_cli(tmp_path, "build", "--select", "clv_backtest_history", "--no-publish")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        after = con.execute("select as_of_date, model from marts.clv_backtest_history").fetchall()
    assert [model for _, model in after] == [model for (model,) in chosen]
