"""The clustering fit as parameters: scaler, centres, DBSCAN's cores and radius, members.

The fit half of the fit/score split: DuckDB computes the scaler over every customer
and picks the one seeded sample's rows, so only fit_sample_size customers reach
Python (src/marketing_engine/clustering.py, fit_in_duckdb); the fit is published
small and every customer is scored from it where the data lives (cluster_scores in
SQL, DBSCAN in cluster_assignments).
"""

from marketing_engine.clustering import ClusteringConfig, fit_in_duckdb, fit_table


def model(dbt, session):
    dbt.config(materialized="table")
    config = ClusteringConfig.from_mapping(dbt.config.get("clustering"))
    # fit_in_duckdb is memoized: cluster_evaluation reuses this fit.
    return fit_table(fit_in_duckdb(dbt.ref("int_customer_features"), config))
