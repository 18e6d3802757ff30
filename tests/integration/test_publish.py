"""Safe publishing: a BI reader holding the serving file never blocks a rebuild."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import sqlalchemy

from tests.conftest import run_cli

PUBLIC_MARTS = [
    "dim_customers",
    "dim_products",
    "fct_orders",
    "fct_order_lines",
    "fct_segment_kpis",
    "fct_monthly_sales",
    "fct_product_performance",
    "fct_category_performance",
    "fct_cohort_retention",
    "fct_coupon_activity",
    "fct_branch_performance",
    "fct_city_performance",
    "fct_customer_demographics",
    "fct_segment_history",
    "fct_segment_transitions",
    "customer_clusters",
    "cluster_profiles",
    "customer_lifetime_value",
    "sales_forecast",
    "marketing_messages",
    "customer_messages",
]

READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select count(*) from marts.dim_customers").fetchone()[0], flush=True)
    sys.stdin.readline()   # hold the file open until told to go on
    print(con.execute("select count(*) from marts.dim_customers").fetchone()[0], flush=True)
""")


def test_rebuild_succeeds_while_a_reader_holds_the_serving_file(sample_build, tmp_path):
    shutil.copy(sample_build / "build.duckdb", tmp_path / "build.duckdb")
    shutil.copy(sample_build / "marketing.duckdb", tmp_path / "marketing.duckdb")
    serving = tmp_path / "marketing.duckdb"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        before = int(reader.stdout.readline())
        # Change the data: a later as_of_date moves every recency, so the new file differs.
        rebuild = run_cli(tmp_path, "build", "--as-of-date", "2026-12-01")
        assert rebuild.returncode == 0, rebuild.stdout[-3000:] + rebuild.stderr[-3000:]
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == before  # the reader kept working
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert reader.returncode == 0
    with duckdb.connect(str(serving), read_only=True) as con:
        as_of = con.execute("select max(as_of_date) from marts.dim_customers").fetchone()[0]
    assert str(as_of) == "2026-12-01"  # a new connection sees the new data


def test_sqlalchemy_read_only_connection_reads_every_public_mart(sample_build):
    engine = sqlalchemy.create_engine(
        f"duckdb:///{sample_build / 'marketing.duckdb'}",
        connect_args={"read_only": True},
    )
    with engine.connect() as connection:
        for mart in PUBLIC_MARTS:
            rows = connection.execute(
                sqlalchemy.text(f"select count(*) from marts.{mart}")
            ).scalar_one()
            assert rows > 0, mart
    engine.dispose()


def test_a_failed_publish_leaves_the_serving_file(sample_build, tmp_path):
    shutil.copy(sample_build / "marketing.duckdb", tmp_path / "marketing.duckdb")
    before = (tmp_path / "marketing.duckdb").read_bytes()
    # No build file: publishing must fail cleanly and touch nothing.
    result = run_cli(tmp_path, "publish")
    assert result.returncode == 1
    assert "serving warehouse was not changed" in result.stderr
    assert (tmp_path / "marketing.duckdb").read_bytes() == before
    assert not list(Path(tmp_path).glob(".marketing.duckdb.*"))
