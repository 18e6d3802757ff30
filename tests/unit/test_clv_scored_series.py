"""The SQL model clv_scored on small tables: its 2F1 power series against scipy's hyp2f1
(through clv.py's expected purchases), up to z near the series' term bound, and a pair
whose series cannot converge within the bound is marked and left null, never wrong.

The model is rendered with its only Jinja (ref, dbt.generate_series) stubbed for DuckDB,
so this runs in milliseconds without dbt; the integration test runs dbt's own compile."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest

from marketing_engine.clv import DAYS_PER_MONTH
from marketing_engine.clv_selection import MODELS

MODEL_SQL = Path(__file__).resolve().parents[2] / "python_models/marts/predictions/clv_scored.sql"
WINDOWS = {
    "expected_purchases_30d": 30,
    "expected_purchases_90d": 90,
    "expected_purchases_365d": 365,
}


class _Dbt:
    @staticmethod
    def generate_series(upper_bound: int) -> str:
        return f"select range as generated_number from range(1, {upper_bound} + 1)"

    @staticmethod
    def concat(fields: list[str]) -> str:
        return " || ".join(fields)


def scored(summary: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    """clv_scored over the given summary and parameter tables, in an in-memory DuckDB."""
    tables = {"int_customers_clv_summary": "summary_table", "clv_model_parameters": "params"}
    sql = jinja2.Template(MODEL_SQL.read_text(), undefined=jinja2.StrictUndefined).render(
        ref=tables.__getitem__, dbt=_Dbt
    )
    con = duckdb.connect()
    con.register("summary_table", summary)
    con.register("params", parameters)
    return con.execute(sql).df().sort_values("customer_id").reset_index(drop=True)


def parameter_table(model: str, r: float, alpha: float, a: float, b: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": [model, "gamma_gamma"],
            "r": [r, None],
            "alpha": [alpha, None],
            "a": [a, None],
            "b": [b, None],
            "p": [None, 2.0],
            "q": [None, 3.0],
            "v": [None, 50.0],
            "is_converged": [True, True],
            "time_unit": ["weeks", "weeks"],
            "monthly_discount_rate": [0.01, 0.01],
            "clv_months": [12, 12],
        }
    )


def grid_summary(t_days: list[int], xs: list[int]) -> pd.DataFrame:
    rows = [
        {
            "customer_id": f"C{i:04d}",
            "x": x,
            "t_x_days": min(t, 3 * x),
            "t_days": t,
            "mean_repeat_value": 40.0 if x else None,
            "first_value": 25.0,
        }
        for i, (t, x) in enumerate((t, x) for t in t_days for x in xs)
    ]
    return pd.DataFrame(rows)


def python_expected(model: str, params, summary: pd.DataFrame) -> pd.DataFrame:
    """Expected purchases per window and the discounted purchases over 12 months
    (clv_12_months / expected order value), by clv.py's scipy formulas."""
    counting = MODELS[model]
    p = counting.params(*params)
    x = summary["x"].to_numpy(float)
    t_x, T = summary["t_x_days"].to_numpy(float) / 7, summary["t_days"].to_numpy(float) / 7
    frame = {c: counting.expected_purchases(p, d / 7, x, t_x, T) for c, d in WINDOWS.items()}
    previous, discounted = 0.0, 0.0
    for month in range(1, 13):
        cumulative = counting.expected_purchases(p, month * DAYS_PER_MONTH / 7, x, t_x, T)
        discounted = discounted + (cumulative - previous) / 1.01**month
        previous = cumulative
    frame["discounted"] = discounted
    return pd.DataFrame(frame)


def worst_z(alpha: float, summary: pd.DataFrame) -> float:
    horizon = 12 * DAYS_PER_MONTH / 7
    return float(horizon / (alpha + summary["t_days"].min() / 7 + horizon))


# r, alpha, a, b: a < 1 (B = a - 1 < 0), a > 1, A = a + b - 1 - r < 0 (sign changes),
# a small alpha that puts z at 0.99 for T = 0.
PARAMETER_SETS = [
    (0.24, 4.41, 0.79, 2.43),
    (1.07, 2.27, 0.67, 6.93),
    (0.7, 9.9, 3.5, 12.0),
    (6.5, 3.0, 0.4, 1.2),
    (0.5, 0.5, 0.9, 3.0),
]


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd"])
@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_the_sql_series_equals_scipy_hyp2f1(model, params):
    summary = grid_summary([0, 1, 3, 10, 60, 200, 500], [0, 1, 2, 5, 30, 120])
    sql = scored(summary, parameter_table(model, *params))
    expected = python_expected(model, params, summary)
    assert (sql["scoring_method"] == model).all()
    for column in WINDOWS:
        np.testing.assert_allclose(sql[column], expected[column], rtol=1e-9, atol=0)
    np.testing.assert_allclose(
        sql["clv_12_months"], expected["discounted"] * sql["expected_order_value"], rtol=1e-9
    )


def test_the_grid_reaches_z_near_the_term_bound():
    # z = 0.99 needs about 3,900 terms of the 5,000 the model allows.
    assert worst_z(PARAMETER_SETS[-1][1], grid_summary([0], [0])) > 0.99


def test_a_series_beyond_the_term_bound_is_marked_not_scored():
    # alpha = 0.02 weeks, T = 0: z = 0.9996 would need ~100,000 terms; T = 500 days is fine.
    summary = grid_summary([0, 500], [0, 3])
    assert worst_z(0.02, summary) > 0.999
    sql = scored(summary, parameter_table("bg_nbd", 0.5, 0.02, 0.9, 3.0))
    cut = sql[summary["t_days"] == 0]
    assert (cut["scoring_method"] == "bg_nbd (series did not converge)").all()
    assert cut[["expected_purchases_365d", "clv_12_months"]].isna().all().all()
    assert cut["p_alive"].notna().all()  # closed forms are still scored
    fine = sql[summary["t_days"] == 500]
    assert (fine["scoring_method"] == "bg_nbd").all()
    expected = python_expected("bg_nbd", (0.5, 0.02, 0.9, 3.0), summary)[summary["t_days"] == 500]
    assert all(
        math.isclose(left, right, rel_tol=1e-9)
        for left, right in zip(
            fine["expected_purchases_365d"], expected["expected_purchases_365d"], strict=True
        )
    )
