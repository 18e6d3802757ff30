"""The DAG flows one way: seed/source -> staging -> intermediate -> marts -> reports.

Checked on the manifest `dbt parse` writes, for the default vars and for every var
that switches a ref (message_segment_source), so no configuration climbs back up:
- source() is used in staging models only;
- no intermediate model depends, directly or not, on a mart;
- no core mart (tag `core`) depends, directly or not, on an ML mart (tag `ml`:
  clustering, predictions, messaging, campaigns) or on any Python model, so a failing
  fit never blocks dim_customers and the other core tables;
- every mart carries exactly one of the layer tags core, ml, wide, reporting;
- every mart has a contract: dbt's enforced contract for SQL models, the
  columns_match_contract test (same check, as a test) for Python models, which dbt
  cannot contract; a drifted Python mart fails the build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT, cli_env

LAYER_TAGS = {"core", "ml", "wide", "reporting"}


def parse_manifest(tmp_path: Path, variables: dict) -> dict:
    """Nodes of the manifest `dbt parse` writes for `variables`."""
    dbt = Path(sys.executable).with_name("dbt")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [
            str(dbt),
            "parse",
            "--no-partial-parse",
            "--target-path",
            str(tmp_path / "target"),
            "--vars",
            json.dumps(variables),
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((tmp_path / "target" / "manifest.json").read_text())


def layer(node: dict) -> str:
    """staging, intermediate or marts: the folder under models/ or python_models/."""
    return node["fqn"][1] if len(node["fqn"]) > 2 else ""


def ancestors(manifest: dict, unique_id: str) -> set[str]:
    """Every node, seed and source `unique_id` depends on, directly or not."""
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        node = manifest["nodes"].get(todo.pop())
        for parent in (node or {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


@pytest.fixture(
    scope="module",
    params=[{}, {"message_segment_source": "cluster"}],
    ids=["default-vars", "cluster-messages"],
)
def manifest(request, tmp_path_factory) -> dict:
    return parse_manifest(tmp_path_factory.mktemp("dag"), request.param)


def models(manifest: dict) -> dict[str, dict]:
    return {
        uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"
    }


def test_source_is_used_in_staging_only(manifest):
    wrong = [
        uid
        for uid, node in manifest["nodes"].items()
        if any(dep.startswith("source.") for dep in node["depends_on"].get("nodes", []))
        and not (node["resource_type"] == "model" and layer(node) == "staging")
        and node["resource_type"] != "test"
    ]
    assert wrong == [], f"source() outside models/staging: {wrong}"


def test_no_intermediate_model_depends_on_a_mart(manifest):
    all_models = models(manifest)
    wrong = {
        uid: sorted(
            parent
            for parent in ancestors(manifest, uid)
            if parent in all_models and layer(all_models[parent]) == "marts"
        )
        for uid, node in all_models.items()
        if layer(node) in ("staging", "intermediate")
    }
    wrong = {uid: marts for uid, marts in wrong.items() if marts}
    assert wrong == {}, f"intermediate/staging models reading marts: {wrong}"


def test_every_mart_has_one_layer_tag(manifest):
    wrong = {
        node["name"]: sorted(set(node["tags"]) & LAYER_TAGS)
        for node in models(manifest).values()
        if layer(node) == "marts" and len(set(node["tags"]) & LAYER_TAGS) != 1
    }
    assert wrong == {}, f"marts without exactly one of {sorted(LAYER_TAGS)}: {wrong}"


def test_core_marts_never_wait_on_an_ml_mart_or_a_python_model(manifest):
    all_models = models(manifest)
    core = [uid for uid, node in all_models.items() if "core" in node["tags"]]
    assert "model.marketing_engine.dim_customers" in core
    wrong = {}
    for uid in core:
        bad = sorted(
            parent
            for parent in ancestors(manifest, uid)
            if parent in all_models
            and (
                {"ml", "wide", "reporting"} & set(all_models[parent]["tags"])
                or all_models[parent]["language"] == "python"
            )
        )
        if bad:
            wrong[uid] = bad
    assert wrong == {}, f"core marts depending on ML marts or Python models: {wrong}"


def test_ml_marts_do_not_read_the_wide_or_reporting_marts(manifest):
    all_models = models(manifest)
    wrong = {
        uid: sorted(
            parent
            for parent in ancestors(manifest, uid)
            if parent in all_models and {"wide", "reporting"} & set(all_models[parent]["tags"])
        )
        for uid, node in all_models.items()
        if "ml" in node["tags"]
    }
    wrong = {uid: bad for uid, bad in wrong.items() if bad}
    assert wrong == {}, f"ML marts reading later layers: {wrong}"


def test_every_mart_has_an_enforced_contract(manifest):
    all_models = models(manifest)
    checked = {
        node["attached_node"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "columns_match_contract"
    }
    wrong = sorted(
        node["name"]
        for uid, node in all_models.items()
        if layer(node) == "marts"
        and not (
            node["config"].get("contract", {}).get("enforced")
            if node["language"] == "sql"
            else uid in checked
        )
    )
    assert wrong == [], (
        f"marts without a contract (SQL: contract enforced; Python: columns_match_contract "
        f"test): {wrong}"
    )


def test_a_python_mart_whose_columns_drift_fails_its_contract(sample_build, tmp_path):
    """Built types are checked, not only declared: a changed type or an extra column fails."""
    shutil.copy(sample_build / "build.duckdb", tmp_path / "build.duckdb")
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("alter table marts.sales_forecast alter month_start type varchar")
        con.execute("alter table marts.sales_forecast add column surprise integer")
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "test", "-s", "test_name:columns_match_contract"],
        cwd=PROJECT,
        env={**cli_env(tmp_path), "DBT_PROFILES_DIR": str(PROJECT)},
        capture_output=True,
        text=True,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    failed = re.findall(r"Failure in test (columns_match_contract_\w+?)_? ", out)
    assert failed == ["columns_match_contract_sales_forecast"], out[-3000:]
    assert "Got 2 results" in out  # month_start's type and the undeclared column
