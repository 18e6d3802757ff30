"""A session-wide warehouse built from the embedded sample into a temp directory."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli
from tests.datasets import write_cdnow_raw_dir


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


def _build_from_raw(workdir: Path, raw_dir: Path) -> Path:
    result = run_cli(workdir, "build", "--raw-data-dir", str(raw_dir))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


@pytest.fixture(scope="session")
def cdnow_build(tmp_path_factory) -> Path:
    """Workdir (build.duckdb, marketing.duckdb, raw/) built from CDNOW master as it is."""
    workdir = tmp_path_factory.mktemp("cdnow_build")
    return _build_from_raw(workdir, write_cdnow_raw_dir(workdir / "raw"))


@pytest.fixture(scope="session")
def cdnow_shifted_build(tmp_path_factory) -> Path:
    """Workdir built from CDNOW master with every date moved so the last order was yesterday."""
    workdir = tmp_path_factory.mktemp("cdnow_shifted_build")
    yesterday = date.today() - timedelta(days=1)
    return _build_from_raw(workdir, write_cdnow_raw_dir(workdir / "raw", shift_end_to=yesterday))
