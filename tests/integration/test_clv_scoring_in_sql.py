"""The CLV fit/score split: every CLV column scored in SQL over the fitted parameters
(clv_scored) equals the Python scores (customer_lifetime_value) for every customer.

Besides the model each build chooses, the dbt-compiled clv_scored runs again on a copy
of the build whose clv_model_parameters holds another fit (BG/NBD, MBG/NBD, Pareto/NBD)
or a fit marked not converged (the rule-based fallback), against clv.score's frame."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine.clv import ClvSettings, rule_based_scores, score

SCORE_COLUMNS = [
    "p_alive",
    "churn_probability",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "expected_order_value",
    "clv_12_months",
    "days_to_next_purchase",
]
# Closed forms a Pareto/NBD fit is scored with in SQL; the rest is Python-only.
PARETO_SQL_COLUMNS = ["expected_order_value", "days_to_next_purchase"]
# Relative tolerance for every column: the SQL series is summed until its remainder is
# below 1e-15 of the sum, so SQL and scipy differ by rounding only (observed below 6e-13).
RELATIVE_TOLERANCE = 1e-9
PYTHON_ONLY = "pareto_nbd (scored in Python only)"


@pytest.fixture(params=["sample_build", "cdnow_build"])
def built(request) -> Path:
    return request.getfixturevalue(request.param)


def differing(sql: pd.DataFrame, python: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """(customer_id, column, sql, python) wherever the two frames disagree."""
    merged = python.merge(sql, on="customer_id", how="left", suffixes=("_python", "_sql"))
    assert len(merged) == len(python) == len(sql)
    rows = []
    for column in columns:
        for customer_id, left, right in zip(
            merged["customer_id"],
            merged[f"{column}_sql"],
            merged[f"{column}_python"],
            strict=True,
        ):
            if pd.isna(left) or not math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE):
                rows.append((customer_id, column, left, right))
    return rows


def test_every_column_scored_in_sql_equals_the_python_scores(built):
    con = duckdb.connect(str(built / "build.duckdb"), read_only=True)
    python = con.execute("select * from marts.customer_lifetime_value").df()
    sql = con.execute("select * from marts.clv_scored").df()
    assert len(python) > 1000
    assert set(sql["scoring_method"]) == {python["model"].iloc[0].removesuffix("_gamma_gamma")}
    assert differing(sql, python, SCORE_COLUMNS) == []


def _summary(con) -> pd.DataFrame:
    summary = con.execute("select * from intermediate.int_customers_clv_summary").df()
    return summary.sort_values("customer_id").reset_index(drop=True)


def _settings(con) -> ClvSettings:
    """The settings the build's fit recorded (one source: the YAML config key clv)."""
    time_unit, rate, months = con.execute(
        "select any_value(time_unit), any_value(monthly_discount_rate), any_value(clv_months)"
        " from marts.clv_model_parameters"
    ).fetchone()
    return ClvSettings(time_unit=time_unit, monthly_discount_rate=rate, clv_months=months)


def _rescore(built: Path, tmp_path: Path, parameters: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """clv_scored as dbt compiled it, run on a copy of the build holding `parameters`."""
    compiled = next((built / "target" / "compiled").rglob("clv_scored.sql")).read_text()
    copy = tmp_path / "build.duckdb"  # same file name: the compiled relations resolve
    shutil.copy(built / "build.duckdb", copy)
    con = duckdb.connect(str(copy))
    table = con.execute("select * from marts.clv_model_parameters").df()
    # The fit's columns from `parameters`, the rest (fit_date, counts) as the build had them.
    replacement = pd.DataFrame(
        {c: parameters[c] if c in parameters else [table[c].iloc[0]] * 2 for c in table}
    )
    con.register("replacement", replacement)
    con.execute("delete from marts.clv_model_parameters")
    con.execute("insert into marts.clv_model_parameters select * from replacement")
    return con.execute(compiled).df(), _summary(con), table


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd", "pareto_nbd", "rule_based"])
def test_every_model_and_the_fallback_scored_in_sql_equal_python(built, tmp_path, model):
    con = duckdb.connect(str(built / "build.duckdb"), read_only=True)
    summary, settings = _summary(con), _settings(con)
    con.close()
    fitted = "bg_nbd" if model == "rule_based" else model
    python, parameter_rows = score(summary, settings, fitted)
    parameters = pd.DataFrame(parameter_rows)
    assert parameters["is_converged"].all(), parameters["message"].tolist()
    if model == "rule_based":  # a fit that did not converge, as clv.score falls back
        parameters["is_converged"] = [False, True]
        python = rule_based_scores(summary, settings)
    sql, _, _ = _rescore(built, tmp_path, parameters)
    if model == "pareto_nbd":
        assert set(sql["scoring_method"]) == {PYTHON_ONLY}
        assert differing(sql, python, PARETO_SQL_COLUMNS) == []
        others = [c for c in SCORE_COLUMNS if c not in PARETO_SQL_COLUMNS]
        assert sql[others].isna().all().all()
    else:
        assert set(sql["scoring_method"]) == {model}
        assert differing(sql, python, SCORE_COLUMNS) == []


def test_the_discount_and_horizon_settings_come_from_the_fit(built, tmp_path):
    # A different discount rate and CLV horizon recorded with the fit move the SQL CLV
    # exactly as they move the Python one: the score reads the fit's settings.
    con = duckdb.connect(str(built / "build.duckdb"), read_only=True)
    summary, settings = _summary(con), _settings(con)
    con.close()
    changed = ClvSettings(time_unit=settings.time_unit, monthly_discount_rate=0.05, clv_months=7)
    python, parameter_rows = score(summary, changed, "bg_nbd")
    sql, _, _ = _rescore(built, tmp_path, pd.DataFrame(parameter_rows))
    assert differing(sql, python, ["clv_12_months"]) == []
