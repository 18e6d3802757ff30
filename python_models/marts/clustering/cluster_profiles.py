"""One row per algorithm and cluster: size, R/F/M, AOV, categories, demographics, insights."""

from marketing_engine.profiles import profile_clusters


def model(dbt, session):
    dbt.config(materialized="table")
    assigned = dbt.ref("cluster_assignments").df()
    customers = dbt.ref("dim_customers").df()
    features = dbt.ref("int_customer_features").df()
    category_revenue = (
        dbt.ref("fct_order_lines")
        .aggregate(
            "customer_id, category, sum(net_amount)::double as revenue", "customer_id, category"
        )
        .df()
    )
    return profile_clusters(assigned, customers, features, category_revenue)
