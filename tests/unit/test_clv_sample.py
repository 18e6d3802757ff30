"""The CLV fits' seeded sample: chosen in SQL, deterministic, independent of row order,
and the fits on it equal the fits on everyone when everyone fits in it."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from marketing_engine.clv import ClvSettings, fit, score
from marketing_engine.clv_sample import (
    IN_SAMPLE,
    read_calibration,
    read_fit_sample,
    sample_note,
)
from marketing_engine.clv_selection import compare
from tests.unit.test_clv_selection import _calibration

CUSTOMERS = 3000


def _relation(frame: pd.DataFrame, shuffle_seed: int | None = None) -> duckdb.DuckDBPyRelation:
    """`frame` as a DuckDB table (rows shuffled when a seed is given), read as dbt.ref is."""
    if shuffle_seed is not None:
        frame = frame.sample(frac=1.0, random_state=shuffle_seed)
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("create table summary as select * from frame")
    return con.sql("select * from summary")


def _summary() -> pd.DataFrame:
    """int_customers_clv_summary's columns, from the calibration draw, spend varying."""
    frame = _calibration(CUSTOMERS)
    spend = np.random.default_rng(3).gamma(4.0, 10.0, CUSTOMERS)
    return frame.drop(columns=["holdout_purchases", "holdout_days", "calibration_end"]).assign(
        mean_repeat_value=np.where(frame["x"] > 0, spend, np.nan),
        as_of_date=pd.Timestamp("2024-07-01"),
    )


def test_the_default_and_the_minimum_sample_size():
    assert ClvSettings().fit_sample_size == 200_000
    # dbt renders "{{ var(...) }}" as text
    assert ClvSettings.from_mapping({"fit_sample_size": "5000"}).fit_sample_size == 5000
    with pytest.raises(ValueError, match="fit_sample_size must be at least 500, got 499"):
        ClvSettings(fit_sample_size=499)
    with pytest.raises(ValueError, match="fit_sample_size must be a whole number, got 'lots'"):
        ClvSettings.from_mapping({"fit_sample_size": "lots"})


def test_the_sample_is_exactly_n_customers_the_same_on_a_rerun_and_in_any_row_order():
    settings = ClvSettings(fit_sample_size=1000)
    summary = _summary()
    first = read_fit_sample(_relation(summary), settings)
    again = read_fit_sample(_relation(summary), settings)
    shuffled = read_fit_sample(_relation(summary, shuffle_seed=11), settings)
    assert len(first) == 1000 and first["customer_id"].is_unique
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, shuffled)
    assert list(first["customer_id"]) == sorted(first["customer_id"])
    # Only the columns the fit reads reach pandas.
    assert list(first.columns) == ["customer_id", "x", "t_x_days", "t_days", "mean_repeat_value"]
    # Another seed, another sample of the same size.
    other = read_fit_sample(_relation(summary), ClvSettings(fit_sample_size=1000, random_state=7))
    assert len(other) == 1000 and set(other["customer_id"]) != set(first["customer_id"])
    # The flagged calibration read picks the same customers from the same ids.
    flagged = read_calibration(_relation(_calibration(CUSTOMERS), shuffle_seed=3), settings)
    assert len(flagged) == CUSTOMERS
    assert set(flagged.loc[flagged[IN_SAMPLE], "customer_id"]) == set(first["customer_id"])


def test_with_everyone_in_the_sample_the_fit_is_the_fit_on_every_customer_bit_for_bit():
    summary = _summary()
    everyone = summary.sort_values("customer_id").reset_index(drop=True)
    sample = read_fit_sample(_relation(summary, shuffle_seed=5), ClvSettings())
    assert len(sample) == CUSTOMERS
    on_sample = fit(sample, ClvSettings(), "bg_nbd")
    on_all = fit(everyone, ClvSettings(), "bg_nbd")
    assert on_all.converged
    assert on_sample.parameters == on_all.parameters
    # The scores of every customer from a sample's fit use that fit's parameters.
    small = ClvSettings(fit_sample_size=1000)
    part = read_fit_sample(_relation(summary), small)
    scores, parameters = score(everyone, small, "bg_nbd", fit_sample=part)
    assert len(scores) == CUSTOMERS and (scores["model"] == "bg_nbd_gamma_gamma").all()
    assert parameters == fit(part, small, "bg_nbd").parameters
    assert parameters[0]["n_customers"] == 1000
    assert parameters != on_all.parameters


def test_the_comparison_fits_on_the_flagged_sample_and_predicts_everyone():
    settings = ClvSettings(fit_sample_size=1000)
    calibration = read_calibration(_relation(_calibration(CUSTOMERS), shuffle_seed=9), settings)
    sampled = compare(calibration, settings)
    table = sampled.table
    assert (table["fit_sample_size"] == 1000).all()
    assert (table["calibration_customers"] == CUSTOMERS).all()
    note = f"fitted on a seeded sample of 1,000 of {CUSTOMERS:,} calibration customers"
    assert table["sample_note"].str.startswith(note).all()
    assert len(sampled.predictions) == CUSTOMERS
    # The fits are the fits on the flagged rows alone.
    subset = calibration.loc[calibration[IN_SAMPLE]].drop(columns=IN_SAMPLE)
    alone = compare(subset.reset_index(drop=True), settings)
    assert sampled.fits == alone.fits
    # Everyone flagged: the comparison of the unflagged frame, figure for figure.
    everyone = read_calibration(_relation(_calibration(CUSTOMERS)), ClvSettings())
    assert everyone[IN_SAMPLE].all()
    full = compare(everyone, ClvSettings()).table
    plain = compare(_calibration(CUSTOMERS), ClvSettings()).table
    assert full["sample_note"].isna().all() and (full["fit_sample_size"] == CUSTOMERS).all()
    numbers = plain.select_dtypes("number").columns
    assert np.array_equal(full[numbers].to_numpy(), plain[numbers].to_numpy(), equal_nan=True)


def test_the_note_follows_clusterings_wording():
    assert sample_note(5, 5, "are scored") is None
    assert sample_note(200_000, 1_234_567, "are scored from these parameters") == (
        "fitted on a seeded sample of 200,000 of 1,234,567 customers (clv fit_sample_size); "
        "the other 1,034,567 are scored from these parameters"
    )
