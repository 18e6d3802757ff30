"""One row per campaign x segment x offer x message variant: rates, revenue, cost,
incremental revenue vs holdout with a 95% interval and p-value, ROI, A/B winner."""

from marketing_engine.campaigns import CampaignSettings, results


def model(dbt, session):
    dbt.config(materialized="table")
    settings = CampaignSettings.from_mapping(dbt.config.get("campaigns"))
    outcomes = dbt.ref("campaign_outcomes").df()
    offers = dbt.ref("stg_shop__offers").project("offer_id, discount_pct::double as pct").df()
    return results(outcomes, offers.set_index("offer_id")["pct"], settings)
