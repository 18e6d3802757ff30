"""Run a dbt-duckdb Python model's file outside dbt, over a build file.

dbt gives model(dbt, session) a `dbt` whose ref(name) is a relation over the built
table and whose config.get(key) is the model's YAML config; this is that object,
recording the refs a model read, so tests can rerun a model on a copy of a build.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import pandas as pd


class ModelConfig:
    """dbt.config of a Python model: callable, and .get(key) for the YAML config."""

    def __init__(self, values: dict) -> None:
        self.values = values

    def __call__(self, **_: object) -> None:
        return None

    def get(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)


class BuildDbt:
    """The dbt object a dbt-duckdb Python model gets, over a build file; keeps the refs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: dict) -> None:
        self.con, self.config, self.refs = con, ModelConfig(config), []

    def ref(self, name: str) -> duckdb.DuckDBPyRelation:
        self.refs.append(name)
        cursor = self.con.cursor()  # a relation of its own, as each dbt.ref is
        [(schema,)] = cursor.execute(
            "select table_schema from information_schema.tables where table_name = ?", [name]
        ).fetchall()
        return cursor.sql(f"select * from {schema}.{name}")


def run_model_file(path: Path, dbt: BuildDbt, session: object = None) -> pd.DataFrame:
    """model(dbt, session) of the Python model in `path`."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model(dbt, session)
