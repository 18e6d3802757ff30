"""One row per customer a campaign targeted (holdout included) and what they did.

Your campaign_sends / campaign_responses when supplied (source = observed);
otherwise the documented simulation over customer_messages (source = simulation).
"""

import pandas as pd

from marketing_engine.campaigns import OUTCOME_COLUMNS, CampaignSettings, simulate


def model(dbt, session):
    dbt.config(materialized="table")
    settings = CampaignSettings.from_mapping(dbt.config.get("campaigns"))
    sends = dbt.ref("stg_shop__campaign_sends").df()
    if len(sends):
        responses = dbt.ref("stg_shop__campaign_responses").df()
        observed = sends.merge(responses, on="send_id", how="left")
        for flag in ("is_delivered", "is_opened", "is_clicked", "is_converted"):
            observed[flag] = observed[flag].fillna(False).astype(bool)
        observed["revenue"] = observed["revenue"].fillna(0).astype(float)
        observed["source"] = "observed"
        # Optional text columns the file left empty arrive as all-None objects, which
        # DuckDB would store as type NULL: keep them text, as the YAML contract says.
        text = ["send_id", "campaign_id", "customer_id", "offer_id", "segment_name", "variant"]
        observed[text] = observed[text].astype("string")
        return observed[OUTCOME_COLUMNS]
    # Only what the simulation reads: the message text is not needed, and at a million
    # customers pulling it into pandas cost gigabytes of memory.
    messages = (
        dbt.ref("customer_messages")
        .project("customer_id, segment_name, pairing_id, event_id, offer_id, scheduled_at_utc")
        .df()
    )
    predictions = (
        dbt.ref("customer_lifetime_value")
        .project(
            "customer_id, expected_order_value, "
            "expected_purchases_90d / 3.0 as expected_purchases_30d"
        )
        .df()
    )
    customers = (
        dbt.ref("dim_customers")
        .project("customer_id, recency_days, frequency, aov::double as aov")
        .df()
        .merge(predictions, on="customer_id", how="left")
    )
    pairings = dbt.ref("message_pairings").project("pairing_id, offer_type, offer_category").df()
    targets = messages.merge(customers, on="customer_id").merge(pairings, on="pairing_id")
    sent_at = pd.Timestamp(messages["scheduled_at_utc"].min()) if len(messages) else pd.NaT
    return simulate(targets, settings, sent_at)
