"""Check every figure a rendered report shows against an independent query.

`check_report_figures(site_dir, db_path)` reads site/figures.json (written by
`marketing-engine report`) and recomputes each figure from the core dims and
facts (dim_customers, fct_orders, fct_order_lines), the staging tables or the
model outputs (forecast, clusters, campaigns, messages), never from the
reporting mart the page read nor with the page's SQL. It returns a list of
problems: an empty list means every figure is right. It works on any build
(the sample, CDNOW, a user's files): db_path is the build file, which holds
every layer.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import yaml

from marketing_engine.reports import FORMATS, FormatConfig, formats

PROJECT = Path(__file__).resolve().parents[2]


def project_var(name: str) -> object:
    """A var's value in dbt_project.yml (the builds under test use the defaults)."""
    return yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"][name]


BUYER_ORDERS = """
    select customer_id, count(*) as orders, sum(net_revenue) as revenue
    from marts.fct_orders group by customer_id
"""
SEGMENT_REVENUE = f"""
    select customers.rfm_segment,
           count(*) as customers,
           sum(coalesce(buyers.revenue, 0)) as revenue,
           sum(coalesce(buyers.orders, 0)) as orders
    from marts.dim_customers as customers
    left join ({BUYER_ORDERS}) as buyers on customers.customer_id = buyers.customer_id
    group by customers.rfm_segment
"""
TOP_REVENUE_SEGMENT = f"""
    select rfm_segment, customers, revenue, orders,
           customers * 1.0 / (select count(*) from marts.dim_customers) as customer_share,
           revenue / (select sum(net_revenue) from marts.fct_orders) as revenue_share
    from ({SEGMENT_REVENUE}) where revenue > 0
    order by revenue desc limit 1
"""
TOP_AOV_SEGMENT = f"""
    select rfm_segment, revenue / orders as aov
    from ({SEGMENT_REVENUE}) where orders > 0 order by aov desc limit 1
"""
SNAPSHOTS = """
    select snapshot_date,
           count(*) filter (where rfm_segment = 'Champions') as champions,
           count(*) filter (where rfm_segment in ('At Risk', 'Can''t Lose Them')) as at_risk
    from marts.fct_segment_history group by snapshot_date
"""
HIGH_VALUE_AT_RISK = """
    select customer_id from marts.dim_customers where is_churn_risk and m_score >= 4
"""
FORECAST_NEXT = """
    select * from marts.sales_forecast where segment = 'All customers'
    order by month_start limit 1
"""
CATEGORY_REVENUE = """
    select coalesce(category, 'Uncategorized') as category, sum(net_amount) as revenue
    from marts.fct_order_lines group by 1
"""
TOP_CATEGORY = f"""
    select category, revenue / (select sum(revenue) from ({CATEGORY_REVENUE})) as share
    from ({CATEGORY_REVENUE}) order by revenue desc limit 1
"""
TOP_CHANNEL = """
    select coalesce(channel, 'unknown') as channel, count(*) as orders
    from marts.fct_orders group by 1 order by orders desc limit 1
"""
CAVEAT = """
    select note, horizon_months from marts.forecast_backtest
    where note is not null order by horizon_months, mae limit 1
"""
BURNT = "select * from staging.stg_shop__coupons where coupon_status = 'burnt'"
TOP_CITY = f"""
    select customers.city_name, count(*) as burns
    from ({BURNT}) as burnt
    inner join marts.dim_customers as customers on burnt.customer_id = customers.customer_id
    group by customers.city_name order by burns desc limit 1
"""
TOP_MERCHANT = f"""
    select merchants.merchant_name, count(*) as burns
    from ({BURNT}) as burnt
    inner join staging.stg_shop__branches as branches on burnt.branch_id = branches.branch_id
    inner join staging.stg_shop__merchants as merchants
        on branches.merchant_id = merchants.merchant_id
    group by merchants.merchant_name order by burns desc limit 1
"""


def _largest(column: str) -> str:
    return f"""
        select coalesce(cast({column} as varchar), 'Unknown') as value,
               count(*) * 1.0 / (select count(*) from marts.dim_customers) as share
        from marts.dim_customers group by 1 order by count(*) desc limit 1
    """


BEST_CAMPAIGN = """
    select * from marts.campaign_results where incremental_revenue is not null
    order by incremental_revenue desc limit 1
"""


def _best_campaign_name(con: duckdb.DuckDBPyConnection) -> object:
    best = _rows(con, BEST_CAMPAIGN)
    if not best:
        return None
    events = dict(
        con.execute("select event_id, event_name from staging.stg_shop__events").fetchall()
    )
    offers = dict(
        con.execute("select offer_id, offer_name from staging.stg_shop__offers").fetchall()
    )
    return _campaign_name(best[0]["campaign_id"], best[0]["offer_id"], events, offers)


# A -> B and B -> A share a lift: ties go to the alphabetically first rule.
TOP_RULE = """
    select * from marts.fct_product_affinity
    order by lift desc, antecedent_category, consequent_category limit 1
"""
BEST_FIT = """
    select * from marts.cluster_evaluation
    where is_chosen and algorithm <> 'kmeans_sweep'
    order by silhouette desc nulls last, algorithm limit 1
"""


def _one(sql: str, column: int = 0) -> Callable[[duckdb.DuckDBPyConnection], object]:
    def query(con: duckdb.DuckDBPyConnection) -> object:
        row = con.execute(sql).fetchone()
        return None if row is None else row[column]

    return query


def _named(sql: str, column: str) -> Callable[[duckdb.DuckDBPyConnection], object]:
    def query(con: duckdb.DuckDBPyConnection) -> object:
        result = con.execute(sql)
        row = result.fetchone()
        names = [d[0] for d in result.description]
        return None if row is None else row[names.index(column)]

    return query


# CLV holdout, recomputed from fct_orders: calibration customers are those with an
# order on or before calibration_end; their holdout purchases are distinct order days
# after it and before as_of_date. Only the predictions come from the model.
CLV_PERIOD = "select max(calibration_end) as calibration_end, max(as_of_date) as as_of_date "
CLV_PERIOD += "from marts.clv_model_comparison"
CLV_HOLDOUT = f"""
    with period as ({CLV_PERIOD}),
    calibration as (
        select customer_id from marts.fct_orders, period
        where order_date <= period.calibration_end group by customer_id
    ),
    holdout as (
        select customer_id, count(distinct order_date) as purchases
        from marts.fct_orders, period
        where order_date > period.calibration_end and order_date < period.as_of_date
        group by customer_id
    )
    select calibration.customer_id, coalesce(holdout.purchases, 0) as actual
    from calibration left join holdout on calibration.customer_id = holdout.customer_id
"""
CLV_ERRORS = f"""
    select avg(abs(predictions.predicted_purchases - holdout.actual)) as mae,
           avg(predictions.predicted_purchases) as mean_predicted,
           avg(holdout.actual) as mean_actual,
           count(*) as customers
    from ({CLV_HOLDOUT}) as holdout
    inner join marts.clv_holdout_predictions as predictions
        on holdout.customer_id = predictions.customer_id
"""


def _clv_sample_note(customers_sql: str, what: str, others: str) -> Callable:
    """The note a CLV fit on a seeded sample must carry, from independent counts: the
    sample is min(customers, the sample size the build used), None when it is everyone."""

    def check(con: duckdb.DuckDBPyConnection) -> object:
        customers = con.execute(customers_sql).fetchone()[0]
        size = con.execute("select max(fit_sample_size) from marts.clv_model_parameters")
        fitted = min(customers, size.fetchone()[0])
        if fitted >= customers:
            return None
        return (
            f"fitted on a seeded sample of {fitted:,} of {customers:,} {what} "
            f"(clv fit_sample_size); the other {customers - fitted:,} {others}"
        )

    return check


CLV_BY_MAE = """
    select model_label, holdout_mae from marts.clv_model_comparison
    where is_converged and holdout_mae is not null order by holdout_mae, model
"""
SRM_ALPHA = 0.001  # campaigns.srm_alpha default
ALPHA = 0.05  # campaigns.alpha default
TEST_KEYS = "campaign_id, segment_name, offer_id"


def _clv_ranked(position: int, column: str) -> Callable[[duckdb.DuckDBPyConnection], object]:
    def query(con: duckdb.DuckDBPyConnection) -> object:
        rows = con.execute(CLV_BY_MAE).fetchall()
        return rows[position][column] if len(rows) > position else None

    return query


def _srm_tests(con: duckdb.DuckDBPyConnection) -> int:
    """Tests whose holdout / treated split fails a chi-square test against the 10% share."""
    share = 0.10  # campaigns.holdout_share default
    rows = con.execute(
        f"""select count(*) filter (where is_holdout), count(*) filter (where not is_holdout)
            from marts.campaign_outcomes group by {TEST_KEYS}
            having count(*) filter (where not is_holdout) > 0"""
    ).fetchall()
    flagged = 0
    for holdout, treated in rows:
        total = holdout + treated
        expected = (share * total, (1 - share) * total)
        statistic = sum((o - e) ** 2 / e for o, e in zip((holdout, treated), expected, strict=True))
        flagged += math.erfc(math.sqrt(statistic / 2)) < SRM_ALPHA
    return flagged


def _holm_count(p_values: list[float]) -> int:
    """How many p-values a Holm step-down at ALPHA rejects (written out, not imported)."""
    ordered = sorted(p for p in p_values if p is not None and not math.isnan(p))
    rejected = 0
    for rank, p in enumerate(ordered):
        if p * (len(ordered) - rank) >= ALPHA:
            break
        rejected += 1
    return rejected


def _uplifts_after_holm(con: duckdb.DuckDBPyConnection) -> int:
    return _holm_count(
        [p for (p,) in con.execute("select cuped_p_value from marts.campaign_results").fetchall()]
    )


def _ab_winners_after_holm(con: duckdb.DuckDBPyConnection) -> int:
    """Holm over one A/B p-value per test; tests with a sample-ratio mismatch never win."""
    rows = con.execute(
        f"select max(ab_p_value), bool_or(has_srm) from marts.campaign_results group by {TEST_KEYS}"
    ).fetchall()
    ordered = sorted(
        ((p, srm) for p, srm in rows if p is not None and not math.isnan(p)), key=lambda r: r[0]
    )
    winners = 0
    for rank, (p, srm) in enumerate(ordered):
        if p * (len(ordered) - rank) >= ALPHA:
            break
        winners += not srm
    return winners


# (mart, column) -> independent query. A figure without an entry is a problem.
RAW_TABLE_MODELS = {
    "customers": "stg_shop__customers",
    "transactions": "stg_shop__order_lines",
    "products": "stg_shop__products",
    "coupons": "stg_shop__coupons",
    "cities": "stg_shop__cities",
    "merchants": "stg_shop__merchants",
    "branches": "stg_shop__branches",
    "events": "stg_shop__events",
    "offers": "stg_shop__offers",
    "campaign_sends": "stg_shop__campaign_sends",
    "campaign_responses": "stg_shop__campaign_responses",
}


def _data_quality_expected(con) -> dict:
    """Per raw table: kept rows (its staging model), quarantined rows and their most common
    reason with quoted values folded (ties: the smaller folded text), from staging alone."""
    import re
    from collections import Counter

    warn = float(project_var("quarantine_warn_share"))
    expected = {}
    for order, (table, model) in enumerate(RAW_TABLE_MODELS.items()):
        kept = con.execute(f"select count(*) from staging.{model}").fetchone()[0]
        reasons = [
            reason or "(no reason given)"
            for (reason,) in con.execute(
                "select quarantine_reason from staging.stg_shop__quarantined_rows "
                "where source_table = ?",
                [table],
            ).fetchall()
        ]
        # a chosen as_of_date leaves later rows out by design: not defects
        after = [r for r in reasons if " on or after as_of_date " in r]
        reasons = [r for r in reasons if " on or after as_of_date " not in r]
        folded = Counter(re.sub(r"'[^']*'", "'…'", reason) for reason in reasons)
        top = min(folded, key=lambda text: (-folded[text], text)) if folded else None
        read = kept + len(reasons)
        share = len(reasons) / read if read else None
        expected[table] = {
            "rows_read": read,
            "rows_kept": kept,
            "rows_quarantined": len(reasons),
            "quarantined_share": share,
            "top_reason": None
            if top is None
            else min(r for r in reasons if re.sub(r"'[^']*'", "'…'", r) == top),
            "top_reason_rows": None if top is None else folded[top],
            "is_above_warn_share": share is not None and share > warn,
            "rows_after_as_of_date": len(after),
            "order": order,
        }
    ranked = sorted(
        expected, key=lambda t: (-(expected[t]["quarantined_share"] or 0), expected[t]["order"])
    )
    for rank, table in enumerate(ranked, start=1):
        expected[table]["quarantine_rank"] = rank
    for row in expected.values():
        del row["order"]
    return expected


def _check_data_quality(con) -> list[str]:
    shown = {r["table_name"]: r for r in _rows(con, "select * from marts.rpt_data_quality")}
    return _compare("rpt_data_quality", shown, _data_quality_expected(con))


def _worst_data_quality(column: str) -> Callable[[duckdb.DuckDBPyConnection], object]:
    """The Overview's data-quality sentence: the table quarantined most, above the warn share."""

    def check(con):
        expected = _data_quality_expected(con)
        (table,) = [t for t, row in expected.items() if row["quarantine_rank"] == 1]
        return table if column == "table_name" else expected[table][column]

    return check


INDEPENDENT: dict[tuple[str, str], Callable[[duckdb.DuckDBPyConnection], object]] = {
    ("rpt_customer_kpis", "customers"): _one("select count(*) from marts.dim_customers"),
    ("rpt_customer_kpis", "buyers"): _one(
        "select count(distinct customer_id) from marts.fct_orders"
    ),
    ("rpt_customer_kpis", "orders"): _one("select count(*) from marts.fct_orders"),
    ("rpt_customer_kpis", "revenue"): _one("select sum(net_revenue) from marts.fct_orders"),
    ("rpt_customer_kpis", "aov"): _one("select sum(net_revenue) / count(*) from marts.fct_orders"),
    ("rpt_customer_kpis", "repeat_purchase_rate"): _one(
        f"select avg(case when orders >= 2 then 1.0 else 0 end) from ({BUYER_ORDERS})"
    ),
    ("rpt_customer_kpis", "buyer_churn_risk_share"): _one(
        f"""select avg(case when customers.is_churn_risk then 1.0 else 0 end)
            from ({BUYER_ORDERS}) as buyers
            inner join marts.dim_customers as customers
                on buyers.customer_id = customers.customer_id"""
    ),
    ("rpt_customer_kpis", "predicted_revenue_12m"): _one(
        "select sum(clv_12_months) from marts.customer_lifetime_value"
    ),
    ("rpt_customer_kpis", "top_quintile_revenue_share"): _one(
        """select sum(net_revenue) filter (where customer_id in
                (select customer_id from marts.dim_customers where m_score = 5))
              / sum(net_revenue) from marts.fct_orders"""
    ),
    ("rpt_customer_kpis", "high_value_at_risk_customers"): _one(
        f"select count(*) from ({HIGH_VALUE_AT_RISK})"
    ),
    ("rpt_customer_kpis", "high_value_at_risk_revenue"): _one(
        f"""select coalesce(sum(net_revenue), 0) from marts.fct_orders
            where customer_id in ({HIGH_VALUE_AT_RISK})"""
    ),
    # the reference date the build used (var as_of_date, else the day after the last order)
    ("rpt_customer_kpis", "as_of_date"): _one(
        "select as_of_date from intermediate.int_reference_date"
    ),
    ("rpt_customer_kpis", "scatter_points"): lambda con: min(
        int(project_var("report_scatter_max_points")),
        con.execute("select count(distinct customer_id) from marts.fct_orders").fetchone()[0],
    ),
    ("rpt_customer_kpis", "scatter_max_points"): lambda con: int(
        project_var("report_scatter_max_points")
    ),
    ("rpt_report_settings", "as_of_date"): _one(
        "select as_of_date from intermediate.int_reference_date"
    ),
    ("rpt_report_settings", "first_order_date"): _one(
        "select min(order_date) from marts.fct_order_lines"
    ),
    ("rpt_report_settings", "last_order_date"): _one(
        "select max(order_date) from marts.fct_order_lines"
    ),
    ("rpt_report_settings", "currency_code"): lambda _con: project_var("report_currency"),
    **{
        ("rpt_data_quality", column): _worst_data_quality(column)
        for column in (
            "table_name",
            "rows_read",
            "rows_quarantined",
            "quarantined_share",
            "top_reason",
            "rows_after_as_of_date",
        )
    },
    ("rpt_segment_kpis", "top_revenue_segment_name"): _named(TOP_REVENUE_SEGMENT, "rfm_segment"),
    ("rpt_segment_kpis", "top_revenue_segment_customer_share"): _named(
        TOP_REVENUE_SEGMENT, "customer_share"
    ),
    ("rpt_segment_kpis", "top_revenue_segment_revenue_share"): _named(
        TOP_REVENUE_SEGMENT, "revenue_share"
    ),
    ("rpt_segment_kpis", "top_revenue_segment_historical_clv"): _one(
        f"select revenue / customers from ({TOP_REVENUE_SEGMENT})"
    ),
    ("rpt_segment_kpis", "top_aov_segment_name"): _named(TOP_AOV_SEGMENT, "rfm_segment"),
    ("rpt_segment_kpis", "top_aov_segment_aov"): _named(TOP_AOV_SEGMENT, "aov"),
    ("rpt_segment_kpis", "snapshots"): _one(
        "select count(distinct snapshot_date) from marts.fct_segment_history"
    ),
    ("rpt_segment_kpis", "first_snapshot_champions"): _one(
        f"select champions from ({SNAPSHOTS}) order by snapshot_date limit 1"
    ),
    ("rpt_segment_kpis", "last_snapshot_champions"): _one(
        f"select champions from ({SNAPSHOTS}) order by snapshot_date desc limit 1"
    ),
    ("rpt_segment_kpis", "first_snapshot_at_risk_customers"): _one(
        f"select at_risk from ({SNAPSHOTS}) order by snapshot_date limit 1"
    ),
    ("rpt_segment_kpis", "last_snapshot_at_risk_customers"): _one(
        f"select at_risk from ({SNAPSHOTS}) order by snapshot_date desc limit 1"
    ),
    ("rpt_cluster_kpis", "primary_clusters"): _one(
        """select count(distinct cluster_id) from marts.cluster_assignments
           where is_primary and cluster_id >= 0"""
    ),
    ("rpt_cluster_kpis", "best_algorithm"): _named(BEST_FIT, "algorithm"),
    ("rpt_cluster_kpis", "best_parameters"): _named(BEST_FIT, "parameters"),
    ("rpt_cluster_kpis", "best_silhouette"): _named(BEST_FIT, "silhouette"),
    ("rpt_sales_kpis", "next_month_start"): _named(FORECAST_NEXT, "month_start"),
    ("rpt_sales_kpis", "next_month_forecast"): _named(FORECAST_NEXT, "forecast"),
    ("rpt_sales_kpis", "next_month_lower_95"): _named(FORECAST_NEXT, "lower_95"),
    ("rpt_sales_kpis", "next_month_upper_95"): _named(FORECAST_NEXT, "upper_95"),
    ("rpt_sales_kpis", "forecast_model_label"): _named(FORECAST_NEXT, "model_label"),
    ("rpt_sales_kpis", "forecast_note"): _named(FORECAST_NEXT, "note"),
    ("rpt_sales_kpis", "top_category"): _one(TOP_CATEGORY),
    ("rpt_sales_kpis", "top_category_revenue_share"): _one(TOP_CATEGORY, 1),
    ("rpt_sales_kpis", "top_channel"): _one(TOP_CHANNEL),
    ("rpt_sales_kpis", "top_channel_orders"): _one(TOP_CHANNEL, 1),
    ("rpt_sales_kpis", "backtest_caveat_note"): _one(CAVEAT),
    ("rpt_sales_kpis", "backtest_caveat_horizon_months"): _one(CAVEAT, 1),
    ("rpt_coupon_kpis", "coupon_claims"): _one("select count(*) from staging.stg_shop__coupons"),
    ("rpt_coupon_kpis", "coupon_burn_rate"): _one(
        """select count(*) filter (where coupon_status = 'burnt') * 1.0
                  / nullif(count(*), 0) from staging.stg_shop__coupons"""
    ),
    ("rpt_coupon_kpis", "top_city_name"): _one(TOP_CITY),
    ("rpt_coupon_kpis", "top_city_burns"): _one(TOP_CITY, 1),
    ("rpt_coupon_kpis", "top_merchant_name"): _one(TOP_MERCHANT),
    ("rpt_demographic_kpis", "largest_gender"): _one(_largest("gender")),
    ("rpt_demographic_kpis", "largest_gender_customer_share"): _one(_largest("gender"), 1),
    ("rpt_demographic_kpis", "largest_age_band"): _one(_largest("age_band")),
    ("rpt_demographic_kpis", "largest_city"): _one(_largest("city_name")),
    ("rpt_campaign_kpis", "results_source"): _one(
        "select string_agg(distinct source, ', ' order by source) from marts.campaign_results"
    ),
    ("rpt_campaign_kpis", "best_segment_name"): _named(BEST_CAMPAIGN, "segment_name"),
    ("rpt_campaign_kpis", "best_variant"): _named(BEST_CAMPAIGN, "variant"),
    ("rpt_campaign_kpis", "best_campaign_id"): _named(BEST_CAMPAIGN, "campaign_id"),
    ("rpt_campaign_kpis", "best_campaign_name"): _best_campaign_name,
    ("rpt_campaign_kpis", "best_incremental_revenue"): _named(BEST_CAMPAIGN, "incremental_revenue"),
    ("rpt_campaign_kpis", "best_uplift_ci_lower"): _named(BEST_CAMPAIGN, "uplift_ci_lower"),
    ("rpt_campaign_kpis", "best_uplift_ci_upper"): _named(BEST_CAMPAIGN, "uplift_ci_upper"),
    ("rpt_campaign_kpis", "best_p_value"): _named(BEST_CAMPAIGN, "p_value"),
    ("rpt_campaign_kpis", "ab_tests_with_winner"): _one(
        """select count(*) from (select distinct campaign_id, segment_name
           from marts.campaign_results where ab_winner is not null)"""
    ),
    ("rpt_campaign_kpis", "top_cross_sell_rule"): _one(
        f"select antecedent_category || ' -> ' || consequent_category from ({TOP_RULE})"
    ),
    ("rpt_campaign_kpis", "top_cross_sell_lift"): _named(TOP_RULE, "lift"),
    ("rpt_clv_kpis", "chosen_model_label"): _clv_ranked(0, 0),
    ("rpt_clv_kpis", "runner_up_model_label"): _clv_ranked(1, 0),
    ("rpt_clv_kpis", "runner_up_holdout_mae"): _clv_ranked(1, 1),
    ("rpt_clv_kpis", "models_compared"): _one(
        "select count(distinct model) from marts.clv_model_comparison"
    ),
    ("rpt_clv_kpis", "holdout_days"): _one(
        f"select datediff('day', calibration_end, as_of_date) - 1 from ({CLV_PERIOD})"
    ),
    ("rpt_clv_kpis", "calibration_customers"): _named(CLV_ERRORS, "customers"),
    ("rpt_clv_kpis", "chosen_holdout_mae"): _named(CLV_ERRORS, "mae"),
    ("rpt_clv_kpis", "chosen_mean_predicted"): _named(CLV_ERRORS, "mean_predicted"),
    ("rpt_clv_kpis", "chosen_mean_actual"): _named(CLV_ERRORS, "mean_actual"),
    ("rpt_clv_kpis", "fit_sample_note"): _clv_sample_note(
        "select count(distinct customer_id) from marts.fct_orders",
        "customers",
        "are scored from these parameters (clv_scored)",
    ),
    ("rpt_clv_kpis", "comparison_sample_note"): _clv_sample_note(
        f"select count(*) from ({CLV_HOLDOUT})",
        "calibration customers",
        "are predicted in the holdout from the fitted parameters",
    ),
    ("rpt_experiment_kpis", "tests"): _one(
        f"""select count(*) from (select {TEST_KEYS} from marts.campaign_outcomes
            group by {TEST_KEYS} having count(*) filter (where not is_holdout) > 0)"""
    ),
    ("rpt_experiment_kpis", "tests_with_srm"): _srm_tests,
    ("rpt_experiment_kpis", "uplift_tests"): _one(
        f"""select count(*) from (select distinct {TEST_KEYS}, variant
            from marts.campaign_outcomes where not is_holdout)"""
    ),
    ("rpt_experiment_kpis", "uplifts_significant_unadjusted"): _one(
        f"select count(*) from marts.campaign_results where cuped_p_value < {ALPHA}"
    ),
    ("rpt_experiment_kpis", "uplifts_significant_adjusted"): _uplifts_after_holm,
    ("rpt_experiment_kpis", "correction_label"): _one(
        "select max(case correction_method when 'holm' then 'Holm' "
        "else 'Benjamini-Hochberg' end) from marts.campaign_results"
    ),
    ("rpt_experiment_kpis", "ab_significant_unadjusted"): _one(
        f"""select count(*) from (select {TEST_KEYS} from marts.campaign_results
            group by {TEST_KEYS} having max(ab_p_value) < {ALPHA})"""
    ),
    ("rpt_experiment_kpis", "ab_winners"): _ab_winners_after_holm,
    ("rpt_message_kpis", "messages"): _one("select count(*) from marts.marketing_messages"),
    ("rpt_message_kpis", "model_messages"): _one(
        "select count(*) from marts.marketing_messages where generator <> 'template'"
    ),
    ("rpt_message_kpis", "template_messages"): _one(
        "select count(*) from marts.marketing_messages where generator = 'template'"
    ),
}


def _plain(value: object) -> object:
    """Comparable Python value: Decimal -> float, dates -> ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return value


def _same(shown_value: object, expected: object) -> bool:
    if shown_value is None or expected is None:
        return shown_value is None and expected is None
    if isinstance(expected, int | float) and isinstance(shown_value, int | float):
        return math.isclose(float(shown_value), float(expected), rel_tol=1e-6, abs_tol=0.01)
    return (
        str(shown_value)[:10] == str(expected)[:10]
        if _looks_like_date(expected)
        else (str(shown_value) == str(expected))
    )


def _looks_like_date(value: object) -> bool:
    text = str(value)
    return len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()


def project_format_config() -> FormatConfig:
    """The currency and locale a build with the project's own vars records."""
    return FormatConfig(
        currency=project_var("report_currency"),
        currency_symbol=project_var("report_currency_symbol"),
        locale=project_var("report_locale"),
    )


def check_report_figures(
    site_dir: Path, db_path: Path, config: FormatConfig | None = None
) -> list[str]:
    """Every figure in site_dir/figures.json against an independent query on db_path,
    formatted with `config` (default: the project's report_currency/_symbol/_locale)."""
    previous = formats.active()
    formats.activate(config or project_format_config())
    try:
        return _check_report_figures(site_dir, db_path)
    finally:
        formats.activate(previous)


def _check_report_figures(site_dir: Path, db_path: Path) -> list[str]:
    manifest = json.loads((site_dir / "figures.json").read_text())
    problems: list[str] = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        for page in manifest["pages"]:
            if page["notice"]:
                problems.append(f"page {page['page']} shows a notice: {page['notice']}")
            for figure in page["figures"]:
                where = (
                    f"page {page['page']}, {figure['label']} ({figure['mart']}.{figure['column']})"
                )
                check = INDEPENDENT.get((figure["mart"], figure["column"]))
                if check is None:
                    problems.append(f"{where}: no independent check for this figure")
                    continue
                expected = _plain(check(con))
                if not _same(figure["value"], expected):
                    problems.append(
                        f"{where}: shows value {figure['value']!r}, expected {expected!r}"
                    )
                    continue
                formatter = FORMATS[figure["format"]]
                digits = figure.get("digits")
                wanted = formatter(expected) if digits is None else formatter(expected, digits)
                if wanted != figure["shown"]:
                    problems.append(f"{where}: shows {figure['shown']!r}, expected {wanted!r}")
    return problems


def dead_links(site_dir: Path) -> list[str]:
    """Every href and src in the site's HTML that does not resolve to a file."""
    import re

    missing = []
    for page in site_dir.glob("*.html"):
        for target in re.findall(r"""(?:href|src)="([^"#?]+)""", page.read_text()):
            if not (page.parent / target).is_file():
                missing.append(f"{page.name} -> {target}")
    return missing


# --- whole-mart checks ------------------------------------------------------------------
# The marts behind charts, tables and drill-downs are checked row by row against
# queries on the dims, facts, staging and model outputs, with their bins and rules
# written again here in Python, never read from the mart under test.


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _close(left: object, right: object) -> bool:
    return _same(_plain(left), _plain(right))


def _compare(name: str, shown: dict, expected: dict) -> list[str]:
    """Two {key: {column: value}} maps: every key present in both, every value equal."""
    problems = []
    for key in sorted(set(shown) | set(expected), key=str):
        if key not in shown:
            problems.append(f"{name}: row {key!r} is missing")
        elif key not in expected:
            problems.append(f"{name}: row {key!r} should not be there")
        else:
            for column, value in expected[key].items():
                if not _close(shown[key][column], value):
                    problems.append(
                        f"{name}: row {key!r}, {column} is {shown[key][column]!r}, "
                        f"expected {value!r}"
                    )
    return problems


def _share(part: float, whole: float) -> float | None:
    return None if not whole else part / whole


def _check_customer_list(con) -> list[str]:
    orders = {
        r["customer_id"]: r
        for r in _rows(
            con,
            """select customer_id, count(*) as orders, sum(net_revenue) as revenue,
                      min(order_date) as first_date, max(order_date) as last_date
               from marts.fct_orders group by customer_id""",
        )
    }
    clusters = dict(
        con.execute(
            "select customer_id, cluster_name from marts.cluster_assignments where is_primary"
        ).fetchall()
    )
    clv = {
        r["customer_id"]: r
        for r in _rows(
            con,
            "select customer_id, churn_probability, clv_12_months"
            " from marts.customer_lifetime_value",
        )
    }
    expected = {}
    for customer_id, segment in con.execute(
        "select customer_id, rfm_segment from staging.stg_shop__customers as c"
        " left join marts.dim_customers using (customer_id)"
    ).fetchall():
        bought = orders.get(customer_id)
        expected[customer_id] = {
            "rfm_segment": segment if bought else "Prospect",
            "orders": bought["orders"] if bought else 0,
            "net_revenue": bought["revenue"] if bought else 0,
            "first_order_date": bought["first_date"] if bought else None,
            "last_order_date": bought["last_date"] if bought else None,
            "cluster_name": clusters.get(customer_id, "Not clustered (no orders)"),
            "churn_probability": (clv.get(customer_id) or {}).get("churn_probability"),
            "predicted_revenue_12_months": (clv.get(customer_id) or {}).get("clv_12_months"),
        }
    shown = {r["customer_id"]: r for r in _rows(con, "select * from marts.rpt_customer_list")}
    problems = _compare("rpt_customer_list", shown, expected)
    labels = {r["churn_risk"] for r in shown.values()}
    if not labels <= {"At risk", "Not at risk", "No orders yet"}:
        problems.append(f"rpt_customer_list: churn_risk labels {sorted(labels)}")
    return problems


def _check_customer_scatter(con) -> list[str]:
    cap = int(project_var("report_scatter_max_points"))
    # a fixed sample: the first `cap` buyers by md5 of the id
    expected = [
        row[0]
        for row in con.execute(
            f"""select customer_id from (select distinct customer_id from marts.fct_orders)
                order by md5(customer_id), customer_id limit {cap}"""
        ).fetchall()
    ]
    shown = {r["customer_id"]: r for r in _rows(con, "select * from marts.rpt_customer_scatter")}
    problems = []
    if set(shown) != set(expected):
        problems.append(
            f"rpt_customer_scatter: plots {len(shown)} customers, expected the {len(expected)} "
            "first buyers by md5(customer_id)"
        )
    revenue = dict(
        con.execute(
            "select customer_id, sum(net_revenue) from marts.fct_orders group by 1"
        ).fetchall()
    )
    for customer_id, row in shown.items():
        if not _close(row["net_revenue"], revenue.get(customer_id)):
            problems.append(f"rpt_customer_scatter: {customer_id} net_revenue {row['net_revenue']}")
            break
    return problems


def _check_education(con) -> list[str]:
    rows = _rows(
        con,
        """select coalesce(customers.education, 'Unknown') as education,
                  buyers.orders, buyers.revenue
           from staging.stg_shop__customers as customers
           left join (select customer_id, count(*) as orders, sum(net_revenue) as revenue
                      from marts.fct_orders group by 1) as buyers
               on customers.customer_id = buyers.customer_id""",
    )
    total_customers = len(rows)
    total_revenue = sum(float(r["revenue"] or 0) for r in rows)
    groups: dict[str, dict] = {}
    for r in rows:
        group = groups.setdefault(
            r["education"], {"customers": 0, "buyers": 0, "orders": 0, "revenue": 0.0, "rep": 0}
        )
        group["customers"] += 1
        if r["orders"]:
            group["buyers"] += 1
            group["orders"] += r["orders"]
            group["revenue"] += float(r["revenue"])
            group["rep"] += r["orders"] >= 2
    expected = {
        name: {
            "customers": g["customers"],
            "customer_share": g["customers"] / total_customers,
            "buyers": g["buyers"],
            "orders": g["orders"],
            "net_revenue": g["revenue"],
            "revenue_share": _share(g["revenue"], total_revenue),
            "average_order_value": _share(g["revenue"], g["orders"]),
            "repeat_purchase_rate": _share(g["rep"], g["buyers"]),
        }
        for name, g in groups.items()
    }
    shown = {r["education"]: r for r in _rows(con, "select * from marts.rpt_education_segments")}
    return _compare("rpt_education_segments", shown, expected)


# (label, shortest, longest) lifespan in days; one-order buyers have their own band
LIFESPAN_BANDS = [
    ("Under 1 month", 0, 29),
    ("1-3 months", 30, 89),
    ("3-6 months", 90, 179),
    ("6-12 months", 180, 364),
    ("1-2 years", 365, 729),
    ("2-3 years", 730, 1094),
    ("3 years or more", 1095, None),
]


def _check_retention(con) -> list[str]:
    counts = {"One order only": 0, **{label: 0 for label, _, _ in LIFESPAN_BANDS}}
    for orders, first, last in con.execute(
        "select count(*), min(order_date), max(order_date) from marts.fct_orders"
        " group by customer_id"
    ).fetchall():
        if orders == 1:
            counts["One order only"] += 1
            continue
        days = (last - first).days
        for label, low, high in LIFESPAN_BANDS:
            if days >= low and (high is None or days <= high):
                counts[label] += 1
    buyers = sum(counts.values())
    expected = {
        label: {"buyers": n, "buyer_share": _share(n, buyers)} for label, n in counts.items()
    }
    shown = {
        r["lifespan_band"]: r for r in _rows(con, "select * from marts.rpt_retention_histogram")
    }
    return _compare("rpt_retention_histogram", shown, expected)


def _check_burn_frequency(con) -> list[str]:
    counts = {str(n) if n < 10 else "10 or more": 0 for n in range(11)}
    for (burns,) in con.execute(
        "select count(*) filter (where coupon_status = 'burnt') from staging.stg_shop__coupons"
        " group by customer_id"
    ).fetchall():
        counts[str(burns) if burns < 10 else "10 or more"] += 1
    users = sum(counts.values())
    expected = {
        label: {"coupon_users": n, "coupon_user_share": _share(n, users)}
        for label, n in counts.items()
    }
    shown = {
        r["coupons_burnt"]: r for r in _rows(con, "select * from marts.rpt_coupon_burn_frequency")
    }
    return _compare("rpt_coupon_burn_frequency", shown, expected)


def _check_coupon_users(con) -> list[str]:
    people = _rows(
        con,
        """select customers.customer_id, coalesce(customers.gender, 'Unknown') as gender,
                  coalesce(cities.city_name, 'Unknown') as city
           from staging.stg_shop__customers as customers
           left join staging.stg_shop__cities as cities
               on customers.city_id = cities.city_id""",
    )
    usage = {
        r["customer_id"]: r
        for r in _rows(
            con,
            """select customer_id, count(*) as claims,
                      count(*) filter (where coupon_status = 'burnt') as burns
               from staging.stg_shop__coupons group by 1""",
        )
    }
    expected: dict[tuple, dict] = {}
    for dimension, column in (("Gender", "gender"), ("City", "city")):
        groups: dict[str, list[int]] = {}
        for person in people:
            group = groups.setdefault(person[column], [0, 0, 0, 0])  # customers users claims burns
            group[0] += 1
            used = usage.get(person["customer_id"])
            if used:
                group[1] += 1
                group[2] += used["claims"]
                group[3] += used["burns"]
        users = sum(g[1] for g in groups.values())
        for value, (customers, n_users, claims, burns) in groups.items():
            if n_users:
                expected[(dimension, value)] = {
                    "coupon_users": n_users,
                    "coupon_user_share": n_users / users,
                    "claims": claims,
                    "burns": burns,
                    "burn_rate": _share(burns, claims),
                    "customers": customers,
                    "coupon_user_rate": n_users / customers,
                }
    shown = {
        (r["dimension"], r["dimension_value"]): r
        for r in _rows(con, "select * from marts.rpt_coupon_users_by_demographic")
    }
    return _compare("rpt_coupon_users_by_demographic", shown, expected)


def _check_segment_migration(con) -> list[str]:
    history = _rows(
        con, "select customer_id, snapshot_index, rfm_segment from marts.fct_segment_history"
    )
    by_index: dict[int, dict[str, str]] = {}
    for r in history:
        by_index.setdefault(r["snapshot_index"], {})[r["customer_id"]] = r["rfm_segment"]
    moves: dict[tuple[str, str], int] = {}
    last = max(by_index, default=0)
    for index, current in by_index.items():
        if index == last:  # the oldest snapshot has no earlier one
            continue
        previous = by_index.get(index + 1, {})
        for customer_id, segment in current.items():
            key = (previous.get(customer_id, "Prospect"), segment)
            moves[key] = moves.get(key, 0) + 1
    with (PROJECT / "seeds" / "lookups" / "rfm_segments.csv").open(newline="") as lookup:
        segments = {row["rfm_segment"] for row in csv.DictReader(lookup)}
    segments |= {name for pair in moves for name in pair}
    leaving = {name: sum(n for (a, _), n in moves.items() if a == name) for name in segments}
    expected = {}
    for from_segment in segments:
        for to_segment in segments:
            n = moves.get((from_segment, to_segment), 0)
            moved = from_segment != to_segment
            expected[(from_segment, to_segment)] = {
                "customers": n,
                "from_segment_share": _share(n, leaving[from_segment]),
                "moved_customers": n if moved else None,
                "moved_share": _share(n, leaving[from_segment]) if moved else None,
            }
    shown = {
        (r["from_segment"], r["to_segment"]): r
        for r in _rows(con, "select * from marts.rpt_segment_migration")
    }
    return _compare("rpt_segment_migration", shown, expected)


def _check_segment_performance(con) -> list[str]:
    expected = {}
    for r in _rows(con, SEGMENT_REVENUE):
        expected[("RFM segment", r["rfm_segment"])] = {
            "customers": r["customers"],
            "net_revenue": r["revenue"],
            "orders": r["orders"],
        }
    shown = {
        (r["segment_type"], r["segment_name"]): r
        for r in _rows(
            con, "select * from marts.rpt_segment_performance where segment_type = 'RFM segment'"
        )
    }
    # segments nobody is in are listed with 0 customers
    shown = {k: r for k, r in shown.items() if k in expected or r["customers"] != 0}
    problems = _compare("rpt_segment_performance", shown, expected)
    types = con.execute("select distinct segment_type from marts.rpt_segment_performance")
    types = {t for (t,) in types.fetchall()}
    if types != {"RFM segment", "Value tier"}:
        problems.append(f"rpt_segment_performance: segment types {sorted(types)}")
    return problems


ALGORITHM_LABELS = {"kmeans": "KMeans", "dbscan": "DBSCAN", "hierarchical": "Ward hierarchical"}


def _check_cluster_evaluation(con) -> list[str]:
    expected = {
        ALGORITHM_LABELS.get(r["algorithm"], r["algorithm"]): {
            "role": "Primary" if r["is_primary"] else "Compared",
            "clusters": r["n_clusters"],
            "customers": r["n_customers"],
            "silhouette": r["silhouette"],
            "davies_bouldin_index": r["davies_bouldin"],
            "calinski_harabasz_index": r["calinski_harabasz"],
            "noise_share": r["noise_share"],
        }
        for r in _rows(
            con,
            "select * from marts.cluster_evaluation"
            " where is_chosen and algorithm <> 'kmeans_sweep'",
        )
    }
    shown = {r["algorithm"]: r for r in _rows(con, "select * from marts.rpt_cluster_evaluation")}
    return _compare("rpt_cluster_evaluation", shown, expected)


def without_name(text: str) -> str:
    """The SMS a customer without a usable name gets: the greeting name and its comma go."""
    import re

    stripped = re.sub(r"(,\s*)?\{first_name\}(\s*,)?", "", text)
    stripped = re.sub(r"\s+([!?.,])", r"\1", re.sub(r"\s{2,}", " ", stripped)).strip()
    return stripped[:1].upper() + stripped[1:]


def _check_message_previews(con) -> list[str]:
    messages = {
        r["pairing_id"]: r
        for r in _rows(
            con,
            "select * from marts.marketing_messages where validation_status = 'valid'",
        )
    }
    audience = {
        r["segment_name"]: r
        for r in _rows(
            con,
            """select segment_name, count(*) as customers, min(scheduled_local) as first_send
               from marts.customer_messages group by 1""",
        )
    }
    expected = {
        pairing: {
            "segment_name": m["segment_name"],
            "event_id": m["event_id"],
            "offer_id": m["offer_id"],
            "message_text": m["message_text"],
            "message_text_without_name": without_name(m["message_text"]),
            "written_by": "Template" if m["generator"] == "template" else "Language model",
            "segment_scheduled_customers": (audience.get(m["segment_name"]) or {}).get(
                "customers", 0
            ),
            "first_send_local": (audience.get(m["segment_name"]) or {}).get("first_send"),
        }
        for pairing, m in messages.items()
    }
    shown = {r["pairing_id"]: r for r in _rows(con, "select * from marts.rpt_message_previews")}
    problems = _compare("rpt_message_previews", shown, expected)
    members = {
        (segment, customer_id): name
        for segment, customer_id, name in con.execute(
            """select messages.segment_name, messages.customer_id, customers.first_name
               from marts.customer_messages as messages
               inner join staging.stg_shop__customers as customers
                   on messages.customer_id = customers.customer_id"""
        ).fetchall()
    }
    for row in shown.values():
        if row["preview_customer_id"] is None:
            continue
        key = (row["segment_name"], row["preview_customer_id"])
        if key not in members:
            problems.append(f"rpt_message_previews: preview customer {key} is not scheduled")
        elif row["first_name"] is not None and row["first_name"] != members[key]:
            problems.append(f"rpt_message_previews: preview name of {key} is not theirs")
    return problems


def _check_message_schedule(con) -> list[str]:
    expected = {
        r["pairing_id"]: {
            "segment_name": r["segment_name"],
            "customers": r["customers"],
            "first_send_local": r["first_local"],
            "last_send_local": r["last_local"],
            "first_send_utc": r["first_utc"],
            "last_send_utc": r["last_utc"],
        }
        for r in _rows(
            con,
            """select pairing_id, any_value(segment_name) as segment_name,
                      count(*) as customers,
                      min(scheduled_local) as first_local, max(scheduled_local) as last_local,
                      min(scheduled_at_utc) as first_utc, max(scheduled_at_utc) as last_utc
               from marts.customer_messages group by pairing_id""",
        )
    }
    shown = {r["pairing_id"]: r for r in _rows(con, "select * from marts.rpt_message_schedule")}
    return _compare("rpt_message_schedule", shown, expected)


def _check_report_settings(con) -> list[str]:
    (row,) = _rows(con, "select * from marts.rpt_report_settings")
    expected = {
        "currency_code": project_var("report_currency"),
        "currency_symbol": project_var("report_currency_symbol"),
        "locale": project_var("report_locale"),
        "as_of_date": con.execute(
            "select as_of_date from intermediate.int_reference_date"
        ).fetchone()[0],
        "first_order_date": con.execute(
            "select min(order_date) from marts.fct_order_lines"
        ).fetchone()[0],
        "last_order_date": con.execute(
            "select max(order_date) from marts.fct_order_lines"
        ).fetchone()[0],
    }
    return _compare("rpt_report_settings", {0: row}, {0: expected})


def _check_monetary_bands(con) -> list[str]:
    """Buyers per band of lifetime spend, the bands written again here."""
    symbol = con.execute("select currency_symbol from marts.rpt_report_settings").fetchone()[0]
    names = [
        (2000, f"Under {symbol}2K"),
        (10000, f"{symbol}2K-10K"),
        (50000, f"{symbol}10K-50K"),
        (200000, f"{symbol}50K-200K"),
        (math.inf, f"{symbol}200K or more"),
    ]
    expected: dict = {}
    for (monetary,) in con.execute(
        "select monetary from marts.dim_customers where frequency > 0"
    ).fetchall():
        order, name = next((i + 1, n) for i, (top, n) in enumerate(names) if float(monetary) < top)
        row = expected.setdefault(name, {"band_order": order, "customers": 0})
        row["customers"] += 1
    shown = {r["monetary_band"]: r for r in _rows(con, "select * from marts.rpt_monetary_bands")}
    return _compare("rpt_monetary_bands", shown, expected)


def _campaign_name(campaign_id: str, offer_id: str | None, events: dict, offers: dict) -> str:
    """'<event>: <offer>' for a simulated <event_id>-<offer_id> campaign, else the offer's
    name, else the campaign id (a user's own campaigns keep their ids)."""
    offer = offers.get(offer_id)
    event_id = campaign_id[: -len(f"-{offer_id}")] if offer_id else None
    if offer and event_id and campaign_id == f"{event_id}-{offer_id}" and event_id in events:
        return f"{events[event_id]}: {offer}"
    return offer or campaign_id


def _check_campaign_results(con) -> list[str]:
    events = dict(
        con.execute("select event_id, event_name from staging.stg_shop__events").fetchall()
    )
    offers = dict(
        con.execute("select offer_id, offer_name from staging.stg_shop__offers").fetchall()
    )
    columns = (
        "source, sends, open_rate, click_rate, conversion_rate, holdout_conversion_rate, "
        "incremental_revenue, uplift_ci_lower, uplift_ci_upper, p_value, roi, ab_winner"
    )
    expected = {}
    for r in _rows(
        con,
        f"select campaign_id, segment_name, offer_id, variant, {columns} "
        "from marts.campaign_results",
    ):
        key = (r["campaign_id"], r["segment_name"], r["offer_id"], r["variant"])
        name = _campaign_name(r["campaign_id"], r["offer_id"], events, offers)
        expected[key] = {
            **{c: r[c] for c in columns.split(", ")},
            "campaign_name": name,
            "campaign_label": f"{r['segment_name']} {r['variant']}, {name}",
        }
    shown = {
        (r["campaign_id"], r["segment_name"], r["offer_id"], r["variant"]): r
        for r in _rows(con, "select * from marts.rpt_campaign_results")
    }
    problems = _compare("rpt_campaign_results", shown, expected)
    tests = {
        (r["campaign_id"], r["segment_name"], r["offer_id"], r["variant"]): r
        for r in _rows(con, "select * from marts.rpt_campaign_experiments")
    }
    problems += _compare(
        "rpt_campaign_experiments",
        tests,
        {key: {"test_label": row["campaign_label"]} for key, row in expected.items()},
    )
    return problems


MART_CHECKS = (
    _check_campaign_results,
    _check_monetary_bands,
    _check_customer_list,
    _check_customer_scatter,
    _check_education,
    _check_retention,
    _check_burn_frequency,
    _check_coupon_users,
    _check_segment_migration,
    _check_segment_performance,
    _check_cluster_evaluation,
    _check_message_previews,
    _check_message_schedule,
    _check_report_settings,
    _check_data_quality,
)


def check_report_marts(db_path: Path) -> list[str]:
    """Every row of the report marts behind charts, tables and drill-downs, recomputed."""
    problems: list[str] = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        for check in MART_CHECKS:
            problems.extend(check(con))
    return problems
