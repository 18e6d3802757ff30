"""One row per customer and algorithm (kmeans, dbscan, hierarchical): stable cluster id and name.

KMeans and Ward labels come scored in SQL (cluster_scores); DBSCAN's nearest core
within eps is scored here from the published fit (cluster_fit). Here every
algorithm's clusters are numbered, keep the previous build's ids and get names.
"""

import duckdb

from marketing_engine.clustering import ClusteringConfig, cluster_id_origin, published_assignments


def model(dbt, session):
    dbt.config(materialized="table")
    config = ClusteringConfig.from_mapping(dbt.config.get("clustering"))
    features = dbt.ref("int_customer_features").df()
    fit = dbt.ref("cluster_fit").df()
    scores = dbt.ref("cluster_scores").project("customer_id, algorithm, fitted_label, fit_id").df()
    previous, previous_error = None, None
    try:
        # The previous build's labels, so clusters keep their ids across rebuilds.
        previous = session.sql(f"select customer_id, algorithm, cluster_id from {dbt.this}").df()
    except duckdb.CatalogException:
        pass  # first build: no previous table
    except duckdb.Error as error:
        previous_error = str(error).splitlines()[0][:200]
    table = published_assignments(features, fit, scores, config, previous)
    # Told in the build summary: kept ids, new ids, or why none could be kept.
    table["cluster_id_origin"] = cluster_id_origin(table, previous, previous_error)
    # The fit the clusters come from (cluster_evaluation checks it is cluster_fit's).
    table["fit_id"] = fit["fit_id"].iloc[0]
    return table
