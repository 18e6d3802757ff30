"""Rolling-origin backtest of total monthly revenue: regression vs naive and seasonal naive."""

from marketing_engine.forecast import ForecastSettings, backtest, complete_months


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ForecastSettings.from_mapping(dbt.config.get("forecast"))
    monthly = dbt.ref("int_segment_monthly_revenue").df()
    total = complete_months(monthly.groupby("month_start")["revenue"].sum())
    return backtest(total, settings)
