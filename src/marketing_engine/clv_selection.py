"""Choose the customer-base model by holdout error, and show why.

Every model in MODELS (BG/NBD, MBG/NBD, Pareto/NBD) is fitted on the
calibration period (purchases up to calibration_end) and predicts each
customer's repeat purchases in the holdout period after it. The metric is the
holdout MAE: the mean over calibration customers of |predicted - actual|
repeat purchases. The converged model with the lowest MAE is chosen (ties:
smaller absolute bias, then the order of MODELS); bias = mean predicted -
mean actual. With no converged model, or no calibration customers, BG/NBD is
used and the `note` says the choice was not made by holdout.

Calibration tables compare mean predicted and mean actual holdout purchases
by calibration repeat purchases (0..6, 7+) and by decile of the prediction
(ntile(10) over predicted, customer_id: decile 1 the lowest), the way the
BTYD literature plots them. Predictions are computed once per distinct
(x, t_x, T) triple.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from marketing_engine import clv, clv_mbgnbd, clv_pareto_nbd
from marketing_engine.clv import (
    DAYS_PER,
    ClvSettings,
    Fit,
    distinct_rows,
    distinct_triples,
    in_units,
)
from marketing_engine.clv_sample import fit_rows, sample_note, with_sample_columns
from marketing_engine.memo import OneSlotCache


@dataclass(frozen=True)
class CountingModel:
    """A purchase-count model: how to fit it and what it predicts."""

    name: str
    label: str
    params: type
    fit: Callable[..., Fit]
    p_alive: Callable[..., np.ndarray]
    purchases_if_alive: Callable[..., np.ndarray]

    def expected_purchases(self, params, t, x, t_x, T) -> np.ndarray:
        """Expected purchases in the next t = purchases if alive x P(alive)."""
        return self.purchases_if_alive(params, t, x, T) * self.p_alive(params, x, t_x, T)


MODELS: dict[str, CountingModel] = {
    "bg_nbd": CountingModel(
        "bg_nbd", "BG/NBD", clv.BgNbdParams, clv.fit_bgnbd, clv.p_alive, clv.purchases_if_alive
    ),
    "mbg_nbd": CountingModel(
        "mbg_nbd",
        "MBG/NBD",
        clv_mbgnbd.MbgNbdParams,
        clv_mbgnbd.fit_mbgnbd,
        clv_mbgnbd.mbgnbd_p_alive,
        clv_mbgnbd.mbgnbd_purchases_if_alive,
    ),
    "pareto_nbd": CountingModel(
        "pareto_nbd",
        "Pareto/NBD",
        clv_pareto_nbd.ParetoNbdParams,
        clv_pareto_nbd.fit_pareto_nbd,
        clv_pareto_nbd.pareto_nbd_p_alive,
        clv_pareto_nbd.pareto_nbd_purchases_if_alive,
    ),
}
DEFAULT_MODEL = "bg_nbd"
PARAMETER_NAMES = ["r", "alpha", "a", "b", "s", "beta"]
FREQUENCY_GROUPS = [*(str(i) for i in range(7)), "7+"]

COMPARISON_TYPES = {
    "model": "string",
    "model_label": "string",
    **dict.fromkeys(PARAMETER_NAMES, "float64"),
    "log_likelihood": "float64",
    "is_converged": "bool",
    "iterations": "int64",
    "calibration_customers": "int64",
    "holdout_days": "int64",
    "mean_predicted": "float64",
    "mean_actual": "float64",
    "holdout_mae": "float64",
    "holdout_bias": "float64",
    "holdout_rmse": "float64",
    "selection_metric": "string",
    "is_chosen": "bool",
    "message": "string",
    "note": "string",
    "fit_sample_size": "int64",
    "sample_note": "string",
}
CALIBRATION_TYPES = {
    "model": "string",
    "grouping": "string",
    "group_label": "string",
    "group_order": "int64",
    "customers": "int64",
    "mean_predicted": "float64",
    "mean_actual": "float64",
    "is_chosen": "bool",
}
PREDICTION_TYPES = {
    "customer_id": "string",
    "model": "string",
    "calibration_purchases": "int64",
    "predicted_purchases": "float64",
    "holdout_purchases": "int64",
    "predicted_decile": "int64",
}


def predict(model: CountingModel, fit: Fit, horizon, x, t_x, T) -> np.ndarray:
    """Expected purchases over `horizon` per customer: P(alive) once per distinct
    (x, t_x, T), purchases-if-alive once per distinct (x, T, horizon)."""
    horizon = np.broadcast_to(np.asarray(horizon, dtype=float), np.shape(x))
    if not len(horizon):
        return np.zeros(0)
    alive = per_distinct(lambda k: model.p_alive(fit.params, k[:, 0], k[:, 1], k[:, 2]), x, t_x, T)
    if_alive = per_distinct(
        lambda k: model.purchases_if_alive(fit.params, k[:, 2], k[:, 0], k[:, 1]), x, T, horizon
    )
    return alive * if_alive


def per_distinct(function, *columns) -> np.ndarray:
    """function(distinct rows of the stacked columns), mapped back to every row."""
    keys = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, inverse = distinct_rows(keys)
    return function(unique)[inverse]


def deciles(predicted: np.ndarray, customer_ids: np.ndarray) -> np.ndarray:
    """ntile(10) over (predicted, customer_id): the first n % 10 deciles get one more."""
    n = len(predicted)
    if not n:
        return np.zeros(0, dtype=int)
    order = np.lexsort((customer_ids.astype(str), predicted))
    sizes = np.full(10, n // 10) + (np.arange(10) < n % 10)
    labels = np.repeat(np.arange(1, 11), sizes)
    result = np.empty(n, dtype=int)
    result[order] = labels
    return result


@dataclass(frozen=True)
class Comparison:
    table: pd.DataFrame  # one row per model
    calibration: pd.DataFrame  # model x grouping x group
    predictions: pd.DataFrame  # chosen model, one row per calibration customer
    chosen: str
    # Every model's calibration-period fit, for clv_holdout_validation to reuse.
    fits: dict[str, Fit] = field(default_factory=dict)


_COMPARE_CACHE = OneSlotCache()


def compare(calibration: pd.DataFrame, settings: ClvSettings) -> Comparison:
    """Fit every model on the calibration period and score the holdout (module docstring).

    The fits use the rows flagged `is_in_fit_sample` (clv_sample.read_calibration: the
    seeded sample chosen in SQL), every row when the frame has no such column; the
    holdout is predicted for every row. Memoized: the comparison, calibration and
    prediction marts share one fit, whatever order DuckDB returned each one's rows in
    (the key is taken in customer_id order).
    """
    calibration = calibration.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return _COMPARE_CACHE.get_or_compute(
        calibration, settings, lambda: _compare(calibration, settings)
    )


def chosen_model(comparison: pd.DataFrame) -> str:
    """The model clv_model_comparison marks as chosen (BG/NBD when it is empty)."""
    chosen = comparison.loc[comparison["is_chosen"].fillna(False).astype(bool), "model"]
    return str(chosen.iloc[0]) if len(chosen) else DEFAULT_MODEL


def chosen_start(comparison: pd.DataFrame) -> tuple[float, ...] | None:
    """The chosen model's calibration parameters, where the full-history fit starts."""
    rows = comparison[comparison["is_chosen"].fillna(False).astype(bool)]
    if rows.empty or not bool(rows["is_converged"].iloc[0]):
        return None
    row = rows.iloc[0]
    names = [f.name for f in fields(MODELS[str(row["model"])].params)]
    values = [row[name] for name in names]
    return tuple(float(v) for v in values) if all(pd.notna(values)) else None


def _compare(calibration: pd.DataFrame, settings: ClvSettings) -> Comparison:
    calibration = calibration.sort_values("customer_id").reset_index(drop=True)
    x, t_x, T = in_units(calibration, settings.time_unit)
    # The fits use the seeded sample only; the holdout is predicted for everyone.
    fitting = fit_rows(calibration)
    ux, ut_x, uT, weights, _ = distinct_triples(*in_units(fitting, settings.time_unit))
    actual = calibration["holdout_purchases"].to_numpy(float)
    horizon = calibration["holdout_days"].to_numpy(float) / DAYS_PER[settings.time_unit]
    holdout_days = int(calibration["holdout_days"].iloc[0]) if len(calibration) else 0
    rows, predicted_by_model = [], {}
    fits: dict[str, Fit] = {}
    for model in MODELS.values():
        fit = model.fit(ux, ut_x, uT, weights, start=_warm_start(model.name, fits))
        fits[model.name] = fit
        row = {
            "model": model.name,
            "model_label": model.label,
            **dict.fromkeys(PARAMETER_NAMES),
            **asdict(fit.params),
            "log_likelihood": fit.log_likelihood if fit.n_customers else None,
            "is_converged": fit.converged,
            "iterations": fit.iterations,
            "calibration_customers": len(calibration),
            "holdout_days": holdout_days,
            "selection_metric": "holdout_mae",
            "message": fit.message,
        }
        if fit.converged and len(calibration):
            predicted = predict(model, fit, horizon, x, t_x, T)
            predicted_by_model[model.name] = predicted
            error = predicted - actual
            row |= {
                "mean_predicted": float(predicted.mean()),
                "mean_actual": float(actual.mean()),
                "holdout_mae": float(np.abs(error).mean()),
                "holdout_bias": float(error.mean()),
                "holdout_rmse": float(np.sqrt((error**2).mean())),
            }
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in COMPARISON_TYPES:
        if column not in table:
            table[column] = None
    chosen, note = _choose(table)
    table["is_chosen"] = table["model"] == chosen
    table["note"] = [note if is_chosen else None for is_chosen in table["is_chosen"]]
    others = "are predicted in the holdout from the fitted parameters"
    table = with_sample_columns(
        table,
        len(fitting),
        sample_note(len(fitting), len(calibration), others, "calibration customers"),
    )
    table = table[list(COMPARISON_TYPES)].astype(COMPARISON_TYPES)
    calibration_rows = []
    for name, predicted in predicted_by_model.items():
        calibration_rows += _calibration_rows(
            name, name == chosen, x, predicted, actual, calibration["customer_id"].to_numpy()
        )
    calibration_table = _typed(pd.DataFrame(calibration_rows), CALIBRATION_TYPES)
    if chosen in predicted_by_model:
        predicted = predicted_by_model[chosen]
        predictions = pd.DataFrame(
            {
                "customer_id": calibration["customer_id"].astype(str),
                "model": chosen,
                "calibration_purchases": x.astype(int),
                "predicted_purchases": predicted,
                "holdout_purchases": actual.astype(int),
                "predicted_decile": deciles(predicted, calibration["customer_id"].to_numpy()),
            }
        )
    else:
        predictions = pd.DataFrame()
    return Comparison(
        table, calibration_table, _typed(predictions, PREDICTION_TYPES), chosen, dict(fits)
    )


def _warm_start(name: str, fits: dict[str, Fit]) -> tuple[float, ...] | None:
    """MBG/NBD and Pareto/NBD start from the converged BG/NBD fit: same purchase-rate
    gamma, similar dropout. Only where the search starts: the optimum is the same."""
    bgnbd = fits.get("bg_nbd")
    if bgnbd is None or not bgnbd.converged:
        return None
    r, alpha, a, b = (bgnbd.params.r, bgnbd.params.alpha, bgnbd.params.a, bgnbd.params.b)
    if name == "mbg_nbd":
        return (r, alpha, a, b)
    if name == "pareto_nbd":
        return (r, alpha, 1.0, alpha)
    return None


def _typed(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in types.items()})
    return frame[list(types)].astype(types)


def _choose(table: pd.DataFrame) -> tuple[str, str]:
    """The converged model with the lowest holdout MAE, and a sentence saying why."""
    usable = table[table["is_converged"] & table["holdout_mae"].notna()].copy()
    if usable.empty:
        reason = (
            "no calibration customers"
            if not int(table["calibration_customers"].iloc[0])
            else "no model converged on the calibration period"
        )
        return DEFAULT_MODEL, (
            f"not chosen by holdout ({reason}): {MODELS[DEFAULT_MODEL].label} is used by default"
        )
    usable["order"] = range(len(usable))
    usable["abs_bias"] = usable["holdout_bias"].abs()
    best = usable.sort_values(["holdout_mae", "abs_bias", "order"]).iloc[0]
    others = usable[usable["model"] != best["model"]]
    versus = ", ".join(f"{row.model_label} {row.holdout_mae:.4f}" for row in others.itertuples())
    return str(best["model"]), (
        f"chosen by the lowest holdout MAE of repeat purchases per customer: "
        f"{best['model_label']} {best['holdout_mae']:.4f}" + (f" vs {versus}" if versus else "")
    )


def _calibration_rows(name, is_chosen, x, predicted, actual, customer_ids) -> list[dict]:
    frame = pd.DataFrame({"x": x, "predicted": predicted, "actual": actual})
    frame["frequency"] = np.minimum(frame["x"], 7).astype(int)
    frame["decile"] = deciles(predicted, customer_ids)
    rows = []
    for grouping, column in (
        ("calibration_purchases", "frequency"),
        ("predicted_decile", "decile"),
    ):
        for value, part in frame.groupby(column, sort=True):
            number = int(value)
            label = FREQUENCY_GROUPS[number] if column == "frequency" else str(number)
            rows.append(
                {
                    "model": name,
                    "grouping": grouping,
                    "group_label": label,
                    "group_order": number,
                    "customers": len(part),
                    "mean_predicted": float(part["predicted"].mean()),
                    "mean_actual": float(part["actual"].mean()),
                    "is_chosen": is_chosen,
                }
            )
    return rows
