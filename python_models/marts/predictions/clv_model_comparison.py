"""One row per customer-base model (BG/NBD, MBG/NBD, Pareto/NBD) fitted on the calibration
period (a seeded sample of at most fit_sample_size customers): parameters, log-likelihood,
holdout MAE, bias, RMSE over every calibration customer and the chosen flag."""

import pandas as pd
import pyarrow as pa

from marketing_engine.clv import ClvSettings
from marketing_engine.clv_sample import read_calibration
from marketing_engine.clv_selection import compare


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ClvSettings.from_mapping(dbt.config.get("clv"))
    relation = dbt.ref("int_customers_clv_calibration")
    # Every calibration customer, the columns the comparison reads, the fit sample flagged.
    calibration = read_calibration(relation, settings)
    as_of = dbt.ref("int_reference_date").df()["as_of_date"]
    table = compare(calibration, settings).table
    (end,) = relation.aggregate("max(calibration_end)").fetchall()[0]
    calibration_end = pd.Timestamp(end).date() if len(calibration) else None
    as_of_date = pd.Timestamp(as_of.iloc[0]).date() if len(as_of) else None
    # Arrow dates stay DATE in DuckDB even when every value is missing (no calibration
    # customers): the YAML contract (columns_match_contract) declares date.
    dates = pd.ArrowDtype(pa.date32())
    table["calibration_end"] = pd.Series([calibration_end] * len(table), dtype=dates)
    table["as_of_date"] = pd.Series([as_of_date] * len(table), dtype=dates)
    return table
