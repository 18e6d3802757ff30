"""Sales forecast: the backtest picks the published model, intervals from its backtest errors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from marketing_engine.forecast import (
    CAP_MULTIPLE,
    MODEL_LABELS,
    ForecastSettings,
    backtest,
    complete_months,
    forecast_by_segment,
    forecast_series,
    regression_forecast,
    series_by_segment,
)

FIGURES = ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]


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


def assert_ordered(out: pd.DataFrame) -> None:
    assert (out[FIGURES].to_numpy() >= 0).all()
    assert (out["lower_95"] <= out["lower_80"]).all()
    assert (out["lower_80"] <= out["forecast"]).all()
    assert (out["forecast"] <= out["upper_80"]).all()
    assert (out["upper_80"] <= out["upper_95"]).all()


def conformal_width(absolute_errors: list[float], level: float) -> float:
    """Written apart from the module: ceil((n + 1) level)-th smallest, else the largest."""
    ordered = sorted(absolute_errors)
    rank = int(np.ceil((len(ordered) + 1) * level))
    return ordered[min(rank, len(ordered)) - 1]


def test_on_a_random_walk_the_naive_forecast_is_published_with_its_own_error_interval():
    rng = np.random.default_rng(0)
    walk = 1000 + np.cumsum(rng.normal(0, 50, 40))
    settings = ForecastSettings(horizon_months=2, backtest_min_train_months=12)
    out = forecast_series(monthly(walk), settings)
    assert (out["model"] == "naive").all()
    assert (out["model_label"] == "Naive (last month)").all()
    assert out["forecast"].tolist() == pytest.approx([walk[-1]] * 2)
    note = out.loc[0, "note"]
    assert note.startswith("Naive (last month) chosen: the lowest mean absolute error")
    assert "Regression (trend and season)" in note and "not published" in note
    # the seasonal naive's error relative to the naive's, recomputed over the same forecasts
    pairs = [(end, h) for end in range(12, len(walk)) for h in (1, 2) if end + h <= len(walk)]
    naive_mae = np.mean([abs(walk[end - 1] - walk[end + h - 1]) for end, h in pairs])
    seasonal_mae = np.mean([abs(walk[end - 13 + h] - walk[end + h - 1]) for end, h in pairs])
    assert f"Seasonal naive (same month last year) {seasonal_mae / naive_mae:.1f}x as much" in note
    assert f"over {len(pairs)} rolling-origin backtest forecasts 1-2 months ahead" in note
    # the interval: naive errors recomputed by hand from origin 12 on
    for h in (1, 2):
        errors = [abs(walk[end + h - 1] - walk[end - 1]) for end in range(12, len(walk) - h + 1)]
        row = out.iloc[h - 1]
        assert row["upper_95"] - row["forecast"] == pytest.approx(conformal_width(errors, 0.95))
        assert row["upper_80"] - row["forecast"] == pytest.approx(conformal_width(errors, 0.80))
        assert row["lower_95"] == pytest.approx(max(walk[-1] - conformal_width(errors, 0.95), 0))
    table = backtest(monthly(walk), settings)
    assert set(table.loc[table["is_chosen"], "model"]) == {"naive"}


def test_on_a_clean_trend_the_regression_is_published_and_matches_its_own_fit():
    values = 100 * 1.05 ** np.arange(30)
    out = forecast_series(monthly(values), ForecastSettings())
    assert (out["model"] == "regression").all()
    assert out["model_label"].iloc[0] == MODEL_LABELS["regression"]
    assert out["forecast"].to_numpy() == pytest.approx(
        regression_forecast(monthly(values), 3)["forecast"].to_numpy()
    )
    assert out.loc[0, "note"].startswith("Regression (trend and season) chosen")
    assert "not published" not in out.loc[0, "note"]
    # a near-perfect fit: the interval is narrow (its errors are tiny)
    assert (out["upper_95"] / out["forecast"] < 1.01).all()
    assert_ordered(out)
    table = backtest(monthly(values), ForecastSettings())
    assert set(table.loc[table["is_chosen"], "model"]) == {"regression"}


def test_a_tie_goes_to_the_simpler_model():
    # a flat series: every model forecasts it exactly, so naive (the simplest) wins
    out = forecast_series(monthly([500.0] * 30), ForecastSettings())
    assert (out["model"] == "naive").all()
    assert out[FIGURES].to_numpy() == pytest.approx(500.0)


def test_a_yearly_pattern_without_trend_chooses_the_seasonal_naive():
    values = np.tile([100, 120, 90, 300, 80, 110, 95, 105, 400, 100, 150, 600.0], 3)
    out = forecast_series(monthly(values), ForecastSettings())
    assert (out["model"] == "seasonal_naive").all()
    assert out["forecast"].tolist() == pytest.approx(values[-12:-9].tolist())


def test_a_sparse_segment_can_no_longer_reach_billions():
    # Mostly empty months with rare large orders: on the log scale the OLS interval explodes.
    values = np.zeros(30)
    values[[0, 7, 13, 22, 29]] = [50_000, 80_000, 20_000, 90_000, 60_000]
    old = regression_forecast(monthly(values), 3)
    assert old["upper_95"].max() > 100 * values.max()  # the failure this guards against
    out = forecast_series(monthly(values), ForecastSettings())
    assert out["upper_95"].max() <= CAP_MULTIPLE * values.max()
    assert_ordered(out)


def test_figures_above_the_cap_are_capped_and_the_note_says_so():
    values = 10 * 2.0 ** np.arange(14)  # doubling monthly: the regression runs far ahead
    out = forecast_series(monthly(values), ForecastSettings(horizon_months=3))
    assert out["model"].iloc[0] == "regression"
    assert out[FIGURES].to_numpy().max() == pytest.approx(CAP_MULTIPLE * values.max())
    assert "capped there" in out.loc[0, "note"]
    assert_ordered(out)


@pytest.mark.parametrize("months", [6, 7, 12, 13, 14, 15, 18, 40])
@pytest.mark.parametrize("start", ["1990-01-01", "1997-01-01", "2023-06-01"])
def test_any_history_length_gives_ordered_bounded_deterministic_figures(months, start):
    rng = np.random.default_rng(months)
    values = rng.gamma(2.0, 500.0, months)
    history = pd.Series(values, index=pd.date_range(start, periods=months, freq="MS"))
    settings = ForecastSettings()
    out = forecast_series(history, settings)
    assert (
        len(out) == 3 and out["month_start"].iloc[0] == history.index[-1] + pd.offsets.MonthBegin()
    )
    assert_ordered(out)
    assert out["upper_95"].max() <= CAP_MULTIPLE * values.max()
    assert out["note"].notna().all() and out["model_label"].notna().all()
    pd.testing.assert_frame_equal(out, forecast_series(history, settings))
    if months <= settings.backtest_min_train_months:
        assert (out["model"] == "naive").all()
        assert out.loc[0, "note"].startswith(f"Only {months} months of history")
        assert backtest(history, settings).empty


def test_short_history_naive_interval_comes_from_month_to_month_changes():
    values = [100.0, 130.0, 90.0, 120.0, 110.0, 140.0, 125.0]
    out = forecast_series(monthly(values), ForecastSettings())
    changes = [abs(b - a) for a, b in itertools.pairwise(values)]
    assert out.loc[0, "upper_95"] - out.loc[0, "forecast"] == pytest.approx(max(changes))
    assert "Few backtest errors" in out.loc[0, "note"]


def test_every_series_of_forecast_by_segment_gets_its_own_model_and_label():
    months = pd.date_range("2022-01-01", periods=30, freq="MS")
    rng = np.random.default_rng(3)
    rows = pd.DataFrame(
        {
            "month_start": list(months) * 2,
            "segment": ["Trend"] * 30 + ["Walk"] * 30,
            "revenue": list(100 * 1.05 ** np.arange(30))
            + list(1000 + np.cumsum(rng.normal(0, 80, 30))),
        }
    )
    out = forecast_by_segment(rows, ForecastSettings())
    assert out.columns.tolist() == [
        "month_start",
        "segment",
        *FIGURES,
        "model",
        "model_label",
        "note",
    ]
    chosen = out.groupby("segment")["model"].first()
    assert chosen["Trend"] == "regression"
    assert chosen["Walk"] == "naive"
    assert set(chosen.index) == {"All customers", "Trend", "Walk"}
    assert_ordered(out)


def test_the_backtested_total_is_the_forecast_total_from_its_first_revenue():
    rows = pd.DataFrame(
        {
            "month_start": pd.date_range("2022-01-01", periods=20, freq="MS"),
            "segment": "A",
            "revenue": [0.0, -5.0] + [100.0 + i for i in range(18)],
        }
    )
    total = series_by_segment(rows)["All customers"]
    assert total.index[0] == pd.Timestamp("2022-03-01") and len(total) == 18
    assert series_by_segment(rows.iloc[:0]) == {}
