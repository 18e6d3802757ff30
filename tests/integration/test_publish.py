"""Safe publishing: a BI reader holding the serving file never blocks a rebuild."""

from __future__ import annotations

import hashlib
import shutil
import stat
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
import sqlalchemy

from marketing_engine.publish import PublishConfigError, pii_key
from tests.conftest import run_cli

NO_KEY = {"MARKETING_ENGINE_PII_KEY": ""}

PUBLIC_MARTS = [
    "dim_customers",
    "customer_360",
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


def publish_workdir(sample_build: Path, tmp_path: Path) -> Path:
    """tmp_path with a copy of the build file, its status record, manifest and serving file.

    copy2 keeps the build file's mtime, which its status record checks.
    """
    for name in ("build.duckdb", "build.status.json", "marketing.duckdb"):
        shutil.copy2(sample_build / name, tmp_path / name)
    (tmp_path / "target").mkdir()
    shutil.copy(sample_build / "target" / "manifest.json", tmp_path / "target")
    return tmp_path / "marketing.duckdb"


def test_publish_parquet_on_request_and_views_become_tables(sample_build, tmp_path):
    serving = publish_workdir(sample_build, tmp_path)
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as build:
        kinds = dict(
            build.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'marts'"
            ).fetchall()
        )
        lines = build.execute(
            "select count(*), sum(net_amount) from marts.fct_order_lines"
        ).fetchone()
    assert kinds["fct_order_lines"] == "VIEW"  # stored once, in staging
    result = run_cli(tmp_path, "publish", "--parquet")
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(serving), read_only=True) as con:
        served = con.execute(
            "select table_type from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'fct_order_lines'"
        ).fetchone()
        assert served == ("BASE TABLE",)
        assert (
            con.execute("select count(*), sum(net_amount) from marts.fct_order_lines").fetchone()
            == lines
        )
    parquet = tmp_path / "marketing_parquet" / "fct_order_lines.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall() == [(lines[0],)]
    assert sorted(p.stem for p in parquet.parent.glob("*.parquet")) == sorted(kinds)


def _emails(serving: Path) -> dict[int, str]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return dict(con.execute("select customer_id, email from marts.dim_customers").fetchall())


def test_serving_file_header_is_a_version_duckdb_1x_reads(sample_build):
    # DuckDB's file header: 8-byte checksum, magic "DUCK", little-endian version number.
    # 64 is what every DuckDB from 1.0 on reads; 2.x writes 69 unless told otherwise.
    header = (sample_build / "marketing.duckdb").read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    assert struct.unpack("<Q", header[12:20])[0] == 64


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MARKETING_ENGINE_STORAGE_VERSION", "v1", "is not a storage version"),
        # The limit the build's profile reads applies to publish's DuckDB too.
        ("MARKETING_ENGINE_MEMORY_LIMIT", "lots", "is not a DuckDB memory limit"),
    ],
)
def test_a_setting_duckdb_cannot_use_is_refused_and_named(
    sample_build, tmp_path, variable, value, named
):
    serving = publish_workdir(sample_build, tmp_path)
    before = serving.read_bytes()
    result = run_cli(tmp_path, "publish", env={variable: value})
    assert result.returncode == 1
    assert f"{variable}={value!r} {named}" in result.stderr
    assert "Traceback" not in result.stderr
    assert serving.read_bytes() == before
    assert not list(tmp_path.glob(".marketing.duckdb.*"))


def test_publish_runs_under_a_small_memory_limit(sample_build, tmp_path):
    publish_workdir(sample_build, tmp_path)
    result = run_cli(tmp_path, "publish", env={"MARKETING_ENGINE_MEMORY_LIMIT": "400MB"})
    assert result.returncode == 0, result.stderr


def test_pii_hashes_are_stable_across_publishes_until_the_key_file_is_deleted(
    sample_build, tmp_path
):
    serving = publish_workdir(sample_build, tmp_path)
    key_file = tmp_path / ".pii_key"
    first = run_cli(tmp_path, "publish", env=NO_KEY)
    assert first.returncode == 0, first.stderr
    assert f"created the PII hashing key {key_file}" in first.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    hashes = _emails(serving)

    second = run_cli(tmp_path, "publish", env=NO_KEY)
    assert second.returncode == 0, second.stderr
    assert "created the PII hashing key" not in second.stderr
    assert _emails(serving) == hashes

    # The hash is SHA-256 of key + raw value, so outside systems can join on it.
    key = key_file.read_text().strip()
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        raw = dict(
            con.execute(
                "select customer_id, email from marts.dim_customers where email is not null"
            ).fetchall()
        )
    assert raw
    for customer_id, email in raw.items():
        assert hashes[customer_id] == hashlib.sha256((key + email).encode()).hexdigest()

    key_file.unlink()  # rotation: the next publish generates a new key
    third = run_cli(tmp_path, "publish", env=NO_KEY)
    assert third.returncode == 0, third.stderr
    rotated = _emails(serving)
    assert all(rotated[c] != hashes[c] for c in raw)


def test_pii_key_environment_variable_wins_over_the_key_file(tmp_path, monkeypatch):
    (tmp_path / ".pii_key").write_text("from-file\n")
    monkeypatch.setenv("MARKETING_ENGINE_PII_KEY", "from-env")
    assert pii_key(tmp_path / "marketing.duckdb") == ("from-env", "MARKETING_ENGINE_PII_KEY", False)
    monkeypatch.delenv("MARKETING_ENGINE_PII_KEY")
    key, source, created = pii_key(tmp_path / "marketing.duckdb")
    assert (key, source, created) == ("from-file", str(tmp_path / ".pii_key"), False)


def test_an_empty_pii_key_file_is_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("MARKETING_ENGINE_PII_KEY", raising=False)
    (tmp_path / ".pii_key").write_text("\n")
    with pytest.raises(PublishConfigError, match=r"\.pii_key is empty; delete it"):
        pii_key(tmp_path / "marketing.duckdb")


def test_raw_values_of_pii_columns_in_the_data_quality_list_are_hidden(sample_build, tmp_path):
    """fct_data_quality_issues names a column and its raw value per row: a bad birth_date
    must not reach the serving file in clear, while a bad num_kids stays readable."""
    import json

    serving = publish_workdir(sample_build, tmp_path)
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute(
            """insert into marts.fct_data_quality_issues by name
               select * from (values
                   ('customers', 'PII1', 'birth_date', '31/12/1980',
                    'unparseable birth_date ''31/12/1980'' (expected one of var date_formats)'),
                   ('customers', 'PII3', 'birth_date', 'Jan ''85',
                    'unparseable birth_date ''Jan ''85'' (expected one of var date_formats)'),
                   ('customers', 'PII2', 'num_kids', 'two',
                    'unparseable num_kids ''two'' (expected integer)')
               ) as t(table_name, row_key, column_name, raw_value, issue)"""
        )
    # the build file changed after its build: record it as that build's output
    status_file = tmp_path / "build.status.json"
    status = json.loads(status_file.read_text())
    status.update(build_db_size=build.stat().st_size, build_db_mtime_ns=build.stat().st_mtime_ns)
    status_file.write_text(json.dumps(status))

    result = run_cli(tmp_path, "publish")
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = {
            key: (raw, issue)
            for key, raw, issue in con.execute(
                "select row_key, raw_value, issue from marts.fct_data_quality_issues "
                "where row_key in ('PII1', 'PII2', 'PII3')"
            ).fetchall()
        }
    raw, issue = rows["PII1"]
    assert raw == hashlib.sha256(b"test-key" + b"31/12/1980").hexdigest()
    assert "1980" not in issue and issue.startswith("unparseable birth_date '(hidden)'")
    assert rows["PII2"] == ("two", "unparseable num_kids 'two' (expected integer)")
    # a value holding an apostrophe is hidden whole
    assert "85" not in rows["PII3"][1] and rows["PII3"][0] != "Jan '85"
