"""One row per fitted algorithm plus one per k of the KMeans sweep: quality metrics."""

from marketing_engine.clustering import ClusteringConfig, evaluation_table, fit_in_duckdb


def model(dbt, session):
    dbt.config(materialized="table")
    config = ClusteringConfig.from_mapping(dbt.config.get("clustering"))
    # The fit cluster_fit made in this process (memoized; refitted on the same sample
    # when this model runs alone). Counts come from the published assignments.
    sample_fit = fit_in_duckdb(dbt.ref("int_customer_features"), config)
    assigned = dbt.ref("cluster_assignments").project("algorithm, cluster_id, is_noise").df()
    return evaluation_table(sample_fit, assigned, config)
