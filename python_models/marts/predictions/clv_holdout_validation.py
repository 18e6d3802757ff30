"""Predicted vs actual repeat purchases in the holdout, by calibration purchase count,
for the model clv_model_comparison chose."""

from marketing_engine.clv import ClvSettings, holdout_validation
from marketing_engine.clv_selection import chosen_model


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    chosen = chosen_model(dbt.ref("clv_model_comparison").df())
    calibration = dbt.ref("int_customers_clv_calibration").df().sort_values("customer_id")
    return holdout_validation(calibration.reset_index(drop=True), settings, chosen)
