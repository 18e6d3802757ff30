"""The serving file opens in the DuckDB 1.x clients BI tools embed, not only our own DuckDB.

The project writes with DuckDB 2.x; the DuckDB CLI from PyPI and the Node client that
Evidence uses are 1.x builds. Each reads every public mart read-only and must see the row
counts of the build file, and a reader holding the file open must not block a publish.
Clients are installed by tests/bi/clients.py (skipped offline unless
MARKETING_ENGINE_REQUIRE_BI=1, which CI sets).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.bi.clients import DUCKDB_CLI_VERSIONS, NODE_CLIENTS, duckdb_cli, node_client
from tests.conftest import PROJECT, cli_env, run_cli
from tests.integration.test_publish import publish_workdir


@pytest.fixture(scope="module")
def build_counts(sample_build) -> dict[str, int]:
    """Rows per table of schema marts in the build file, counted with our own DuckDB."""
    with duckdb.connect(str(sample_build / "build.duckdb"), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        return {
            table: con.execute(f'select count(*) from marts."{table}"').fetchone()[0]
            for table in tables
        }


def _cli_counts(binary: Path, db: Path) -> tuple[str, dict[str, int]]:
    """The CLI's version and the rows of every table it lists in schema marts."""
    listed = subprocess.run(
        [str(binary), "-readonly", "-json", str(db), "-c",
         "select version() as version, string_agg(table_name, ',' order by table_name) as tables "
         "from information_schema.tables where table_schema = 'marts'"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    counts_sql = " union all ".join(
        f"select '{table}' as table_name, count(*) as row_count from marts.\"{table}\""
        for table in row["tables"].split(",")
    )
    counted = subprocess.run(
        [str(binary), "-readonly", "-json", str(db), "-c", counts_sql],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert counted.returncode == 0, counted.stderr
    counts = {item["table_name"]: int(item["row_count"]) for item in json.loads(counted.stdout)}
    return row["version"], counts


@pytest.mark.parametrize("version", DUCKDB_CLI_VERSIONS)
def test_duckdb_cli_reads_every_public_mart(sample_build, build_counts, version):
    binary = duckdb_cli(version)
    reported, counts = _cli_counts(binary, sample_build / "marketing.duckdb")
    assert reported == "v" + version.split(".post")[0]  # the real 1.x client, not ours
    assert counts == build_counts


@pytest.mark.parametrize("client", NODE_CLIENTS)
def test_node_client_reads_every_public_mart(sample_build, build_counts, client):
    command = node_client()
    result = subprocess.run(
        [*command, client, str(sample_build / "marketing.duckdb")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["version"].startswith("v1.")
    assert read["counts"] == build_counts


def test_a_duckdb_cli_holding_the_file_does_not_block_a_publish(sample_build, tmp_path):
    binary = duckdb_cli(DUCKDB_CLI_VERSIONS[-1])
    serving = publish_workdir(sample_build, tmp_path)
    inode_before = serving.stat().st_ino
    marketing_engine = Path(sys.executable).with_name("marketing-engine")
    # The CLI keeps the file open while `.shell` runs the publish from inside the session.
    script = (
        "select count(*) from marts.dim_customers;\n"
        f".shell {marketing_engine} publish\n"
        "select count(*) from marts.dim_customers;\n"
    )
    session = subprocess.run(
        [str(binary), "-readonly", "-csv", "-noheader", str(serving)],
        input=script, capture_output=True, text=True, check=False,
        env=cli_env(tmp_path), cwd=PROJECT,
    )  # fmt: skip
    assert session.returncode == 0, session.stderr
    lines = session.stdout.strip().splitlines()
    assert any(line.startswith("published ") for line in lines), session.stdout + session.stderr
    assert "error" not in session.stderr.lower(), session.stderr
    assert lines[0] == lines[-1] and int(lines[0]) > 0  # the open session kept reading
    assert serving.stat().st_ino != inode_before  # a new file was swapped in meanwhile
    _, counts = _cli_counts(binary, serving)
    assert counts["dim_customers"] == int(lines[0])


def test_a_node_client_holding_the_file_does_not_block_a_publish(sample_build, tmp_path):
    command = node_client()
    serving = publish_workdir(sample_build, tmp_path)
    inode_before = serving.stat().st_ino
    reader = subprocess.Popen(
        [*command, NODE_CLIENTS[-1], str(serving), "--hold"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = reader.stdout.readline()
        assert first, reader.stderr.read()  # the client could not open the file
        before = json.loads(first)["counts"]
        published = run_cli(tmp_path, "publish")
        assert published.returncode == 0, published.stderr
        reader.stdin.write("\n")
        reader.stdin.flush()
        after = json.loads(reader.stdout.readline())["counts"]
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    assert reader.returncode == 0, reader.stderr.read()
    assert after == before  # the open connection kept its snapshot
    assert serving.stat().st_ino != inode_before
