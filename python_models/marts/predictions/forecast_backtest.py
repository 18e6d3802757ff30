"""Rolling-origin backtest of total monthly revenue: regression vs naive and seasonal naive."""

from marketing_engine.forecast import ForecastSettings, backtest


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ForecastSettings.from_mapping(dbt.config.get("forecast"))
    monthly = dbt.ref("int_segment_monthly_revenue").df()
    total = monthly.groupby("month_start")["revenue"].sum().sort_index()
    return backtest(total, settings)
