"""publish_scores: SQL rows where SQL scored, Python rows (by customer_id) where not."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from marketing_engine.clv_publish import NUMBER_COLUMNS as NUMBERS
from marketing_engine.clv_publish import publish_scores


def _frame(ids: list[str], base: float, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": ids})
    for offset, column in enumerate(NUMBERS):
        frame[column] = [base + offset + i / 10 for i in range(len(ids))]
    return frame.assign(**columns)


def _no_python() -> pd.DataFrame:
    raise AssertionError("the Python scores were asked for")


def test_sql_scores_everyone_without_asking_python():
    scored = _frame(["C3", "C1", "C2"], 1.0, scoring_method=["mbg_nbd", "mbg_nbd", "mbg_nbd"])
    published = publish_scores(scored, date(2024, 1, 1), _no_python)
    assert list(published["customer_id"]) == ["C1", "C2", "C3"]
    assert list(published.columns) == [
        "customer_id",
        *NUMBERS,
        "model",
        "expected_next_purchase_date",
    ]
    assert set(published["model"]) == {"mbg_nbd_gamma_gamma"}
    by_id = scored.set_index("customer_id")
    for _, row in published.iterrows():
        assert row["clv_12_months"] == by_id.loc[row["customer_id"], "clv_12_months"]
    first = published.iloc[0]
    assert first["expected_next_purchase_date"] == date(2024, 1, 1) + pd.Timedelta(
        days=round(first["days_to_next_purchase"])
    )


def test_rule_based_keeps_its_model_name():
    scored = _frame(["C1"], 1.0, scoring_method=["rule_based"])
    assert list(publish_scores(scored, None, _no_python)["model"]) == ["rule_based"]


def test_rows_sql_could_not_score_come_from_python_by_customer_id():
    scored = _frame(
        ["C1", "C2", "C3"],
        1.0,
        scoring_method=["bg_nbd", "bg_nbd (series did not converge)", "bg_nbd"],
    )
    # Python's frame in another order, with different numbers: only C2 is taken from it.
    python = _frame(["C3", "C1", "C2"], 100.0, model="bg_nbd_gamma_gamma")
    published = publish_scores(scored, date(2024, 1, 1), lambda: python).set_index("customer_id")
    assert (
        published.loc["C2", "clv_12_months"]
        == python.set_index("customer_id").loc["C2", "clv_12_months"]
    )
    assert (
        published.loc["C1", "clv_12_months"]
        == scored.set_index("customer_id").loc["C1", "clv_12_months"]
    )
    assert set(published["model"]) == {"bg_nbd_gamma_gamma"}


def test_a_customer_python_did_not_score_fails_in_words():
    scored = _frame(["C1"], 1.0, scoring_method=["pareto_nbd (scored in Python only)"])
    python = _frame(["C9"], 1.0, model="pareto_nbd_gamma_gamma")
    with pytest.raises(ValueError, match="disagree"):
        publish_scores(scored, None, lambda: python)
