-- One row per customer plotted on the cluster scatter: a deterministic
-- sample of at most var report_scatter_max_points clustered customers (the
-- same customers on every build of the same data: ranked by a hash of the
-- customer id), with the clustering's own measures as axes. Keeps the page
-- light at any size; rpt_cluster_kpis states how many are shown of how many.
with clusters as (
    select * from {{ ref('customer_clusters') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

ranked as (
    select
        clusters.customer_id,
        clusters.cluster_id,
        clusters.cluster_name,
        customers.recency_days,
        customers.frequency,
        customers.monetary,
        customers.aov,
        row_number() over (
            order by md5(clusters.customer_id), clusters.customer_id
        ) as sample_rank
    from clusters
    inner join customers
        on clusters.customer_id = customers.customer_id
),

final as (
    select
        cast(customer_id as varchar) as customer_id,
        cast(cluster_id as integer) as cluster_id,
        cast(cluster_name as varchar) as cluster_name,
        cast(recency_days as integer) as recency_days,
        cast(frequency as bigint) as orders,
        cast(monetary as decimal(18, 2)) as net_revenue,
        cast(aov as decimal(18, 2)) as average_order_value
    from ranked
    where sample_rank <= {{ var('report_scatter_max_points') }}
)

select * from final
