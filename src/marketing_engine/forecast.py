"""Monthly revenue forecast: log-scale regression on trend and month of year, backtested.

Revenue cannot go below zero, and real histories fall as well as rise (a
launch cohort fading out, a shop in decline): a straight line on revenue then
crosses zero. So the model is ordinary least squares (scikit-learn) on
log(1 + revenue), with a linear trend plus month-of-year indicators: trend and
seasonality are multiplicative. Prediction intervals are the classical OLS ones
on that scale, prediction +/- t(df) * sigma * sqrt(1 + x0' (X'X)^-1 x0) at 80%
and 95%, and every figure is mapped back with exp(x) - 1 (floored at 0, which
only touches values below one currency unit). Quantiles survive a monotone
transform, so the intervals keep their coverage; the point forecast is the
median of the predictive distribution, never below zero.
With fewer than 24 months of history the month-of-year terms are dropped
(each needs two observations to be estimated), leaving the trend.

The backtest refits at every origin (rolling origin) and compares the
regression with two baselines, naive (last month) and seasonal naive (same
month last year): MAE and MAPE per model and horizon. The best MAE per horizon
is flagged; wherever the regression loses on either metric, its note says so,
naming each model by its label (MODEL_LABELS), the words the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LinearRegression

from marketing_engine.settings import FromConfig


@dataclass(frozen=True)
class ForecastSettings(FromConfig):
    """Settings from the models' YAML `config:` (key `forecast`)."""

    config_key: ClassVar[str] = "forecast"
    horizon_months: int = 3
    backtest_min_train_months: int = 12


FORECAST_EMPTY = pd.DataFrame(
    {
        "month_start": pd.Series(dtype="datetime64[us]"),  # TIMESTAMP, as in the YAML
        "segment": pd.Series(dtype="string"),
        "forecast": pd.Series(dtype="float64"),
        "lower_80": pd.Series(dtype="float64"),
        "upper_80": pd.Series(dtype="float64"),
        "lower_95": pd.Series(dtype="float64"),
        "upper_95": pd.Series(dtype="float64"),
        "model": pd.Series(dtype="string"),
        "note": pd.Series(dtype="string"),
    }
)
# What each backtested model is, in the words a report reader sees (ids stay in `model`).
MODEL_LABELS = {
    "regression": "Regression (trend and season)",
    "naive": "Naive (last month)",
    "seasonal_naive": "Seasonal naive (same month last year)",
}
BACKTEST_EMPTY = pd.DataFrame(
    {
        "model": pd.Series(dtype="string"),
        "model_label": pd.Series(dtype="string"),
        "horizon_months": pd.Series(dtype="int64"),
        "origins": pd.Series(dtype="int64"),
        "mae": pd.Series(dtype="float64"),
        "mape": pd.Series(dtype="float64"),
        "is_best": pd.Series(dtype="bool"),
        "note": pd.Series(dtype="string"),
    }
)


def _design(months: pd.DatetimeIndex, origin: pd.Timestamp, seasonal: bool) -> np.ndarray:
    trend = ((months.year - origin.year) * 12 + (months.month - origin.month)).to_numpy(float)
    columns = [trend]
    if seasonal:
        columns += [(months.month == m).astype(float) for m in range(2, 13)]
    return np.column_stack(columns)


def complete_months(frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Index by every month start from the first to the last; a month without orders is 0."""
    frame = frame.sort_index()
    frame.index = pd.DatetimeIndex(frame.index)
    if frame.empty:
        return frame
    months = pd.date_range(frame.index.min(), frame.index.max(), freq="MS")
    return frame.reindex(months, fill_value=0.0)


def regression_forecast(history: pd.Series, horizon: int) -> pd.DataFrame:
    """Forecast `horizon` months after a monthly series indexed by month start.

    A month with negative net revenue (returns booked above sales) counts as 0,
    and the rows' note says so.
    """
    history = history.sort_index().astype(float)
    negative = history[history < 0]
    history = history.clip(lower=0.0)
    target = np.log1p(history.to_numpy())
    months = pd.DatetimeIndex(history.index)
    seasonal = len(history) >= 24
    x = _design(months, months[0], seasonal)
    model = LinearRegression().fit(x, target)
    future = pd.date_range(months[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    x_future = _design(future, months[0], seasonal)
    prediction = model.predict(x_future)

    design = np.column_stack([np.ones(len(x)), x])
    design_future = np.column_stack([np.ones(len(x_future)), x_future])
    dof = max(len(history) - design.shape[1], 1)
    residuals = target - model.predict(x)
    sigma = np.sqrt(residuals @ residuals / dof)
    inverse = np.linalg.pinv(design.T @ design)
    leverage = np.einsum("ij,jk,ik->i", design_future, inverse, design_future)
    spread = sigma * np.sqrt(1 + leverage)

    def back(values: np.ndarray) -> np.ndarray:
        return np.clip(np.expm1(values), 0.0, None)

    out = pd.DataFrame({"month_start": future, "forecast": back(prediction)})
    for level in (80, 95):
        t = stats.t.ppf(0.5 + level / 200, dof)
        out[f"lower_{level}"] = back(prediction - t * spread)
        out[f"upper_{level}"] = back(prediction + t * spread)
    out["model"] = "log_linear_trend_seasonal" if seasonal else "log_linear_trend"
    note = (
        f"{len(negative)} month(s) with negative net revenue (returns above sales), first "
        f"{negative.index[0]:%Y-%m}, counted as 0"
        if len(negative)
        else None
    )
    out["note"] = pd.Series([note] * len(out), dtype="string")
    return out


def _baseline(history: pd.Series, horizon: int, kind: str) -> np.ndarray:
    values = history.sort_index().to_numpy(float)
    if kind == "naive":
        return np.repeat(values[-1], horizon)
    if len(values) < 12:
        return np.full(horizon, np.nan)
    return np.array([values[len(values) - 12 + (h % 12)] for h in range(horizon)])


def backtest(series: pd.Series, settings: ForecastSettings) -> pd.DataFrame:
    """Rolling-origin MAE and MAPE for regression, naive and seasonal naive, per horizon."""
    series = series.sort_index().astype(float)
    errors = []
    for end in range(settings.backtest_min_train_months, len(series)):
        train = series.iloc[:end]
        actual = series.iloc[end : end + settings.horizon_months].to_numpy()
        horizon = len(actual)
        predictions = {
            "regression": regression_forecast(train, horizon)["forecast"].to_numpy(),
            "naive": _baseline(train, horizon, "naive"),
            "seasonal_naive": _baseline(train, horizon, "seasonal"),
        }
        for model, predicted in predictions.items():
            for h in range(horizon):
                if np.isnan(predicted[h]):
                    continue
                errors.append(
                    {
                        "model": model,
                        "horizon_months": h + 1,
                        "error": predicted[h] - actual[h],
                        "actual": actual[h],
                    }
                )
    if not errors:
        return BACKTEST_EMPTY.copy()
    frame = pd.DataFrame(errors)
    frame["abs_error"] = frame["error"].abs()
    frame["ape"] = frame["abs_error"] / frame["actual"].where(frame["actual"] != 0)
    table = frame.groupby(["model", "horizon_months"], as_index=False).agg(
        origins=("error", "size"), mae=("abs_error", "mean"), mape=("ape", "mean")
    )
    best = table.loc[table.groupby("horizon_months")["mae"].idxmin()].set_index("horizon_months")
    table["is_best"] = table.apply(
        lambda row: best.loc[row["horizon_months"], "model"] == row["model"], axis=1
    )
    table["note"] = pd.Series([None] * len(table), dtype="string")
    for _, group in table.groupby("horizon_months"):
        regression = group[group["model"] == "regression"].iloc[0]
        losses = []
        for row in group.itertuples():
            metrics = [
                metric.upper()
                for metric in ("mae", "mape")
                if row.model != "regression" and getattr(row, metric) < regression[metric]
            ]
            if metrics:
                losses.append(f"loses to {MODEL_LABELS[row.model]} on {' and '.join(metrics)}")
        if losses:
            table.loc[regression.name, "note"] = "; ".join(losses)
    table.insert(1, "model_label", table["model"].map(MODEL_LABELS).astype("string"))
    return table


def forecast_by_segment(monthly: pd.DataFrame, settings: ForecastSettings) -> pd.DataFrame:
    """Forecasts for the total and each segment; monthly has month_start, segment, revenue.

    A segment needs at least 6 months of history to be forecast.
    """
    if monthly.empty:
        return FORECAST_EMPTY.copy()
    parts = []
    pivot = monthly.pivot_table(
        index="month_start", columns="segment", values="revenue", aggfunc="sum", fill_value=0.0
    )
    pivot = complete_months(pivot)
    series = {"All customers": pivot.sum(axis=1)} | {name: pivot[name] for name in pivot}
    for segment, values in series.items():
        values = values[values.cumsum() > 0]  # from the segment's first revenue
        if len(values) < 6:
            continue
        part = regression_forecast(values, settings.horizon_months)
        part.insert(1, "segment", segment)
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else FORECAST_EMPTY.copy()
