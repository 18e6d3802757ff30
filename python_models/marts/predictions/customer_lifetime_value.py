"""One row per customer with an order: P(alive), churn probability, expected purchases,
expected order value, discounted 12-month CLV and expected next purchase date."""

import pandas as pd

from marketing_engine.clv import ClvSettings, score
from marketing_engine.clv_selection import chosen_model, chosen_start


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    summary = dbt.ref("int_customers_clv_summary").df().sort_values("customer_id")
    comparison = dbt.ref("clv_model_comparison").df()
    chosen, start = chosen_model(comparison), chosen_start(comparison)
    scores, _ = score(summary.reset_index(drop=True), settings, chosen, start)
    as_of = pd.to_datetime(summary["as_of_date"].iloc[0]) if len(summary) else None
    days = scores["days_to_next_purchase"].round().clip(upper=3650)
    scores["expected_next_purchase_date"] = (
        (as_of + pd.to_timedelta(days, unit="D")).dt.date if as_of is not None else None
    )
    return scores
