"""The build tells the truth in plain words, and publish ships only a complete, passing build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import run_cli

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE = PROJECT / "seeds" / "sample"
CLOSED_OLLAMA = "http://127.0.0.1:9"  # OLLAMA_HOST in tests.conftest.cli_env


@pytest.fixture(scope="module")
def summary(sample_build) -> dict:
    return json.loads((sample_build / "build.summary.json").read_text())


@pytest.fixture(scope="module")
def printed(sample_build) -> str:
    return (sample_build / "build.stdout.txt").read_text()


def test_rows_read_kept_and_quarantined_match_the_raw_files_and_the_quarantine(
    summary, printed, warehouse
):
    quarantined = dict(
        warehouse.execute(
            "select source_table, count(*) from staging.stg_shop__quarantined_rows group by 1"
        ).fetchall()
    )
    by_table = {t["table"]: t for t in summary["tables"]}
    assert {"customers", "transactions"} <= set(by_table)
    for table, counts in by_table.items():
        raw = pd.read_csv(SAMPLE / f"raw_{table}.csv", dtype=str, keep_default_na=False)
        assert counts["read"] == len(raw), table
        assert counts["quarantined"] == quarantined.get(table, 0), table
        assert counts["kept"] == len(raw) - quarantined.get(table, 0), table
        if counts["read"]:
            line = (
                f"{table}: {len(raw):,} read, {counts['kept']:,} kept, "
                f"{counts['quarantined']:,} quarantined"
            )
            assert line in printed
    assert by_table["transactions"]["quarantined"] > 0  # the sample's dirty rows


def test_top_quarantine_reasons_are_the_most_frequent(summary, warehouse):
    transactions = next(t for t in summary["tables"] if t["table"] == "transactions")
    reasons = dict(
        warehouse.execute(
            "select quarantine_reason, count(*) from staging.stg_shop__quarantined_rows "
            "where source_table = 'transactions' group by 1"
        ).fetchall()
    )
    assert transactions["top_reasons"]
    for reason in transactions["top_reasons"]:
        assert reasons[reason["reason"]] == reason["rows"]
    assert transactions["top_reasons"][0]["rows"] == max(reasons.values())


def test_template_fallback_and_simulated_campaigns_are_told(printed, warehouse):
    total, templates = warehouse.execute(
        "select count(*), count(*) filter (where generator = 'template') "
        "from marts.marketing_messages"
    ).fetchone()
    assert templates > 0  # no Ollama in tests
    assert (
        f"{templates:,} of {total:,} marketing messages come from templates, because Ollama "
        f"at {CLOSED_OLLAMA} did not answer"
    ) in printed
    simulated = warehouse.execute(
        "select count(*) from marts.campaign_outcomes where source = 'simulation'"
    ).fetchone()[0]
    assert f"Campaign results are simulated ({simulated:,} simulated sends)" in printed


def test_first_build_says_cluster_ids_were_numbered_afresh(printed, warehouse):
    clusters = warehouse.execute(
        "select count(distinct cluster_id) from marts.cluster_assignments "
        "where algorithm = 'kmeans' and not is_noise"
    ).fetchone()[0]
    assert (
        f"Clustering (kmeans): no previous cluster ids to keep (first build); "
        f"{clusters} clusters numbered afresh."
    ) in printed


def _project_with_a_failing_test(tmp_path: Path) -> Path:
    """A copy of the project whose raw_customers.gender only accepts a value nobody has."""
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "target", "logs", "warehouse", "build", "__pycache__", ".*cache"
        ),
    )
    seeds_yml = copy / "seeds" / "sample" / "_sample__seeds.yml"
    config = yaml.safe_load(seeds_yml.read_text())
    seed = next(s for s in config["seeds"] if s["name"] == "raw_customers")
    seed.setdefault("columns", []).append(
        {
            "name": "gender",
            "data_tests": [{"accepted_values": {"arguments": {"values": ["no such gender"]}}}],
        }
    )
    seeds_yml.write_text(yaml.safe_dump(config, sort_keys=False))
    return copy


def test_a_failed_build_explains_the_test_and_is_never_published(sample_build, tmp_path):
    shutil.copy(sample_build / "marketing.duckdb", tmp_path / "marketing.duckdb")
    before = (tmp_path / "marketing.duckdb").read_bytes()
    env = {"MARKETING_ENGINE_PROJECT_DIR": str(_project_with_a_failing_test(tmp_path))}

    build = run_cli(tmp_path, "build", env=env)
    assert build.returncode == 1
    assert "raw_customers.gender:" in build.stdout
    assert "outside the allowed list (no such gender) (accepted_values test)" in build.stdout
    assert "Fix: map them to an allowed value in the customers file" in build.stdout
    assert "serving warehouse was not changed" in build.stderr
    assert (tmp_path / "marketing.duckdb").read_bytes() == before

    publish = run_cli(tmp_path, "publish", env=env)
    assert publish.returncode == 1
    assert "not published" in publish.stderr and "failed" in publish.stderr
    assert (tmp_path / "marketing.duckdb").read_bytes() == before
    assert not list(tmp_path.glob(".marketing.duckdb.*"))


def test_a_partial_build_is_never_published(sample_build, tmp_path):
    shutil.copy(sample_build / "build.duckdb", tmp_path / "build.duckdb")
    shutil.copy(sample_build / "marketing.duckdb", tmp_path / "marketing.duckdb")
    before = (tmp_path / "marketing.duckdb").read_bytes()

    build = run_cli(tmp_path, "build", "--select", "stg_shop__customers")
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "not published: a partial build (--select stg_shop__customers)" in build.stdout
    assert (tmp_path / "marketing.duckdb").read_bytes() == before

    publish = run_cli(tmp_path, "publish")
    assert publish.returncode == 1
    assert "partial (--select stg_shop__customers)" in publish.stderr
    assert (tmp_path / "marketing.duckdb").read_bytes() == before


def _summary_errors(stdout: str) -> str:
    """The summary's error section only (not dbt's own log lines above it)."""
    summary = stdout[stdout.rindex("\nBuild summary") :]
    return summary[summary.index("  Errors:") :]


@pytest.mark.parametrize(
    ("customers", "transactions", "expected"),
    [
        (
            b"customer_id\nC1\n",
            b"order_id,customer_id,ordered_at,quantity,unit_price\n",
            ["No usable transactions:", "transactions.csv has a header but no data rows"],
        ),
        (
            b"customer_id,first_name\nC1,Jos\xe9\n",
            b"order_id,customer_id,ordered_at,quantity,unit_price\nO1,C1,2024-01-02,1,9.5\n",
            ["customers.csv (line 2) is not UTF-8 encoded", "raw CSV files must be UTF-8"],
        ),
    ],
    ids=["header-only-transactions", "latin1-customers"],
)
def test_a_build_error_carries_dbts_real_message_into_the_summary(
    tmp_path, customers, transactions, expected
):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "customers.csv").write_bytes(customers)
    (raw / "transactions.csv").write_bytes(transactions)

    build = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    assert build.returncode == 1
    errors = _summary_errors(build.stdout)
    for fragment in expected:
        assert fragment in errors, errors
    assert str(raw) in errors  # names the file
    recorded = json.loads((tmp_path / "build.summary.json").read_text())["tests"]
    assert any(expected[0] in t["sentence"] and t["status"] == "error" for t in recorded)
    assert not (tmp_path / "marketing.duckdb").exists()
