"""One row per model x grouping x group: mean predicted vs mean actual holdout repeat
purchases by calibration repeat purchases (0..6, 7+) and by decile of the prediction."""

from marketing_engine.clv import ClvSettings
from marketing_engine.clv_selection import compare


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    calibration = dbt.ref("int_customers_clv_calibration").df()
    return compare(calibration, settings).calibration
