"""One row per fitted algorithm plus one per k of the KMeans sweep: quality metrics."""

from marketing_engine.clustering import ClusteringConfig, evaluation_table


def model(dbt, session):
    dbt.config(materialized="table")
    config = ClusteringConfig.from_mapping(dbt.config.get("clustering"))
    features = dbt.ref("int_customer_features").df()
    # Built after the assignments, so the in-process fit they made is reused.
    # Only what the evaluation counts (clustered customers per algorithm).
    assigned = dbt.ref("cluster_assignments").project("algorithm, is_noise").df()
    return evaluation_table(features, config, assigned)
