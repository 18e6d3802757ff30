"""One row per segment x event x offer pairing: its validated message and how it was made."""

from marketing_engine.messaging import MessagingSettings, current_messages


def model(dbt, session):
    dbt.config(materialized="table")
    settings = MessagingSettings.from_mapping(dbt.config.get("messaging"))
    pairings = dbt.ref("int_message_pairings").df()
    log = dbt.ref("marketing_message_log").df()
    columns = [
        "pairing_id",
        "segment_name",
        "segment_source",
        "event_id",
        "event_name",
        "offer_id",
        "offer_name",
        "offer_type",
        "offer_code",
        "rationale",
        "priority",
        "prompt_hash",
        "model_name",
        "generator",
        "message_text",
        "validation_status",
        "validation_reasons",
        "attempts",
        "character_count",
        "sms_encoding",
        "sms_parts",
        "event_date",
        "created_at",
    ]
    return current_messages(pairings, log, settings)[columns]
