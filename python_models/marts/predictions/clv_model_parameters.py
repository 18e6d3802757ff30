"""One row per fitted model (the chosen counting model, gamma_gamma): parameters,
log-likelihood, convergence, and how many customers the fit used."""

import pandas as pd

from marketing_engine.clv import ClvSettings, fit
from marketing_engine.clv_sample import read_fit_sample, sample_note, with_sample_columns
from marketing_engine.clv_selection import chosen_model, chosen_start


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    summary = dbt.ref("int_customers_clv_summary")
    # The seeded sample of at most fit_sample_size customers, chosen in SQL: the only
    # rows that reach pandas. Everyone when there are fewer.
    sample = read_fit_sample(summary, settings)
    customers, as_of = summary.aggregate("count(*), max(as_of_date)").fetchall()[0]
    comparison = dbt.ref("clv_model_comparison").df()
    chosen, start = chosen_model(comparison), chosen_start(comparison)
    # The fit only: every customer is scored in SQL (clv_scored) from these parameters.
    fitted = fit(sample, settings, chosen, start)
    table = pd.DataFrame(fitted.parameters)
    # Every model's parameter columns, whichever model was chosen: the YAML contract
    # (columns_match_contract) lists them all; the ones a model lacks stay empty.
    for column in ("r", "alpha", "a", "b", "s", "beta", "p", "q", "v"):
        if column not in table:
            table[column] = pd.Series([float("nan")] * len(table), dtype="float64")
    # clv_scored scores every customer of the summary (customer_lifetime_value scores in
    # Python only those SQL cannot, from this memoized fit).
    table["scored_customers"] = customers
    table["fit_date"] = pd.Timestamp(as_of).date() if customers else None
    note = sample_note(len(sample), customers, "are scored from these parameters (clv_scored)")
    return with_sample_columns(table, len(sample), note)
