"""The CLV fits on a seeded sample of fit_sample_size customers, chosen in SQL.

A build of the embedded sample (1,956 customers, 1,537 in the calibration period) with
`--vars '{clv_fit_sample_size: 1000}'`: the fits use exactly 1,000 customers, the ones the
seeded SQL sample names whatever order the rows come in, the marts and the build summary
say so in words, and every customer is still scored. The default (200,000) fits everyone:
the fits on all rows, as before (test_clv_scoring_in_sql.py pins them)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine import clv
from marketing_engine.clv import ClvSettings, fit, score
from marketing_engine.clv_publish import NUMBER_COLUMNS
from marketing_engine.clv_sample import IN_SAMPLE, read_calibration, read_fit_sample
from marketing_engine.clv_selection import chosen_model, chosen_start, compare
from tests.conftest import PROJECT, run_cli
from tests.python_model import BuildDbt, run_model_file

SAMPLE = 1000
SAMPLED = ClvSettings(fit_sample_size=SAMPLE)
MODELS = PROJECT / "python_models" / "marts" / "predictions"


@pytest.fixture(scope="module")
def sampled_build(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("clv_sampled_build")
    # A whole build (a selection's data tests read models it would not build), with
    # every data test: the contracts of the marts with their new columns too.
    vars_ = f"{{clv_fit_sample_size: {SAMPLE}}}"
    result = run_cli(workdir, "build", "--no-publish", "--vars", vars_)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    (workdir / "build.stdout.txt").write_text(result.stdout)
    return workdir


def _summary(con) -> duckdb.DuckDBPyRelation:
    return con.sql("select * from intermediate.int_customers_clv_summary")


def _chosen(con) -> tuple[str, tuple[float, ...] | None]:
    comparison = con.execute("select * from marts.clv_model_comparison").df()
    return chosen_model(comparison), chosen_start(comparison)


def test_the_fit_uses_exactly_the_seeded_sample_and_says_so(sampled_build):
    con = duckdb.connect(str(sampled_build / "build.duckdb"), read_only=True)
    customers = con.execute("select count(*) from intermediate.int_customers_clv_summary")
    customers = customers.fetchone()[0]
    assert customers > SAMPLE
    parameters = con.execute("select * from marts.clv_model_parameters order by model").df()
    counting = parameters[parameters["model"] != "gamma_gamma"].iloc[0]
    assert counting["n_customers"] == SAMPLE
    assert (parameters["fit_sample_size"] == SAMPLE).all()
    assert (parameters["scored_customers"] == customers).all()
    note = (
        f"fitted on a seeded sample of 1,000 of {customers:,} customers (clv fit_sample_size); "
        f"the other {customers - SAMPLE:,} are scored from these parameters (clv_scored)"
    )
    assert (parameters["sample_note"] == note).all()
    assert f"CLV fit: {note}." in (sampled_build / "build.stdout.txt").read_text()
    # The published fit is the fit on the SQL sample: those 1,000 customers, no others.
    chosen, start = _chosen(con)
    sample = read_fit_sample(_summary(con), SAMPLED)
    assert len(sample) == SAMPLE
    published = parameters.set_index("model")
    for row in fit(sample, SAMPLED, chosen, start).parameters:
        for key, value in row.items():  # every parameter and the log-likelihood, exactly
            if isinstance(value, float):
                assert published.loc[row["model"], key] == value, (row["model"], key)
    # ... which is not the fit on everyone.
    everyone = con.execute("select * from intermediate.int_customers_clv_summary").df()
    everyone = everyone.sort_values("customer_id").reset_index(drop=True)
    on_everyone = fit(everyone, SAMPLED, chosen, start)
    assert on_everyone.counts.n_customers == customers
    assert on_everyone.counts.params.r != counting["r"]


def test_every_customer_is_scored_from_the_sample_fit(sampled_build):
    con = duckdb.connect(str(sampled_build / "build.duckdb"), read_only=True)
    summary = con.execute("select * from intermediate.int_customers_clv_summary").df()
    summary = summary.sort_values("customer_id").reset_index(drop=True)
    scored = con.execute("select * from marts.clv_scored").df()
    published = con.execute("select * from marts.customer_lifetime_value").df()
    assert len(scored) == len(published) == len(summary)
    assert set(scored["customer_id"]) == set(summary["customer_id"])
    chosen, start = _chosen(con)
    sample = read_fit_sample(_summary(con), SAMPLED)
    python, _ = score(summary, SAMPLED, chosen, start, fit_sample=sample)
    merged = python.merge(published, on="customer_id", suffixes=("_python", "_sql"))
    assert len(merged) == len(summary)
    for column in NUMBER_COLUMNS:
        for left, right in zip(merged[f"{column}_sql"], merged[f"{column}_python"], strict=True):
            assert math.isclose(left, right, rel_tol=1e-9), column


def test_the_comparison_fits_the_sample_and_predicts_every_calibration_customer(sampled_build):
    con = duckdb.connect(str(sampled_build / "build.duckdb"), read_only=True)
    relation = con.sql("select * from intermediate.int_customers_clv_calibration")
    calibration = read_calibration(relation, SAMPLED)
    total = len(calibration)
    assert total > SAMPLE and int(calibration[IN_SAMPLE].sum()) == SAMPLE
    table = con.execute("select * from marts.clv_model_comparison order by model").df()
    assert (table["fit_sample_size"] == SAMPLE).all()
    assert (table["calibration_customers"] == total).all()
    note = (
        f"fitted on a seeded sample of 1,000 of {total:,} calibration customers "
        f"(clv fit_sample_size); the other {total - SAMPLE:,} are predicted in the holdout "
        "from the fitted parameters"
    )
    assert (table["sample_note"] == note).all()
    assert f"CLV model comparison: {note}." in (sampled_build / "build.stdout.txt").read_text()
    predictions = con.execute("select count(*) from marts.clv_holdout_predictions").fetchone()
    assert predictions[0] == total
    # The published fits are the fits on the flagged sample alone.
    expected = compare(calibration, SAMPLED).table.sort_values("model")
    for column in ["r", "alpha", "a", "b", "s", "beta", "log_likelihood", "holdout_mae"]:
        assert list(table[column].fillna(-1.0)) == list(expected[column].fillna(-1.0)), column


def test_a_rerun_on_shuffled_rows_gives_the_same_fit(sampled_build, tmp_path):
    # clv_model_parameters run again on a copy whose summary rows are in another order:
    # the same sample, the same parameters, bit for bit.
    copy = tmp_path / "build.duckdb"
    shutil.copy(sampled_build / "build.duckdb", copy)
    con = duckdb.connect(str(copy))
    before = read_fit_sample(_summary(con), SAMPLED)
    con.execute(
        "create or replace table intermediate.int_customers_clv_summary as "
        "select * from intermediate.int_customers_clv_summary order by hash(customer_id || 'x')"
    )
    after = read_fit_sample(_summary(con), SAMPLED)
    pd.testing.assert_frame_equal(before, after)
    clv._FIT_CACHE.clear()  # a real refit, not the memo of an earlier test's
    table = _run_model(con, "clv_model_parameters", SAMPLE)
    published = con.execute("select * from marts.clv_model_parameters").df()
    assert list(table.columns) == list(published.columns)
    table["fit_date"] = pd.to_datetime(table["fit_date"])  # a date, DATE once stored
    pd.testing.assert_frame_equal(
        table.sort_values("model").reset_index(drop=True),
        published.sort_values("model").reset_index(drop=True),
        check_dtype=False,
    )


def test_the_default_fits_every_customer(sample_build):
    con = duckdb.connect(str(sample_build / "build.duckdb"), read_only=True)
    parameters = con.execute("select * from marts.clv_model_parameters").df()
    assert (parameters["fit_sample_size"] == parameters["scored_customers"]).all()
    assert parameters["sample_note"].isna().all()
    comparison = con.execute("select * from marts.clv_model_comparison").df()
    assert (comparison["fit_sample_size"] == comparison["calibration_customers"]).all()
    assert comparison["sample_note"].isna().all()
    assert "seeded sample" not in (sample_build / "build.stdout.txt").read_text()


def _run_model(con: duckdb.DuckDBPyConnection, name: str, sample_size: int) -> pd.DataFrame:
    dbt = BuildDbt(con, {"clv": {"fit_sample_size": str(sample_size)}})
    return run_model_file(MODELS / f"{name}.py", dbt, con)


def test_the_predictions_page_mart_says_the_fits_used_a_sample(sampled_build):
    # rpt_clv_kpis carries both notes for the churn page, equal to the notes written
    # from independent counts (tests/integration/report_checks.py checks them on pages).
    from tests.integration.report_checks import INDEPENDENT

    con = duckdb.connect(str(sampled_build / "build.duckdb"), read_only=True)
    shown = con.execute(
        "select fit_sample_note, comparison_sample_note from marts.rpt_clv_kpis"
    ).fetchone()
    for column, value in zip(("fit_sample_note", "comparison_sample_note"), shown, strict=True):
        expected = INDEPENDENT[("rpt_clv_kpis", column)](con)
        assert expected is not None and value == expected, column
