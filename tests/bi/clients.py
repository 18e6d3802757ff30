"""Real BI clients for the tests: DuckDB CLI 1.x from PyPI, DuckDB Node client from npm.

Each is installed once into a gitignored cache (tests/bi/.cache, tests/bi/node/node_modules)
so reruns are fast. If the package registry cannot be reached the test is skipped with
the installer's message, unless MARKETING_ENGINE_REQUIRE_BI=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
NODE_PROJECT = HERE / "node"
NODE_READER = NODE_PROJECT / "read_marts.mjs"
REQUIRE_ENV = "MARKETING_ENGINE_REQUIRE_BI"

# Oldest and newest duckdb-cli on PyPI (1.4 is DuckDB's long-term-support line).
DUCKDB_CLI_VERSIONS = ("1.4.4.post2", "1.5.6")
# Aliases in tests/bi/node/package.json: @duckdb/node-api 1.4.2-r.1 is the oldest
# that Evidence's connector (@evidence-dev/duckdb 2.0.1: ^1.4.2-r.1) accepts, 1.5.6-r.1
# what it installs today.
NODE_CLIENTS = ("duckdb-node-api-oldest", "duckdb-node-api-newest")


def unavailable(reason: str) -> None:
    """Skip, or fail when the environment demands the real clients."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 requires the BI clients)", pytrace=False)
    pytest.skip(reason)


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def duckdb_cli(version: str) -> Path:
    """Path of the `duckdb` binary of duckdb-cli==version, installed in its own venv."""
    venv = CACHE / f"duckdb-cli-{version}"
    binary = venv / "bin" / "duckdb"
    if binary.exists():
        return binary
    shutil.rmtree(venv, ignore_errors=True)
    created = _run([sys.executable, "-m", "venv", str(venv)])
    if created.returncode != 0:
        unavailable(f"cannot create a venv for duckdb-cli: {created.stderr[-500:]}")
    installed = _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"duckdb-cli=={version}"]
    )
    if installed.returncode != 0 or not binary.exists():
        shutil.rmtree(venv, ignore_errors=True)
        unavailable(
            f"cannot install duckdb-cli=={version} from PyPI (registry unreachable?): "
            f"{installed.stderr[-500:]}"
        )
    return binary


def node_client() -> list[str]:
    """Command prefix that runs the Node reader; installs the locked packages once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        unavailable("node and npm are needed for the DuckDB Node client test")
    lock = NODE_PROJECT / "package-lock.json"
    stamp = NODE_PROJECT / "node_modules" / ".package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        # Not `npm ci`: npm leaves other platforms' optional bindings of the nested older
        # alias out of the lockfile and `ci` then refuses; `install --no-save` installs
        # the locked versions without rewriting the lockfile.
        installed = _run([npm, "install", "--no-save", "--no-audit", "--no-fund"], NODE_PROJECT)
        if installed.returncode != 0:
            unavailable(
                "cannot install the DuckDB Node client from npm (registry unreachable?): "
                f"{installed.stderr[:800]}"
            )
    return [node, str(NODE_READER)]
