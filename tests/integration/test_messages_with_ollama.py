"""dbt build against a loopback Ollama: valid LLM messages, then a cached rebuild."""

from __future__ import annotations

import os

import duckdb
import httpx
import pytest

from tests.conftest import run_cli
from tests.fake_ollama import FakeOllama


def test_build_uses_ollama_then_caches_every_message(tmp_path):
    with FakeOllama(["good"]) as server:
        first = run_cli(tmp_path, "build", env={"OLLAMA_HOST": server.host})
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
            generators, statuses, pairings = con.execute(
                "select list(distinct generator), list(distinct validation_status), count(*) "
                "from marts.marketing_messages"
            ).fetchone()
        assert generators == ["ollama"] and statuses == ["valid"]
        assert server.calls >= pairings  # near-duplicate answers are retried
        assert "assert_marketing_messages__fallback_share_low" not in first.stderr

        calls = server.calls
        second = run_cli(tmp_path, "build", env={"OLLAMA_HOST": server.host})
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert server.calls == calls  # unchanged inputs: no LLM call at all
    with duckdb.connect(str(tmp_path / "marketing.duckdb"), read_only=True) as con:
        assert (
            con.execute(
                "select count(*) from marts.marketing_messages where generator = 'ollama'"
            ).fetchone()[0]
            == pairings
        )


def _real_ollama() -> str | None:
    host = os.environ.get("OLLAMA_HOST")
    if not host:
        return None
    try:
        httpx.get(f"{host}/api/tags", timeout=2).raise_for_status()
    except httpx.HTTPError:
        return None
    return host


@pytest.mark.skipif(_real_ollama() is None, reason="no Ollama server answers at OLLAMA_HOST")
def test_real_ollama_writes_valid_messages(tmp_path):
    result = run_cli(tmp_path, "build", env={"OLLAMA_HOST": _real_ollama()})
    assert result.returncode == 0, result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        valid = con.execute(
            "select count(*) from marts.marketing_messages where validation_status = 'valid'"
        ).fetchone()[0]
    assert valid > 0
