"""Predicted vs actual repeat purchases in the holdout, by calibration purchase count,
for the model clv_model_comparison chose."""

from marketing_engine.clv import ClvSettings, holdout_validation
from marketing_engine.clv_sample import read_calibration
from marketing_engine.clv_selection import chosen_model, compare


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    chosen = chosen_model(dbt.ref("clv_model_comparison").df())
    # Every calibration customer, the columns the comparison reads, the fit sample flagged.
    calibration = read_calibration(dbt.ref("int_customers_clv_calibration"), settings)
    # The comparison's own calibration fit of the chosen model (the in-process fit
    # clv_model_comparison made, or made once here): no second fit, and these
    # figures agree with clv_model_comparison's for that model.
    fit = compare(calibration, settings).fits.get(chosen)
    return holdout_validation(calibration, settings, chosen, fit)
