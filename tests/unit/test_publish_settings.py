"""Publish's DuckDB settings: the memory limit it shares with the build's profile."""

import re
from pathlib import Path

import duckdb
import pytest

from marketing_engine.publish import (
    DEFAULT_MEMORY_LIMIT,
    MEMORY_LIMIT_ENV,
    PublishConfigError,
    connection_config,
    memory_limit,
)


def test_publish_and_the_build_profile_share_one_default_memory_limit():
    profiles = (Path(__file__).parents[2] / "profiles.yml").read_text()
    defaults = re.findall(rf"env_var\('{MEMORY_LIMIT_ENV}', '([^']+)'\)", profiles)
    assert defaults == [DEFAULT_MEMORY_LIMIT]


def test_publish_connects_with_the_limit_the_variable_gives(monkeypatch, tmp_path):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "700MB")
    config = connection_config(tmp_path / "serving.tmp", memory_limit())
    setting = "select current_setting('memory_limit')"
    with duckdb.connect(config=config) as con, duckdb.connect() as plain:
        assert con.execute(setting).fetchone() != plain.execute(setting).fetchone()
        plain.execute("set memory_limit = '700MB'")
        assert con.execute(setting).fetchone() == plain.execute(setting).fetchone()
    assert config["temp_directory"] == f"{tmp_path / 'serving.tmp'}.spill"


def test_unset_or_blank_means_the_default(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, " ")
    assert memory_limit() == DEFAULT_MEMORY_LIMIT
    monkeypatch.delenv(MEMORY_LIMIT_ENV)
    assert memory_limit() == DEFAULT_MEMORY_LIMIT


def test_a_value_duckdb_cannot_read_is_named(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(PublishConfigError, match=rf"{MEMORY_LIMIT_ENV}='lots' is not a DuckDB"):
        memory_limit()
