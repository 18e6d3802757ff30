"""Append-only log of every message generated, keyed by prompt hash and model.

Incremental: a pairing whose prompt hash already has an `ollama` message here
(or a `template` one while Ollama is unavailable) costs no LLM call. The log is
also the history that keeps new messages from repeating old ones.
"""

import pandas as pd

from marketing_engine.messaging import MessagingSettings, OllamaGenerator, generate_messages


def model(dbt, session):
    dbt.config(materialized="incremental")
    settings = MessagingSettings.from_mapping(dbt.config.get("messaging"))
    pairings = dbt.ref("message_pairings").df()
    history = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    generator = OllamaGenerator(settings) if settings.use_ollama else None
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    return generate_messages(pairings, settings, history, generator, now)
