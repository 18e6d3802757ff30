"""Append-only log of every message decision, keyed by the cache key (prompt data,
model and settings).

Incremental: a key whose newest row is a model message, or a template after the
model's answers were rejected, costs no LLM call; a template made while Ollama
gave no answer is tried again. The log is also the history that keeps new
messages from repeating earlier campaigns. `regenerate: true` (dbt var
regenerate_messages, `marketing-engine build --regenerate-messages`) writes new
copy for every pairing.
"""

import pandas as pd

from marketing_engine.messaging import MessagingSettings, OllamaGenerator, generate_messages


def model(dbt, session):
    dbt.config(materialized="incremental", on_schema_change="append_new_columns")
    settings = MessagingSettings.from_mapping(dbt.config.get("messaging"))
    pairings = dbt.ref("message_pairings").df()
    history = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    generator = OllamaGenerator(settings) if settings.use_ollama else None
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    return generate_messages(
        pairings, settings, history, generator, now, echo=lambda line: print(line, flush=True)
    )
