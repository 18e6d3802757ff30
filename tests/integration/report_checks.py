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

import json
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb

from marketing_engine.reports import FORMATS

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
# A -> B and B -> A share a lift: ties go to the alphabetically first rule.
TOP_RULE = """
    select * from marts.fct_product_affinity
    order by lift desc, antecedent_category, consequent_category limit 1
"""
BEST_FIT = """
    select * from marts.cluster_evaluation
    where is_chosen and algorithm <> 'kmeans_sweep'
    order by silhouette desc nulls last limit 1
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


def check_report_figures(site_dir: Path, db_path: Path) -> list[str]:
    """Every figure in site_dir/figures.json against an independent query on db_path."""
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
