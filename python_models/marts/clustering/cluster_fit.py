"""The clustering fit as parameters: scaler, KMeans centres, Ward centroids and sample labels.

The fit half of the fit/score split: fitted in Python on the one seeded sample
(src/marketing_engine/clustering.py), published small, and scored for every
customer in SQL by cluster_scores, which runs on any engine.
"""

from marketing_engine.clustering import ClusteringConfig, fit_all, fit_table


def model(dbt, session):
    dbt.config(materialized="table")
    config = ClusteringConfig.from_mapping(dbt.config.get("clustering"))
    features = dbt.ref("int_customer_features").df()
    # fit_all is memoized: cluster_assignments and cluster_evaluation reuse this fit.
    return fit_table(fit_all(features, config))
