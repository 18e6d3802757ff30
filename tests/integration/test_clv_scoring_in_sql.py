"""The CLV fit/score split: P(alive) scored in SQL over the fitted parameters
(clv_p_alive_scored) equals the Python scores (customer_lifetime_value) for every customer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture(params=["sample_build", "cdnow_build"])
def built(request) -> Path:
    return request.getfixturevalue(request.param)


def test_p_alive_scored_in_sql_equals_the_python_scores(built):
    con = duckdb.connect(str(built / "build.duckdb"), read_only=True)
    rows = con.execute(
        "select scored.scoring_method, python.model, scored.p_alive, python.p_alive"
        " from marts.customer_lifetime_value as python"
        " left join marts.clv_p_alive_scored as scored using (customer_id)"
    ).fetchall()
    assert rows, "no customer scored"
    in_python_only = [row for row in rows if row[0] == "pareto_nbd (scored in Python only)"]
    compared = [row for row in rows if row not in in_python_only]
    # Every customer of the Python scores is scored in SQL, by the same model.
    assert all(method is not None for method, *_ in rows)
    for method, model, sql_p_alive, python_p_alive in compared:
        assert model in (f"{method}_gamma_gamma", method), (method, model)
        assert abs(sql_p_alive - python_p_alive) <= 1e-9, (method, sql_p_alive, python_p_alive)
    assert all(sql_p_alive is None for _, _, sql_p_alive, _ in in_python_only)


def test_the_sample_is_scored_in_sql_not_left_to_python(sample_build):
    # The sample's chosen model has a closed form: the comparison above covers every customer.
    con = duckdb.connect(str(sample_build / "build.duckdb"), read_only=True)
    methods = {
        method
        for (method,) in con.execute(
            "select distinct scoring_method from marts.clv_p_alive_scored"
        ).fetchall()
    }
    assert methods and "pareto_nbd (scored in Python only)" not in methods
