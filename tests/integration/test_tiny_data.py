"""Issue 12: a valid but tiny raw_data_dir (3 customers) builds; every fallback is told."""

from __future__ import annotations

import duckdb
import pandas as pd

from tests.conftest import run_cli
from tests.integration.report_checks import check_report_marts


def test_three_one_time_buyers_build_with_recorded_fallbacks(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    pd.DataFrame({"customer_id": ["C1", "C2", "C3"]}).to_csv(raw / "customers.csv", index=False)
    pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3"],
            "customer_id": ["C1", "C2", "C3"],
            "ordered_at": ["2023-01-10", "2023-02-10", "2023-03-10"],
            "quantity": 1,
            "unit_price": ["10.50", "11.50", "12.50"],
        }
    ).to_csv(raw / "transactions.csv", index=False)
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    con = duckdb.connect(str(tmp_path / "marketing.duckdb"), read_only=True)
    evaluation = con.execute(
        "select algorithm, n_clusters, n_customers, note from marts.cluster_evaluation"
    ).df()
    assert set(evaluation["algorithm"]) == {"kmeans", "dbscan", "hierarchical"}
    assert (evaluation["n_clusters"] == 1).all()
    assert (evaluation["n_customers"] == 3).all()
    assert evaluation["note"].str.contains("everyone is in one cluster").all()
    assert con.execute(
        "select count(distinct customer_id), count(distinct cluster_id) "
        "from marts.cluster_assignments"
    ).fetchone() == (3, 1)
    assert set(con.execute("select model from marts.customer_lifetime_value").df()["model"]) == {
        "rule_based"
    }
    assert not con.execute(
        "select bool_or(is_converged) from marts.clv_model_parameters"
    ).fetchone()[0]
    assert con.execute("select count(*) from marts.clv_holdout_validation").fetchone()[0] == 0
    assert "everyone is in one cluster" in output
    assert "CLV holdout validation is empty" in output
    assert "fell back to rules" in output
    # every report mart still holds and matches its independent recomputation
    assert check_report_marts(tmp_path / "build.duckdb") == []
