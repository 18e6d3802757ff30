"""One row per forecast month and series ('All customers' = total): the backtest-chosen model's
forecast with 80%/95% intervals from its backtest errors (marketing_engine.forecast)."""

from marketing_engine.forecast import ForecastSettings, forecast_by_segment


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ForecastSettings.from_mapping(dbt.config.get("forecast"))
    monthly = dbt.ref("int_segment_monthly_revenue").df()
    return forecast_by_segment(monthly, settings)
