"""One row per customer with an order: P(alive), churn probability, expected purchases,
expected order value, discounted 12-month CLV and expected next purchase date.

The scores come from SQL (clv_scored, over the fit in clv_model_parameters); only the
customers SQL cannot score (a Pareto/NBD fit, a 2F1 series that did not converge) are
scored in Python, from the same memoized fit."""

import pandas as pd

from marketing_engine.clv import ClvSettings, score
from marketing_engine.clv_publish import publish_scores
from marketing_engine.clv_sample import read_fit_sample
from marketing_engine.clv_selection import chosen_model, chosen_start


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    scored = dbt.ref("clv_scored").df()
    fit_dates = dbt.ref("clv_model_parameters").df()["fit_date"]

    def python_scores() -> pd.DataFrame:
        # Every customer, scored from the fit clv_model_parameters made: the same seeded
        # sample and arguments, so the memoized fit is reused.
        relation = dbt.ref("int_customers_clv_summary")
        summary = relation.df().sort_values("customer_id").reset_index(drop=True)
        comparison = dbt.ref("clv_model_comparison").df()
        chosen, start = chosen_model(comparison), chosen_start(comparison)
        sample = read_fit_sample(relation, settings)
        return score(summary, settings, chosen, start, fit_sample=sample)[0]

    return publish_scores(scored, fit_dates.iloc[0] if len(fit_dates) else None, python_scores)
