"""The clustering fit/score split: KMeans and Ward labels scored in SQL (cluster_scores,
from the fit cluster_fit published from the sample DuckDB picked) equal the in-memory
Python clustering's labels for every customer, and cluster_assignments equals what the
all-Python clustering gives."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from marketing_engine import clustering
from marketing_engine.clustering import SCORED_IN_SQL, ClusteringConfig, assignments, fit_all
from tests.conftest import PROJECT, cli_env


def project_config() -> ClusteringConfig:
    """The clustering settings of dbt_project.yml (the builds under test use them, with
    every "{{ var('name', default) }}" at its default)."""
    models = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["models"]
    settings = models["marketing_engine"]["marts"]["clustering"]["+clustering"]
    default = re.compile(r"\{\{\s*var\('\w+',\s*([^)]+)\)\s*\}\}")
    return ClusteringConfig.from_mapping(
        {
            key: default.sub(r"\1", value) if isinstance(value, str) else value
            for key, value in settings.items()
        }
    )


def python_fit(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, clustering.ClusteringResult]:
    features = con.execute("select * from intermediate.int_customer_features").df()
    clustering._FIT_CACHE.clear()
    return features, fit_all(features, project_config())


def assert_scores_equal_the_python_fit(con: duckdb.DuckDBPyConnection) -> None:
    features, result = python_fit(con)
    scores = con.execute(
        "select customer_id, algorithm, fitted_label, fit_id from marts.cluster_scores"
    ).df()
    fit_ids = con.execute("select distinct fit_id from marts.cluster_fit").df()["fit_id"]
    assert set(scores["fit_id"]) == set(fit_ids) and len(fit_ids) == 1
    sample_fit = result.sample_fit
    for algorithm in SCORED_IN_SQL:
        # The in-memory fit's labels for every customer, before canonical numbering.
        scoring = clustering.Scoring.of(sample_fit.fits[algorithm], sample_fit.sample_ids)
        python = pd.Series(
            scoring.score(result.scaled, result.customer_ids, 10_000), index=result.customer_ids
        )
        sql = scores[scores["algorithm"] == algorithm].set_index("customer_id")["fitted_label"]
        assert len(sql) == len(python) and sql.index.is_unique, algorithm
        differ = python[sql.reindex(python.index).to_numpy() != python.to_numpy()]
        assert differ.empty, f"{algorithm}: {len(differ)} customers differ, e.g. {differ.head()}"
        # Not a trivial partition: the fit found several clusters.
        assert python.nunique() >= project_config().k_min
    # Only the sample reached Python: the published fit's members are the sample.
    members = con.execute(
        "select count(*) from marts.cluster_fit where algorithm = 'dbscan' and parameter = 'member'"
    ).fetchone()[0]
    assert members == min(len(features), project_config().fit_sample_size)


@pytest.fixture(params=["sample_build", "cdnow_build"])
def built(request) -> Path:
    return request.getfixturevalue(request.param)


def test_sql_scores_equal_the_python_fit_for_every_customer(built):
    con = duckdb.connect(str(built / "build.duckdb"), read_only=True)
    assert_scores_equal_the_python_fit(con)


def test_cluster_assignments_equal_the_all_python_clustering(sample_build):
    # A first build (no previous ids): what assignments() alone, with the Python fit's
    # own labels, gives for every customer and algorithm.
    con = duckdb.connect(str(sample_build / "build.duckdb"), read_only=True)
    features, _ = python_fit(con)
    expected = assignments(features, project_config())
    built_table = con.execute(
        "select customer_id, algorithm, cluster_id, cluster_name, is_noise, is_primary"
        " from marts.cluster_assignments"
    ).df()
    key = ["customer_id", "algorithm"]
    merged = expected.merge(built_table, on=key, how="outer", suffixes=("", "_built"))
    assert len(merged) == len(expected) == len(built_table)
    for column in ("cluster_id", "cluster_name", "is_noise", "is_primary"):
        differ = merged[merged[column].to_numpy() != merged[f"{column}_built"].to_numpy()]
        assert differ.empty, (column, differ.head())


def test_sql_scores_customers_outside_the_fit_sample_as_python_does(tmp_path):
    # More customers than fit_sample_size (so most are scored, not fitted) and than
    # hierarchical_sample_size, shaped like int_customer_features (heavy tails, a
    # discount share, missing values the scaler imputes, negative values it clips).
    config = project_config()
    customers = config.fit_sample_size + 4_000
    rng = np.random.default_rng(11)
    frequency = 1 + rng.negative_binomial(1, 0.3, customers)
    aov = np.round(rng.lognormal(3.5, 0.6, customers), 2)
    share = rng.beta(0.5, 2.0, customers)
    share[rng.choice(customers, 300, replace=False)] = np.nan
    recency = rng.integers(0, 3 * 365, customers)
    recency[:5] = -1
    features = pd.DataFrame(
        {
            "customer_id": [f"G{i:07d}" for i in rng.permutation(customers)],
            "recency_days": recency,
            "frequency": frequency,
            "monetary": np.round(frequency * aov, 2),
            "aov": aov,
            "discounted_revenue_share": share,
        }
    )
    database = tmp_path / "build.duckdb"
    with duckdb.connect(str(database)) as con:
        con.register("features", features)
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_customer_features as select customer_id,"
            " cast(recency_days as integer) as recency_days,"
            " cast(frequency as bigint) as frequency,"
            " cast(monetary as decimal(18, 2)) as monetary,"
            " cast(aov as decimal(18, 2)) as aov,"
            " discounted_revenue_share from features"
        )
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "run", "-s", "cluster_fit", "cluster_scores"],
        cwd=PROJECT,
        env={**cli_env(tmp_path), "DBT_PROFILES_DIR": str(PROJECT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(database), read_only=True) as con:
        assert_scores_equal_the_python_fit(con)
        members = con.execute(
            "select count(*) filter (where is_fit_member), count(*) from marts.cluster_scores"
            " where algorithm = 'hierarchical'"
        ).fetchone()
    assert members == (config.hierarchical_sample_size, customers)
