"""Run dbt in-process and report what failed in words a user can act on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BUILD_DB = "warehouse/build.duckdb"
DEFAULT_SERVING_DB = "warehouse/marketing.duckdb"


def project_dir() -> Path:
    """The dbt project: MARKETING_ENGINE_PROJECT_DIR, else the nearest dbt_project.yml upwards."""
    configured = os.environ.get("MARKETING_ENGINE_PROJECT_DIR")
    if configured:
        return Path(configured).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").exists():
            return candidate
    raise FileNotFoundError(
        "No dbt_project.yml in this directory or its parents; run from the project "
        "or set MARKETING_ENGINE_PROJECT_DIR."
    )


def build_db_path(project: Path) -> Path:
    return _resolve(project, os.environ.get("MARKETING_ENGINE_BUILD_DB", DEFAULT_BUILD_DB))


def serving_db_path(project: Path) -> Path:
    return _resolve(project, os.environ.get("MARKETING_ENGINE_SERVING_DB", DEFAULT_SERVING_DB))


def target_path(project: Path) -> Path:
    """dbt's target folder (DBT_TARGET_PATH, as dbt itself reads it)."""
    return _resolve(project, os.environ.get("DBT_TARGET_PATH", "target"))


def _resolve(project: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else project / path


@dataclass
class DbtOutcome:
    """What a dbt invocation did: success, and the nodes that failed or warned."""

    success: bool
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    invocation_id: str | None = None


def run_dbt(args: list[str], project: Path, dbt_vars: dict | None = None) -> DbtOutcome:
    """Run dbt with `args` against `project` in a child process (its output streams live).

    A child process, because dbt-duckdb keeps the warehouse file open for the life
    of the process, and publishing must open it afterwards.
    """
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt) if dbt.exists() else "dbt",
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run_results = target_path(project) / "run_results.json"
    if run_results.exists():
        run_results.unlink()
    completed = subprocess.run(command, cwd=project, env=env, check=False)
    outcome = DbtOutcome(success=completed.returncode == 0)
    if not run_results.exists():
        outcome.error = f"dbt exited with code {completed.returncode} before running any node"
        return outcome
    results = json.loads(run_results.read_text())
    outcome.invocation_id = (results.get("metadata") or {}).get("invocation_id")
    for node in results.get("results", []):
        parts = node.get("unique_id", "?").split(".")
        name = parts[2] if len(parts) > 2 else parts[0]  # type.package.name[.hash]
        message = (node.get("message") or "").strip()
        if node.get("status") in ("error", "fail", "runtime error"):
            outcome.failures.append(f"{name}: {message}")
        elif node.get("status") == "warn":
            outcome.warnings.append(f"{name}: {message}")
    return outcome
