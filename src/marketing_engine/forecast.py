"""Monthly revenue forecast: the model the backtest says is best, with empirical intervals.

Three candidate models forecast each series (the total and every segment):
naive (last month), seasonal naive (same month last year) and a regression of
log(1 + revenue) on a linear trend plus month-of-year indicators (scikit-learn
OLS; the month terms need 24+ months of history). Revenue cannot go below zero
and real histories fall as well as rise, hence the log scale.

Which model is published is decided per series by a rolling-origin backtest:
every model is refitted at every origin from `backtest_min_train_months` on and
forecasts 1..`horizon_months` ahead. The metric is the mean absolute error over
every (origin, horizon) pair that all candidates forecast (seasonal naive needs
12 months). The lowest wins; a tie (within 1e-9 relative) goes to the simpler
model, in the order of MODELS. The rows' note says which model was chosen and
why, with how many times larger each other candidate's error was.

Prediction intervals come from the chosen model's own backtest errors at each
horizon, not from a formula that assumes the model is right (the OLS interval
on the log scale reached hundreds of billions for sparse segments): the half
width at level L is the ceil((n + 1) L)-th smallest of the n absolute errors
(split-conformal), or the largest error when n is too small for that, which the
note says. Lower bounds are floored at 0. A horizon without backtest errors
borrows the widest width, scaled by sqrt(horizon). Finally every figure is
capped at CAP_MULTIPLE x the series' highest month of history, and the note
says when the cap bit: no published figure can exceed that.

With too little history for the configured backtest, the naive forecast is
published and its interval comes from the month-to-month changes seen (the
naive backtest from the second month on); the note says so. A series needs
MIN_HISTORY_MONTHS months from its first revenue to be forecast at all.

`backtest` publishes the per-horizon MAE and MAPE of the total for the report:
the best MAE per horizon is flagged (`is_best`), the model published for the
total too (`is_chosen`), and wherever the regression loses on either metric its
note says so, naming each model by its label (MODEL_LABELS).
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
        "model_label": pd.Series(dtype="string"),
        "note": pd.Series(dtype="string"),
    }
)
# Candidates, simplest first: a tie in the backtest goes to the earlier one.
MODELS = ("naive", "seasonal_naive", "regression")
# No published figure exceeds this multiple of the series' highest month.
CAP_MULTIPLE = 3.0
# Months from a series' first revenue before it is forecast at all.
MIN_HISTORY_MONTHS = 6
LEVELS = (80, 95)
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
        "is_chosen": pd.Series(dtype="bool"),
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


def _regression_point(history: np.ndarray, months: pd.DatetimeIndex, horizon: int) -> np.ndarray:
    """The regression's point forecast (as regression_forecast), by least squares: fast enough
    to refit at every backtest origin."""
    history = np.clip(history, 0.0, None)
    seasonal = len(history) >= 24
    x = np.column_stack([np.ones(len(history)), _design(months, months[0], seasonal)])
    future = pd.date_range(months[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    x_future = np.column_stack([np.ones(horizon), _design(future, months[0], seasonal)])
    coefficients = np.linalg.lstsq(x, np.log1p(history), rcond=None)[0]
    return np.clip(np.expm1(x_future @ coefficients), 0.0, None)


def _baseline(history: pd.Series | np.ndarray, horizon: int, kind: str) -> np.ndarray:
    values = np.asarray(history, dtype=float)
    if kind == "naive":
        return np.repeat(values[-1], horizon)
    if len(values) < 12:
        return np.full(horizon, np.nan)
    return np.array([values[len(values) - 12 + (h % 12)] for h in range(horizon)])


def _point(values: np.ndarray, months: pd.DatetimeIndex, horizon: int, model: str) -> np.ndarray:
    if model == "regression":
        return _regression_point(values, months, horizon)
    return _baseline(values, horizon, model)


def backtest_errors(
    series: pd.Series, horizon: int, min_train: int, models: tuple[str, ...] = MODELS
) -> pd.DataFrame:
    """Rolling-origin forecasts: one row per model, origin (months of training) and horizon,
    with the prediction, the actual and the error (prediction - actual)."""
    series = series.sort_index().astype(float)
    values = series.to_numpy()
    months = pd.DatetimeIndex(series.index)
    rows = []
    for end in range(max(min_train, 1), len(values)):
        actual = values[end : end + horizon]
        for model in models:
            predicted = _point(values[:end], months[:end], len(actual), model)
            for h in range(len(actual)):
                if not np.isnan(predicted[h]):
                    rows.append((model, end, h + 1, predicted[h], actual[h]))
    frame = pd.DataFrame(
        rows, columns=["model", "origin", "horizon_months", "predicted", "actual"]
    ).astype({"origin": "int64", "horizon_months": "int64", "predicted": float, "actual": float})
    frame["error"] = frame["predicted"] - frame["actual"]
    return frame


@dataclass(frozen=True)
class Choice:
    """The model the backtest picked, each candidate's score and how many forecasts it saw."""

    model: str
    scores: dict[str, float]
    forecasts: int


def choose_model(errors: pd.DataFrame) -> Choice | None:
    """Lowest mean absolute error over the (origin, horizon) pairs every candidate forecast;
    ties go to the simpler model (MODELS order). None without any backtest error."""
    candidates = [m for m in MODELS if (errors["model"] == m).any()]
    common = errors.iloc[:0]
    while candidates and common.empty:
        usable = errors[errors["model"].isin(candidates)]
        counts = usable.groupby(["origin", "horizon_months"])["model"].transform("size")
        common = usable[counts == len(candidates)]
        if common.empty:
            # only seasonal naive can lack forecasts (it needs 12 months): compare without it
            candidates = (
                [m for m in candidates if m != "seasonal_naive"]
                if ("seasonal_naive" in candidates)
                else []
            )
    if common.empty:
        return None
    scores = common.assign(abs_error=common["error"].abs()).groupby("model")["abs_error"].mean()
    best = scores.min()
    tolerance = 1e-9 * max(abs(best), 1.0)
    model = next(m for m in MODELS if m in scores.index and scores[m] <= best + tolerance)
    forecasts = int(len(common) / len(candidates))
    return Choice(model, {m: float(scores[m]) for m in MODELS if m in scores.index}, forecasts)


def _half_widths(errors: pd.Series, horizons: pd.Series, horizon: int) -> tuple[dict, list[str]]:
    """Half width per (level, horizon) from absolute errors; notes where they are thin."""
    notes = []
    widths: dict[tuple[int, int], float] = {}
    observed = {h: np.sort(errors[horizons == h].abs().to_numpy()) for h in range(1, horizon + 1)}
    observed = {h: e for h, e in observed.items() if len(e)}
    thin = set()
    for h, absolute in observed.items():
        for level in LEVELS:
            rank = int(np.ceil((len(absolute) + 1) * level / 100))
            if rank > len(absolute):
                thin.add(h)
            widths[(level, h)] = float(absolute[min(rank, len(absolute)) - 1])
    if thin:
        counts = ", ".join(f"{len(observed[h])} at {h} month(s) ahead" for h in sorted(thin))
        notes.append(
            f"Few backtest errors ({counts}): the widest interval is the largest error seen "
            "and may be too narrow"
        )
    missing = [h for h in range(1, horizon + 1) if h not in observed]
    if missing and observed:
        last = max(observed)
        for h in missing:
            for level in LEVELS:
                widest = max(widths[(level, k)] for k in observed)
                widths[(level, h)] = widest * np.sqrt(h / last)
        notes.append(
            f"No backtest errors {min(missing)}+ months ahead: their intervals widen the widest "
            f"one by sqrt(months ahead / {last})"
        )
    if not observed:
        notes.append("No backtest errors at all: the interval is the forecast alone, not a range")
    return widths, notes


def forecast_series(history: pd.Series, settings: ForecastSettings) -> pd.DataFrame:
    """Forecast one monthly series (indexed by month start) with the model its backtest picks
    and intervals from that model's backtest errors; the note says what was done and why."""
    history = history.sort_index().astype(float)
    notes = []
    negative = history[history < 0]
    if len(negative):
        notes.append(
            f"{len(negative)} month(s) with negative net revenue (returns above sales), first "
            f"{negative.index[0]:%Y-%m}, counted as 0"
        )
    history = history.clip(lower=0.0)
    horizon = settings.horizon_months
    errors = backtest_errors(history, horizon, settings.backtest_min_train_months)
    choice = choose_model(errors) if not errors.empty else None
    if choice is None:
        model = "naive"
        errors = backtest_errors(history, horizon, 1, ("naive",))
        notes.insert(
            0,
            f"Only {len(history)} months of history, too few to backtest the models against "
            f"each other (that needs more than {settings.backtest_min_train_months}): "
            f"{MODEL_LABELS[model]}, the simplest, is used; its interval comes from the "
            "month-to-month changes seen",
        )
    else:
        model = choice.model
        best = choice.scores[model]
        others = ", ".join(
            f"{MODEL_LABELS[m]} {score / best:.1f}x as much"
            if best > 0
            else f"{MODEL_LABELS[m]} more"
            for m, score in choice.scores.items()
            if m != model
        )
        why = (
            f"{MODEL_LABELS[model]} chosen: the lowest mean absolute error over "
            f"{choice.forecasts} rolling-origin backtest forecasts 1-{horizon} months ahead"
            + (f"; {others}" if others else "")
        )
        if model != "regression" and "regression" in choice.scores:
            why += ". The regression lost, so its figures are not published"
        notes.insert(0, why)
    chosen = errors[errors["model"] == model]
    widths, interval_notes = _half_widths(chosen["error"], chosen["horizon_months"], horizon)
    notes += interval_notes

    months = pd.DatetimeIndex(history.index)
    point = _point(history.to_numpy(), months, horizon, model)
    future = pd.date_range(months[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    out = pd.DataFrame({"month_start": future, "forecast": point})
    for level in LEVELS:
        width = np.array([widths.get((level, h), 0.0) for h in range(1, horizon + 1)])
        out[f"lower_{level}"] = np.clip(point - width, 0.0, None)
        out[f"upper_{level}"] = point + width
    figures = ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    cap = CAP_MULTIPLE * float(history.max())
    if (out[figures].to_numpy() > cap).any():
        notes.append(
            f"Figures above {CAP_MULTIPLE:g} x the highest month of history are capped there"
        )
        out[figures] = out[figures].clip(upper=cap)
    out["model"] = pd.Series([model] * len(out), dtype="string")
    out["model_label"] = pd.Series([MODEL_LABELS[model]] * len(out), dtype="string")
    out["note"] = pd.Series([". ".join(notes)] * len(out), dtype="string")
    return out


def backtest(series: pd.Series, settings: ForecastSettings) -> pd.DataFrame:
    """Rolling-origin MAE and MAPE for regression, naive and seasonal naive, per horizon.

    Months of negative net revenue count as 0, as in the forecast; `is_chosen` flags the
    model forecast_series publishes for this series.
    """
    series = series.sort_index().astype(float).clip(lower=0.0)
    frame = backtest_errors(series, settings.horizon_months, settings.backtest_min_train_months)
    if frame.empty:
        return BACKTEST_EMPTY.copy()
    choice = choose_model(frame)
    frame["abs_error"] = frame["error"].abs()
    frame["ape"] = frame["abs_error"] / frame["actual"].where(frame["actual"] != 0)
    table = frame.groupby(["model", "horizon_months"], as_index=False).agg(
        origins=("error", "size"), mae=("abs_error", "mean"), mape=("ape", "mean")
    )
    best = table.loc[table.groupby("horizon_months")["mae"].idxmin()].set_index("horizon_months")
    table["is_best"] = table.apply(
        lambda row: best.loc[row["horizon_months"], "model"] == row["model"], axis=1
    ).astype(bool)
    table["is_chosen"] = table["model"] == (choice.model if choice else "naive")
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


def series_by_segment(monthly: pd.DataFrame) -> dict[str, pd.Series]:
    """The monthly series forecast: 'All customers' (the total) and each segment, every month
    from the series' first revenue on (months without orders are 0)."""
    if monthly.empty:
        return {}
    pivot = monthly.pivot_table(
        index="month_start", columns="segment", values="revenue", aggfunc="sum", fill_value=0.0
    )
    pivot = complete_months(pivot)
    series = {"All customers": pivot.sum(axis=1)} | {name: pivot[name] for name in pivot}
    return {name: values[values.cumsum() > 0] for name, values in series.items()}


def forecast_by_segment(monthly: pd.DataFrame, settings: ForecastSettings) -> pd.DataFrame:
    """Forecasts for the total and each segment; monthly has month_start, segment, revenue.

    A series needs MIN_HISTORY_MONTHS months from its first revenue to be forecast.
    """
    parts = []
    for segment, values in series_by_segment(monthly).items():
        if len(values) < MIN_HISTORY_MONTHS:
            continue
        part = forecast_series(values, settings)
        part.insert(1, "segment", segment)
        parts.append(part)
    if not parts:
        return FORECAST_EMPTY.copy()
    return pd.concat(parts, ignore_index=True)[FORECAST_EMPTY.columns.tolist()]
