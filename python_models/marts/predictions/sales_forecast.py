"""One row per forecast month and segment ('All customers' = total): forecast, 80%/95% intervals."""

from marketing_engine.forecast import ForecastSettings, forecast_by_segment


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ForecastSettings.from_mapping(dbt.config.get("forecast"))
    monthly = dbt.ref("int_segment_monthly_revenue").df()
    return forecast_by_segment(monthly, settings)
