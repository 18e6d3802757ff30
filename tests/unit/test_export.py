"""`marketing-engine export` writes every report as CSV and Parquet."""

from __future__ import annotations

import duckdb
from click.testing import CliRunner

from marketing_engine.cli import EXPORTS, main


def test_export_writes_csv_and_parquet_for_every_report(tmp_path):
    db = tmp_path / "serving.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_segment_kpis as select 'rfm_segment' as "
            "segmentation, 1 as segment_order, 'Champions' as segment_name"
        )
        con.execute(
            "create table marts.customer_360 as select 'C1' as customer_id, "
            "'Champions' as rfm_segment, 'High-Value' as value_tier, "
            "'Active' as cluster_name, 5 as r_score, 5 as f_score, 5 as m_score, "
            "false as is_churn_risk, 0.1 as churn_probability, 100.0 as clv_12_months"
        )
        con.execute("create table marts.campaign_targets as select 'Champions' as rfm_segment")
        con.execute(
            "create table marts.campaign_results as select 'c' as campaign_id, "
            "'Champions' as segment_name, 'o' as offer_id, 'A' as variant"
        )
    out = tmp_path / "export"
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in EXPORTS:
        assert (out / f"{name}.csv").read_text().count("\n") == 2
        assert duckdb.sql(f"select count(*) from '{out / name}.parquet'").fetchall() == [(1,)]


def test_export_without_a_warehouse_says_what_to_do(tmp_path):
    result = CliRunner().invoke(
        main, ["export", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "marketing-engine build" in result.output
