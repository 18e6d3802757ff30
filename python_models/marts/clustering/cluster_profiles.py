"""One row per algorithm and cluster: size, R/F/M, AOV, categories, demographics, insights."""

from marketing_engine.profiles import (
    CUSTOMER_COLUMNS,
    cluster_category_revenue_in_duckdb,
    profile_clusters,
)


def model(dbt, session):
    dbt.config(materialized="table")
    assigned = dbt.ref("cluster_assignments").project(
        "customer_id, algorithm, cluster_id, cluster_name, is_primary"
    )
    # Revenue per algorithm, cluster and category summed in DuckDB, not one pandas
    # row per customer and category for every algorithm.
    cluster_categories = cluster_category_revenue_in_duckdb(dbt.ref("fct_order_lines"), assigned)
    # Only the columns the profile reads (dim_customers has 40).
    customers = dbt.ref("dim_customers").project(", ".join(CUSTOMER_COLUMNS)).df()
    features = (
        dbt.ref("int_customer_features").project("customer_id, coupon_claims, coupon_burns").df()
    )
    return profile_clusters(assigned.df(), customers, features, cluster_categories)
