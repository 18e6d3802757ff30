"""One row per campaign x segment x offer x message variant: rates, revenue, cost,
incremental revenue vs holdout with a 95% interval and p-value, ROI, sample-ratio check,
minimum detectable effects, CUPED estimate (pre-period revenue as covariate), p-values
corrected across tests, and the A/B winner (only when the corrected test says so)."""

import pandas as pd

from marketing_engine.campaigns import CampaignSettings, pre_period_revenue, results


def model(dbt, session):
    dbt.config(materialized="table")
    settings = CampaignSettings.from_mapping(dbt.config.get("campaigns"))
    outcomes = dbt.ref("campaign_outcomes").df()
    offers = dbt.ref("stg_shop__offers").project("offer_id, discount_pct::double as pct").df()
    orders = dbt.ref("fct_orders").project(
        "customer_id, order_date, net_revenue::double as revenue"
    )
    send_days = pd.to_datetime(outcomes["sent_at"]).dt.normalize().dropna()
    if len(send_days):
        # Only orders inside some send's pre-period can count: the days before the
        # latest send date, from pre_period_days before the earliest one.
        first = (send_days.min() - pd.Timedelta(days=settings.pre_period_days)).date()
        orders = orders.filter(
            f"order_date >= date '{first}' and order_date < date '{send_days.max().date()}'"
        )
    pre_revenue = pre_period_revenue(outcomes, orders.df(), settings.pre_period_days)
    return results(outcomes, offers.set_index("offer_id")["pct"], settings, pre_revenue)
