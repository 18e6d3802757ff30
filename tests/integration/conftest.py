"""A session-wide warehouse built from the embedded sample into a temp directory."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> Path:
    """Directory holding build.duckdb and marketing.duckdb built from the sample."""
    workdir = tmp_path_factory.mktemp("sample_build")
    result = run_cli(workdir, "build")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    (workdir / "build.stdout.txt").write_text(result.stdout)  # the printed build summary
    return workdir


@pytest.fixture(scope="session")
def warehouse(sample_build):
    """Read-only connection to the build file (all layers)."""
    con = duckdb.connect(str(sample_build / "build.duckdb"), read_only=True)
    yield con
    con.close()
