"""One row per outcome of asking the model for the current messages: accepted, or
each rejection reason, with its share of all attempts (the acceptance rate)."""

from marketing_engine.messaging import generation_stats


def model(dbt, session):
    dbt.config(materialized="table")
    return generation_stats(dbt.ref("marketing_messages").df())
