"""One row per calibration customer: the chosen model's predicted holdout repeat purchases,
the actual ones, and the predicted decile (for independent checks of the calibration)."""

from marketing_engine.clv import ClvSettings
from marketing_engine.clv_sample import read_calibration
from marketing_engine.clv_selection import compare


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    # Every calibration customer, the columns the comparison reads, the fit sample flagged.
    calibration = read_calibration(dbt.ref("int_customers_clv_calibration"), settings)
    return compare(calibration, settings).predictions
