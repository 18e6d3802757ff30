"""Run dbt in-process and report what failed in words a user can act on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
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
        command += ["--vars", json.dumps(dbt_vars, default=str)]  # YAML dates as text
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run_results = target_path(project) / "run_results.json"
    if run_results.exists():
        run_results.unlink()
    returncode, output = _run_streaming(command, project, env)
    outcome = DbtOutcome(success=returncode == 0)
    if not run_results.exists():
        cause = error_from_output(output)
        outcome.error = cause or f"dbt exited with code {returncode} before running any node"
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


ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMESTAMP = re.compile(r"^\d{2}:\d{2}:\d{2}(?:\.\d+)?\s+")
ERROR_START = re.compile(
    r"(Compilation|Runtime|Parsing|Database|Dependency) Error|Encountered an error"
)


def _run_streaming(command: list[str], cwd: Path, env: dict) -> tuple[int, list[str]]:
    """Run `command`, echoing its stdout and stderr live, and return its exit code and output."""
    child = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    captured: list[str] = []
    lock = threading.Lock()

    def pump(stream, sink) -> None:
        for line in stream:
            sink.write(line)
            sink.flush()
            with lock:
                captured.append(line)

    threads = [
        threading.Thread(target=pump, args=(child.stdout, sys.stdout), daemon=True),
        threading.Thread(target=pump, args=(child.stderr, sys.stderr), daemon=True),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return child.wait(), captured


def error_from_output(output: list[str], max_lines: int = 12) -> str | None:
    """dbt's error block ('Compilation Error in model x' and the lines under it), or None."""
    lines = [TIMESTAMP.sub("", ANSI.sub("", line)).rstrip() for line in output]
    start = next((i for i, line in enumerate(lines) if ERROR_START.search(line)), None)
    if start is None:
        return None
    if "Encountered an error" in lines[start]:
        start += 1
    block: list[str] = []
    for line in lines[start:]:
        if block and not line.strip():
            break
        if line.strip():
            block.append(line.strip())
    return "\n".join(block[:max_lines]) or None
