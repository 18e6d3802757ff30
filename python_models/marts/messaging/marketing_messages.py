"""One row per segment x event x offer pairing: its validated message and how it was made."""

from marketing_engine.messaging import MessagingSettings, current_messages


def model(dbt, session):
    dbt.config(materialized="table")
    settings = MessagingSettings.from_mapping(dbt.config.get("messaging"))
    pairings = dbt.ref("message_pairings").df()
    log = dbt.ref("marketing_message_log").df()
    messages = current_messages(pairings, log, settings)
    # Text columns typed as text even when every value is null (no events or offers, or
    # Ollama disabled: attempt_outcomes is null everywhere), not NULL-typed ones.
    text = [
        column
        for column in messages.columns
        if messages[column].dtype == object
        and messages[column].map(lambda v: v is None or isinstance(v, str)).all()
    ]
    return messages.astype(dict.fromkeys(text, "string"))
