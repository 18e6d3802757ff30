"""One row per SMS-contactable customer: the personalized message for their segment's
first upcoming event and best offer, scheduled inside quiet hours in their time zone.
Only validated messages are sent; a personalized text that fails the SMS checks
stops the build with the reason (it cannot happen by construction)."""

import pandas as pd

from marketing_engine.messaging import (
    MessagingError,
    MessagingSettings,
    ScheduleSettings,
    check_final,
    personalize,
    schedule,
)


def model(dbt, session):
    dbt.config(materialized="table")
    settings = MessagingSettings.from_mapping(dbt.config.get("messaging"))
    timing = ScheduleSettings.from_mapping(dbt.config.get("scheduling"))
    messages = dbt.ref("marketing_messages").df()
    messages = messages[messages["validation_status"] == "valid"].sort_values(
        ["segment_name", "event_date", "priority", "offer_id"]
    )
    # Pairings name the segmentation they were written for.
    source = messages["segment_source"].iloc[0] if len(messages) else "rfm_segment"
    segment_column = "cluster_name" if source == "cluster" else "rfm_segment"
    # Clusters come from customer_clusters: dim_customers never waits for a fit.
    clusters = dbt.ref("customer_clusters").project("customer_id, cluster_name").df()
    customers = (
        dbt.ref("dim_customers")
        .filter("is_sms_contactable")
        .project("customer_id, first_name, timezone, rfm_segment, as_of_date")
        .df()
        .merge(clusters, on="customer_id", how="left")
        .rename(columns={segment_column: "segment_name"})
    )[["customer_id", "first_name", "timezone", "segment_name", "as_of_date"]]
    first = messages.drop_duplicates("segment_name")
    joined = customers.merge(first, on="segment_name", how="inner")
    names = joined[["message_text", "first_name"]].drop_duplicates()
    names["personalized_text"] = pd.Series(
        [
            personalize(text, name, settings)
            for text, name in zip(names["message_text"], names["first_name"], strict=True)
        ],
        index=names.index,
        dtype="string",  # typed even when there is nobody to message
    )
    for text in names["personalized_text"]:
        reasons = check_final(text, settings)
        if reasons:
            raise MessagingError(f"personalized SMS {text!r} is not sendable: {'; '.join(reasons)}")
    joined = joined.merge(names, on=["message_text", "first_name"], how="left")
    as_of = pd.Timestamp(customers["as_of_date"].iloc[0]) if len(customers) else pd.Timestamp(0)
    joined = schedule(joined, as_of, timing)
    joined["channel"] = "sms"
    if joined.empty:  # nobody to message: typed text columns, not NULL-typed ones
        joined = joined.astype({c: "string" for c in joined.columns if joined[c].dtype == object})
    return (
        joined[
            [
                "customer_id",
                "segment_name",
                "pairing_id",
                "event_id",
                "offer_id",
                "channel",
                "generator",
                "personalized_text",
                "timezone",
                "event_date",
                "scheduled_local",
                "scheduled_at_utc",
            ]
        ]
        .sort_values("customer_id")
        .reset_index(drop=True)
    )
