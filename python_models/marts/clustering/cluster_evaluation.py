"""One row per fitted algorithm plus one per k of the KMeans sweep: quality metrics."""

from marketing_engine.clustering import (
    ClusteringConfig,
    check_fit_id,
    evaluation_table,
    fit_in_duckdb,
    fit_table,
)


def model(dbt, session):
    dbt.config(materialized="table")
    config = ClusteringConfig.from_mapping(dbt.config.get("clustering"))
    # The fit cluster_fit made in this process (memoized; refitted on the same sample
    # when this model runs alone). Counts come from the published assignments; both
    # must be cluster_fit's fit, or the figures would describe another one.
    sample_fit = fit_in_duckdb(dbt.ref("int_customer_features"), config)
    fit_id = fit_table(sample_fit)["fit_id"].iloc[0]
    check_fit_id(fit_id, dbt.ref("cluster_fit").project("fit_id").df(), "cluster_fit")
    assigned = dbt.ref("cluster_assignments").project("algorithm, cluster_id, is_noise, fit_id")
    assigned = assigned.df()
    check_fit_id(fit_id, assigned, "cluster_assignments")
    return evaluation_table(sample_fit, assigned, config)
