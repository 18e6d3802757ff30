"""Sales forecast: intervals by the OLS formula, honest backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from marketing_engine.forecast import (
    ForecastSettings,
    backtest,
    complete_months,
    forecast_by_segment,
    regression_forecast,
)


def monthly(values) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2023-01-01", periods=len(values), freq="MS"))


def test_trend_forecast_and_interval_match_the_textbook_formula_on_the_log_scale():
    values = np.array([10.0, 12.0, 13.0, 15.0, 18.0, 19.0, 21.0, 22.0])
    out = regression_forecast(monthly(values), 1)
    t = np.arange(len(values), dtype=float)
    logged = np.log1p(values)
    slope, intercept = np.polyfit(t, logged, 1)
    x0 = len(values)
    assert out.loc[0, "forecast"] == pytest.approx(np.expm1(intercept + slope * x0))
    residuals = logged - (intercept + slope * t)
    sigma = np.sqrt((residuals**2).sum() / (len(values) - 2))
    se = sigma * np.sqrt(1 + 1 / len(values) + (x0 - t.mean()) ** 2 / ((t - t.mean()) ** 2).sum())
    half_width = stats.t.ppf(0.975, len(values) - 2) * se
    assert out.loc[0, "upper_95"] == pytest.approx(np.expm1(intercept + slope * x0 + half_width))
    assert out.loc[0, "lower_95"] == pytest.approx(np.expm1(intercept + slope * x0 - half_width))
    assert out.loc[0, "upper_80"] < out.loc[0, "upper_95"]
    assert out.loc[0, "model"] == "log_linear_trend"


def test_seasonal_terms_capture_a_yearly_pattern():
    months = np.arange(36)
    values = 100 * 1.01**months * np.where(months % 12 == 10, 1.3, 1.0)  # a November spike
    out = regression_forecast(monthly(values), 12)
    november = out[out["month_start"].dt.month == 11].iloc[0]
    october = out[out["month_start"].dt.month == 10].iloc[0]
    assert out.loc[0, "model"] == "log_linear_trend_seasonal"
    assert (1 + november["forecast"]) / (1 + october["forecast"]) == pytest.approx(1.3 * 1.01, 0.01)


@pytest.mark.parametrize("months", [8, 18, 30])
def test_a_falling_series_is_never_forecast_below_zero(months):
    # A launch cohort fading out, like CDNOW: a straight line would cross zero.
    values = np.maximum(1000 - 90.0 * np.arange(months), 0) + np.arange(months) % 3 * 5
    out = regression_forecast(monthly(values), 6)
    bounds = out[["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]]
    assert (bounds.to_numpy() >= 0).all()
    assert (out["lower_95"] <= out["lower_80"]).all()
    assert (out["lower_80"] <= out["forecast"]).all()
    assert (out["forecast"] <= out["upper_80"]).all()
    assert (out["upper_80"] <= out["upper_95"]).all()


def test_a_month_of_negative_net_revenue_counts_as_zero_and_says_so():
    out = regression_forecast(monthly([10.0, -5.0, 12.0, 13.0, 14.0, 15.0]), 2)
    assert (out[["forecast", "lower_95"]].to_numpy() >= 0).all()
    assert out["note"].str.contains("1 month.* negative net revenue.*2023-02", regex=True).all()
    assert (
        regression_forecast(monthly([10.0, 11.0, 12.0, 13.0, 14.0, 15.0]), 1)["note"].isna().all()
    )


def test_backtest_says_when_the_regression_loses():
    rng = np.random.default_rng(0)
    walk = 1000 + np.cumsum(rng.normal(0, 50, 40))  # a random walk: naive is hard to beat
    table = backtest(
        monthly(walk), ForecastSettings(horizon_months=2, backtest_min_train_months=12)
    )
    assert set(table["model"]) == {"regression", "naive", "seasonal_naive"}
    assert set(table["model_label"]) == {
        "Regression (trend and season)",
        "Naive (last month)",
        "Seasonal naive (same month last year)",
    }
    regression = table[table["model"] == "regression"].set_index("horizon_months")
    naive = table[table["model"] == "naive"].set_index("horizon_months")
    for horizon in (1, 2):
        if naive.loc[horizon, "mae"] < regression.loc[horizon, "mae"]:
            assert "loses to Naive (last month) on MAE" in regression.loc[horizon, "note"]
            assert "naive on" not in regression.loc[horizon, "note"]  # labels, not ids
            assert not regression.loc[horizon, "is_best"]
    assert table.groupby("horizon_months")["is_best"].sum().eq(1).all()


def test_backtest_on_a_clean_trend_prefers_the_regression():
    table = backtest(monthly(100 * 1.05 ** np.arange(30)), ForecastSettings())
    best = table[table["is_best"]]
    assert set(best["model"]) == {"regression"}
    assert table.loc[table["model"] == "regression", "note"].isna().all()


def test_months_without_orders_count_as_zero_and_nothing_to_forecast_is_typed():
    monthly_rows = pd.DataFrame(
        {
            "month_start": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-05-01"] * 3),
            "segment": ["A"] * 3 + ["B"] * 3 + ["C"] * 3,
            "revenue": [10.0, 20.0, 30.0] * 3,
        }
    )
    # Jan, Feb, (Mar, Apr without orders), May: 5 months, too few to forecast.
    assert len(complete_months(monthly_rows.groupby("month_start")["revenue"].sum())) == 5
    empty = forecast_by_segment(monthly_rows, ForecastSettings())
    assert empty.empty and "forecast" in empty.columns and empty["forecast"].dtype == float
    assert forecast_by_segment(monthly_rows.iloc[:0], ForecastSettings()).columns.tolist() == (
        empty.columns.tolist()
    )
