"""Sales forecast: intervals by the OLS formula, honest backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from marketing_engine.forecast import ForecastSettings, backtest, regression_forecast


def monthly(values) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2023-01-01", periods=len(values), freq="MS"))


def test_trend_forecast_and_interval_match_the_textbook_formula():
    values = np.array([10.0, 12.0, 13.0, 15.0, 18.0, 19.0, 21.0, 22.0])
    out = regression_forecast(monthly(values), 1)
    t = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(t, values, 1)
    x0 = len(values)
    assert out.loc[0, "forecast"] == pytest.approx(intercept + slope * x0)
    residuals = values - (intercept + slope * t)
    sigma = np.sqrt((residuals**2).sum() / (len(values) - 2))
    se = sigma * np.sqrt(1 + 1 / len(values) + (x0 - t.mean()) ** 2 / ((t - t.mean()) ** 2).sum())
    half_width = stats.t.ppf(0.975, len(values) - 2) * se
    assert out.loc[0, "upper_95"] - out.loc[0, "forecast"] == pytest.approx(half_width)
    assert out.loc[0, "upper_80"] < out.loc[0, "upper_95"]
    assert out.loc[0, "model"] == "linear_trend"


def test_seasonal_terms_capture_a_yearly_pattern():
    months = np.arange(36)
    values = 100 + 2 * months + 30 * (months % 12 == 10)  # a November spike
    out = regression_forecast(monthly(values), 12)
    november = out[out["month_start"].dt.month == 11].iloc[0]
    october = out[out["month_start"].dt.month == 10].iloc[0]
    assert out.loc[0, "model"] == "linear_trend_seasonal"
    assert november["forecast"] - october["forecast"] == pytest.approx(32, abs=1e-6)


def test_backtest_says_when_the_regression_loses():
    rng = np.random.default_rng(0)
    walk = 1000 + np.cumsum(rng.normal(0, 50, 40))  # a random walk: naive is hard to beat
    table = backtest(
        monthly(walk), ForecastSettings(horizon_months=2, backtest_min_train_months=12)
    )
    assert set(table["model"]) == {"regression", "naive", "seasonal_naive"}
    regression = table[table["model"] == "regression"].set_index("horizon_months")
    naive = table[table["model"] == "naive"].set_index("horizon_months")
    for horizon in (1, 2):
        if naive.loc[horizon, "mae"] < regression.loc[horizon, "mae"]:
            assert "loses to naive on MAE" in regression.loc[horizon, "note"]
            assert not regression.loc[horizon, "is_best"]
    assert table.groupby("horizon_months")["is_best"].sum().eq(1).all()


def test_backtest_on_a_clean_trend_prefers_the_regression():
    table = backtest(monthly(100 + 5.0 * np.arange(30)), ForecastSettings())
    best = table[table["is_best"]]
    assert set(best["model"]) == {"regression"}
    assert table.loc[table["model"] == "regression", "note"].isna().all()
