"""Shared fixtures: the project root and a helper that runs the CLI in isolation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT


def cli_env(workdir: Path) -> dict[str, str]:
    """Environment that points every warehouse and dbt artifact into `workdir`."""
    return {
        **os.environ,
        "MARKETING_ENGINE_BUILD_DB": str(workdir / "build.duckdb"),
        "MARKETING_ENGINE_SERVING_DB": str(workdir / "marketing.duckdb"),
        "MARKETING_ENGINE_PII_KEY": "test-key",
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_PARTIAL_PARSE": "false",
        # No Ollama unless a test starts one: a closed local port fails fast.
        "OLLAMA_HOST": "http://127.0.0.1:9",
    }


def run_cli(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `marketing-engine <args>` from the project with warehouses in `workdir`."""
    command = [str(Path(sys.executable).with_name("marketing-engine")), *args]
    return subprocess.run(
        command,
        cwd=PROJECT,
        env={**cli_env(workdir), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
