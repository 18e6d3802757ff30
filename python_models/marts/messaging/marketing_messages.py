"""One row per segment x event x offer pairing: its validated message and how it was made."""

from marketing_engine.messaging import MessagingSettings, current_messages


def model(dbt, session):
    dbt.config(materialized="table")
    settings = MessagingSettings.from_mapping(dbt.config.get("messaging"))
    pairings = dbt.ref("message_pairings").df()
    log = dbt.ref("marketing_message_log").df()
    messages = current_messages(pairings, log, settings)
    if messages.empty:  # no events or offers: typed text columns, not NULL-typed ones
        messages = messages.astype(
            {c: "string" for c in messages.columns if messages[c].dtype == object}
        )
    return messages
