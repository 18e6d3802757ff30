"""One row per model x grouping x group: mean predicted vs mean actual holdout repeat
purchases by calibration repeat purchases (0..6, 7+) and by decile of the prediction."""

from marketing_engine.clv import ClvSettings
from marketing_engine.clv_sample import read_calibration
from marketing_engine.clv_selection import compare


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    # Every calibration customer, the columns the comparison reads, the fit sample flagged.
    calibration = read_calibration(dbt.ref("int_customers_clv_calibration"), settings)
    return compare(calibration, settings).calibration
