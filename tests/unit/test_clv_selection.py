"""Model choice by holdout: the metric, the tie-breaks, the calibration tables, the fallback."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from marketing_engine.clv import ClvSettings
from marketing_engine.clv_selection import (
    MODELS,
    _choose,
    chosen_model,
    chosen_start,
    compare,
    deciles,
)


def _calibration(customers: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Customers drawn from BG/NBD (weekly rates), 52 calibration weeks, 26 holdout weeks."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.6, 1 / 4.0, customers)
    dropout = rng.beta(0.8, 2.5, customers)
    t_weeks = rng.integers(1, 52, customers).astype(float)
    alive_for = rng.geometric(dropout)
    arrivals = rng.poisson(rate * t_weeks)
    x = np.minimum(arrivals, alive_for - 1)
    last = np.where(x > 0, rng.beta(np.maximum(x, 1), np.maximum(arrivals - x, 0) + 1), 0)
    still_alive = arrivals < alive_for
    holdout = np.where(still_alive, rng.poisson(rate * 26), 0)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(customers)],
            "x": x,
            "t_x_days": np.floor(last * t_weeks * 7),
            "t_days": t_weeks * 7,
            "mean_repeat_value": np.where(x > 0, 20.0, np.nan),
            "first_value": 20.0,
            "holdout_purchases": holdout,
            "holdout_days": 182,
            "calibration_end": pd.Timestamp("2024-06-30"),
        }
    )


@pytest.fixture(scope="module")
def comparison():
    return compare(_calibration(), ClvSettings())


def test_every_model_is_compared_and_the_lowest_holdout_mae_is_chosen(comparison):
    table = comparison.table.set_index("model")
    assert list(table.index) == list(MODELS)
    assert table["is_converged"].all()
    calibration = _calibration()
    actual = calibration["holdout_purchases"].to_numpy(float)
    best = table["holdout_mae"].idxmin()
    assert comparison.chosen == best and table.loc[best, "is_chosen"]
    assert table["is_chosen"].sum() == 1
    # MAE, bias and RMSE are the per-customer figures of the chosen model's predictions.
    predicted = comparison.predictions["predicted_purchases"].to_numpy()
    assert table.loc[best, "holdout_mae"] == pytest.approx(np.abs(predicted - actual).mean())
    assert table.loc[best, "holdout_bias"] == pytest.approx((predicted - actual).mean())
    assert table.loc[best, "holdout_rmse"] == pytest.approx(
        np.sqrt(((predicted - actual) ** 2).mean())
    )
    assert table.loc[best, "mean_actual"] == pytest.approx(actual.mean())
    assert "lowest holdout MAE" in table.loc[best, "note"]
    assert table.drop(best)["note"].isna().all()
    # Parameters belong to their model only.
    assert table.loc["pareto_nbd", ["a", "b"]].isna().all()
    assert table.loc["bg_nbd", ["s", "beta"]].isna().all()


def test_calibration_tables_group_every_customer_twice(comparison):
    calibration = comparison.calibration
    for model in MODELS:
        rows = calibration[calibration["model"] == model]
        by_frequency = rows[rows["grouping"] == "calibration_purchases"]
        by_decile = rows[rows["grouping"] == "predicted_decile"]
        assert by_frequency["customers"].sum() == by_decile["customers"].sum() == 3000
        assert list(by_decile["group_label"]) == [str(i) for i in range(1, 11)]
        assert set(by_frequency["group_label"]) <= {*map(str, range(7)), "7+"}
        # Each decile's mean prediction is above the previous one's.
        assert by_decile["mean_predicted"].is_monotonic_increasing
    chosen = calibration[calibration["is_chosen"]]
    assert set(chosen["model"]) == {comparison.chosen}
    # The frequency table is the predictions mart regrouped.
    predictions = comparison.predictions
    groups = np.minimum(predictions["calibration_purchases"], 7)
    expected = predictions.groupby(groups)["holdout_purchases"].mean()
    shown = chosen[chosen["grouping"] == "calibration_purchases"].set_index("group_order")
    assert shown["mean_actual"].to_numpy() == pytest.approx(expected.to_numpy())


def test_deciles_are_sql_ntile_over_prediction_then_customer():
    rng = np.random.default_rng(1)
    predicted = np.round(rng.uniform(0, 3, 103), 1)  # ties, and 103 = 10 x 10 + 3
    ids = np.array([f"C{i:03d}" for i in rng.permutation(103)])
    frame = pd.DataFrame({"customer_id": ids, "predicted": predicted})
    con = duckdb.connect()
    con.register("frame", frame)
    expected = (
        con.sql(
            "select customer_id, ntile(10) over (order by predicted, customer_id) as decile "
            "from frame"
        )
        .df()
        .set_index("customer_id")["decile"]
    )
    ours = pd.Series(deciles(predicted, ids), index=ids)
    assert (ours == expected.loc[ids]).all()


def test_ties_go_to_smaller_bias_then_to_the_model_order():
    table = pd.DataFrame(
        {
            "model": ["bg_nbd", "mbg_nbd", "pareto_nbd"],
            "model_label": ["BG/NBD", "MBG/NBD", "Pareto/NBD"],
            "is_converged": [True, True, True],
            "holdout_mae": [1.0, 1.0, 1.0],
            "holdout_bias": [0.3, -0.1, 0.1],
            "calibration_customers": [10, 10, 10],
        }
    )
    assert _choose(table)[0] == "mbg_nbd"
    table["holdout_bias"] = [0.1, -0.1, 0.1]
    assert _choose(table)[0] == "bg_nbd"
    table["is_converged"] = [False, True, True]
    assert _choose(table)[0] == "mbg_nbd"


def test_without_calibration_customers_bgnbd_is_used_and_the_note_says_why():
    empty = _calibration().head(0)
    result = compare(empty, ClvSettings())
    assert result.chosen == "bg_nbd"
    note = result.table.loc[result.table["is_chosen"], "note"].iloc[0]
    assert note.startswith("not chosen by holdout (no calibration customers)")
    assert not result.table["is_converged"].any()
    assert result.calibration.empty and result.predictions.empty
    assert chosen_start(result.table) is None  # nothing converged to start from


def test_chosen_model_and_start_read_the_comparison_mart(comparison):
    table = comparison.table
    assert chosen_model(table) == comparison.chosen
    start = chosen_start(table)
    row = table[table["is_chosen"]].iloc[0]
    names = list(MODELS[comparison.chosen].params.__dataclass_fields__)
    assert start == tuple(row[n] for n in names)
    assert chosen_model(table.head(0)) == "bg_nbd"


def test_holdout_validation_reuses_the_comparison_fit_and_agrees_with_it(comparison):
    """clv_holdout_validation publishes the chosen model's calibration fit that
    clv_model_comparison made: its 'all' row is the comparison's mean prediction."""
    from marketing_engine.clv import holdout_validation

    calibration = _calibration()
    chosen = comparison.chosen
    table = holdout_validation(calibration, ClvSettings(), chosen, comparison.fits[chosen])
    overall = table.set_index("calibration_purchases").loc["all"]
    row = comparison.table.set_index("model").loc[chosen]
    assert overall["mean_predicted"] == pytest.approx(row["mean_predicted"], rel=1e-12)
    assert overall["mae"] == pytest.approx(row["holdout_mae"], rel=1e-12)
    assert overall["customers"] == len(calibration)
