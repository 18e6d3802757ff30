"""publish's refusal check: only a complete build that passed is publishable."""

from __future__ import annotations

import json
import os
import re

import duckdb
import pytest

from marketing_engine.build_status import (
    FAILED,
    RUNNING,
    SUCCESS,
    BuildStatus,
    PublishRefused,
    check_publishable,
    read_status,
    write_status,
)


@pytest.fixture
def build(tmp_path):
    """A build file with marts.dim_customers and a manifest declaring it (plus a staging model)."""
    build_db = tmp_path / "build.duckdb"
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_customers as select 1 as customer_id")
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.dim_customers": {
            "resource_type": "model",
            "name": "dim_customers",
            "schema": "marts",
            "config": {"materialized": "table", "enabled": True},
        },
        "model.p.stg_x": {
            "resource_type": "model",
            "name": "stg_x",
            "schema": "staging",
            "config": {"materialized": "view"},
        },
    }
    manifest.write_text(json.dumps({"nodes": nodes}))
    return build_db, manifest


def test_a_successful_full_build_is_publishable(build):
    build_db, manifest = build
    write_status(build_db, BuildStatus(SUCCESS, None, "2026-01-01T00:00:00+00:00"))
    check_publishable(build_db, manifest, ("marts",))
    assert read_status(build_db).outcome == SUCCESS


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (None, "no record of a `marketing-engine build`"),
        (BuildStatus(FAILED, None, "t0"), "failed"),
        (BuildStatus(RUNNING, None, "t0"), "did not finish"),
        (BuildStatus(SUCCESS, "staging+", "t0"), "partial (--select staging+)"),
    ],
)
def test_refuses_missing_failed_running_and_partial_builds(build, status, reason):
    build_db, manifest = build
    if status is not None:
        write_status(build_db, status)
    with pytest.raises(PublishRefused, match=re.escape(reason)):
        check_publishable(build_db, manifest, ("marts",))


def test_refuses_a_build_file_changed_after_the_build(build):
    build_db, manifest = build
    write_status(build_db, BuildStatus(SUCCESS, None, "t0"))
    stat = build_db.stat()
    os.utime(build_db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(PublishRefused, match="changed after the last"):
        check_publishable(build_db, manifest, ("marts",))


def test_refuses_when_a_public_mart_of_the_manifest_is_missing(build):
    build_db, manifest = build
    data = json.loads(manifest.read_text())
    data["nodes"]["model.p.fct_orders"] = {
        "resource_type": "model",
        "name": "fct_orders",
        "schema": "marts",
        "config": {"materialized": "table"},
    }
    manifest.write_text(json.dumps(data))
    write_status(build_db, BuildStatus(SUCCESS, None, "t0"))
    with pytest.raises(PublishRefused, match=r"1 public model\(s\) are missing.*marts\.fct_orders"):
        check_publishable(build_db, manifest, ("marts",))
