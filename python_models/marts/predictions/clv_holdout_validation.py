"""Predicted vs actual repeat purchases in the holdout, by calibration purchase count."""

from marketing_engine.clv import ClvSettings, holdout_validation


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    calibration = dbt.ref("int_customers_clv_calibration").df().sort_values("customer_id")
    return holdout_validation(calibration.reset_index(drop=True), settings)
