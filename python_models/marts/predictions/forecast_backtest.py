"""Rolling-origin backtest of total monthly revenue: regression vs naive and seasonal naive."""

from marketing_engine.forecast import BACKTEST_EMPTY, ForecastSettings, backtest, series_by_segment


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ForecastSettings.from_mapping(dbt.config.get("forecast"))
    monthly = dbt.ref("int_segment_monthly_revenue").df()
    # the same total series sales_forecast forecasts, so is_chosen names its model
    total = series_by_segment(monthly).get("All customers")
    return BACKTEST_EMPTY.copy() if total is None else backtest(total, settings)
