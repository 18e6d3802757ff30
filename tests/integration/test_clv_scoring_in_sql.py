"""The CLV fit/score split: every CLV column scored in SQL over the fitted parameters
(clv_scored) equals the Python scores (clv.score) for every customer, and the published
customer_lifetime_value takes them from clv_scored.

Besides the model each build chooses, the dbt-compiled clv_scored runs again on a copy
of the build whose clv_model_parameters holds another fit (BG/NBD, MBG/NBD, Pareto/NBD)
or a fit marked not converged (the rule-based fallback), against clv.score's frame; and
the customer_lifetime_value model runs on such copies, where SQL leaves customers to
Python (a Pareto/NBD fit, a series that did not converge)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine.clv import ClvSettings, rule_based_scores, score
from marketing_engine.clv_publish import NUMBER_COLUMNS
from marketing_engine.clv_selection import chosen_model, chosen_start
from tests.conftest import PROJECT
from tests.python_model import BuildDbt, run_model_file

SCORE_COLUMNS = NUMBER_COLUMNS
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
    summary, settings, (chosen, start) = _summary(con), _settings(con), _chosen(con)
    sql = con.execute("select * from marts.clv_scored").df()
    python, _ = score(summary, settings, chosen, start)
    assert len(python) > 1000
    assert set(sql["scoring_method"]) == {chosen}
    assert differing(sql, python, SCORE_COLUMNS) == []


def test_the_published_scores_are_the_sql_scores_and_equal_python(built):
    # customer_lifetime_value: every customer, in customer_id order, every column taken
    # from clv_scored (the same numbers, bit for bit), equal to clv.score within 1e-9.
    con = duckdb.connect(str(built / "build.duckdb"), read_only=True)
    summary, settings, (chosen, start) = _summary(con), _settings(con), _chosen(con)
    published = con.execute("select * from marts.customer_lifetime_value").df()
    sql = con.execute("select * from marts.clv_scored").df()
    python, _ = score(summary, settings, chosen, start)
    assert list(published["customer_id"]) == list(python["customer_id"])
    assert (published["model"] == python["model"]).all()
    assert differing(published, python, SCORE_COLUMNS) == []
    assert _not_identical(published, sql, SCORE_COLUMNS) == []
    as_of = pd.Timestamp(summary["as_of_date"].iloc[0])
    days = python["days_to_next_purchase"].round().clip(upper=3650)
    expected_dates = (as_of + pd.to_timedelta(days, unit="D")).dt.date
    assert list(pd.to_datetime(published["expected_next_purchase_date"]).dt.date) == list(
        expected_dates
    )


def _not_identical(published: pd.DataFrame, sql: pd.DataFrame, columns: list[str]) -> list:
    """(customer_id, column) wherever the published value is not clv_scored's exactly."""
    merged = published.merge(sql, on="customer_id", how="inner", suffixes=("", "_sql"))
    assert len(merged) == len(published)
    return [
        (customer_id, column)
        for column in columns
        for customer_id, left, right in zip(
            merged["customer_id"], merged[column], merged[f"{column}_sql"], strict=True
        )
        if not (left == right or (pd.isna(left) and pd.isna(right)))
    ]


def _chosen(con) -> tuple[str, tuple[float, ...] | None]:
    comparison = con.execute("select * from marts.clv_model_comparison").df()
    return chosen_model(comparison), chosen_start(comparison)


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


MODEL_FILE = PROJECT / "python_models" / "marts" / "predictions" / "customer_lifetime_value.py"


def _run_published_model(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, list[str]]:
    """customer_lifetime_value's model() on `con`; its frame and the refs it read."""
    settings = _settings(con)
    clv = {
        "time_unit": settings.time_unit,
        "monthly_discount_rate": settings.monthly_discount_rate,
        "clv_months": settings.clv_months,
    }
    dbt = BuildDbt(con, {"clv": clv})
    return run_model_file(MODEL_FILE, dbt), dbt.refs


def _copy(built: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    copy = tmp_path / "build.duckdb"  # same file name: the compiled relations resolve
    shutil.copy(built / "build.duckdb", copy)
    return duckdb.connect(str(copy))


def test_the_model_reads_no_summary_when_sql_scores_everyone(built, tmp_path):
    # On the build as it is (SQL scores every customer), the model run again gives the
    # published table, and never reads the per-customer summary.
    con = _copy(built, tmp_path)
    published, refs = _run_published_model(con)
    assert "int_customers_clv_summary" not in refs and "clv_scored" in refs
    table = con.execute("select * from marts.customer_lifetime_value").df()
    assert list(published["customer_id"]) == list(table["customer_id"])
    assert _not_identical(published, table, [*SCORE_COLUMNS, "model"]) == []


def test_customers_sql_could_not_score_are_scored_in_python(built, tmp_path):
    # A copy whose clv_scored (rows shuffled) leaves every third customer's series not
    # converged and marks the others' CLV (x 3): the published rows are the marked SQL
    # rows, plus clv.score's rows, matched on customer_id, for the left-out customers.
    con = _copy(built, tmp_path)
    summary, settings, (chosen, start) = _summary(con), _settings(con), _chosen(con)
    purchases = ", ".join(
        f"case when not is_left_out then {c} end as {c}"
        for c in ["expected_purchases_30d", "expected_purchases_90d", "expected_purchases_365d"]
    )
    con.execute(
        f"""
        create or replace table marts.clv_scored as
        with marked as (
            select *, hash(customer_id) % 3 = 0 as is_left_out from marts.clv_scored
        )
        select
            customer_id,
            case
                when is_left_out then scoring_method || ' (series did not converge)'
                else scoring_method
            end as scoring_method,
            p_alive,
            churn_probability,
            {purchases},
            expected_order_value,
            case when not is_left_out then 3 * clv_12_months end as clv_12_months,
            days_to_next_purchase
        from marked
        order by hash(customer_id) % 7, customer_id desc
        """
    )
    left_out = set(
        con.execute(
            "select customer_id from marts.clv_scored where scoring_method like '%converge)'"
        ).df()["customer_id"]
    )
    assert 0 < len(left_out) < len(summary)
    published, refs = _run_published_model(con)
    assert "int_customers_clv_summary" in refs
    python, _ = score(summary, settings, chosen, start)
    assert list(published["customer_id"]) == list(python["customer_id"])
    is_left_out = python["customer_id"].isin(left_out)
    assert differing(published[is_left_out], python[is_left_out], SCORE_COLUMNS) == []
    assert (published.loc[is_left_out, "model"] == f"{chosen}_gamma_gamma").all()
    marked = python.assign(clv_12_months=3 * python["clv_12_months"])
    assert differing(published[~is_left_out], marked[~is_left_out], SCORE_COLUMNS) == []
    assert (published.loc[~is_left_out, "model"] == f"{chosen}_gamma_gamma").all()


def test_a_pareto_nbd_fit_is_published_from_python(built, tmp_path):
    # A copy whose comparison chose Pareto/NBD, with that fit in clv_model_parameters and
    # clv_scored rescored from it: every published row is clv.score's Pareto/NBD row.
    con = _copy(built, tmp_path)
    con.execute("update marts.clv_model_comparison set is_chosen = (model = 'pareto_nbd')")
    summary, settings, (chosen, start) = _summary(con), _settings(con), _chosen(con)
    assert chosen == "pareto_nbd"
    python, parameter_rows = score(summary, settings, chosen, start)
    assert all(row["is_converged"] for row in parameter_rows)
    compiled = next((built / "target" / "compiled").rglob("clv_scored.sql")).read_text()
    table = con.execute("select * from marts.clv_model_parameters").df()
    parameters = pd.DataFrame(parameter_rows)
    replacement = pd.DataFrame(
        {c: parameters[c] if c in parameters else [table[c].iloc[0]] * 2 for c in table}
    )
    con.register("replacement", replacement)
    con.execute("delete from marts.clv_model_parameters")
    con.execute("insert into marts.clv_model_parameters select * from replacement")
    con.execute(f"create or replace table marts.clv_scored as {compiled}")
    assert set(
        con.execute("select scoring_method from marts.clv_scored").df()["scoring_method"]
    ) == {PYTHON_ONLY}
    published, refs = _run_published_model(con)
    assert "int_customers_clv_summary" in refs
    assert list(published["customer_id"]) == list(python["customer_id"])
    assert (published["model"] == "pareto_nbd_gamma_gamma").all()
    assert differing(published, python, SCORE_COLUMNS) == []
