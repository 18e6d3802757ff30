"""One row per customer and algorithm (kmeans, dbscan, hierarchical): stable cluster id and name."""

import duckdb

from marketing_engine.clustering import ClusteringConfig, assignments


def model(dbt, session):
    dbt.config(materialized="table")
    config = ClusteringConfig.from_mapping(dbt.config.get("clustering"))
    features = dbt.ref("int_customer_features").df()
    try:
        # The previous build's labels, so clusters keep their ids across rebuilds.
        previous = session.sql(f"select customer_id, algorithm, cluster_id from {dbt.this}").df()
    except duckdb.Error:
        previous = None
    return assignments(features, config, previous)
