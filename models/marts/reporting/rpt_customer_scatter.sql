-- One row per buyer plotted on the report's customer scatters (RFM page:
-- recency vs orders by segment; Clusters page: recency vs net revenue by
-- cluster): a deterministic sample of at most var report_scatter_max_points
-- buyers (ranked by a hash of the customer id, so the same data plots the
-- same customers) keeps the pages light at any size. rpt_customer_kpis
-- states how many are shown of how many buyers.
with customers as (
    select * from {{ ref('dim_customers') }}
    where frequency > 0
),

clusters as (
    select * from {{ ref('customer_clusters') }}
),

ranked as (
    select
        customers.customer_id,
        clusters.cluster_id,
        customers.rfm_segment,
        clusters.cluster_name,
        customers.recency_days,
        customers.frequency,
        customers.monetary,
        customers.aov,
        row_number() over (
            order by md5(customers.customer_id), customers.customer_id
        ) as sample_rank
    from customers
    left join clusters
        on customers.customer_id = clusters.customer_id
),

final as (
    select
        cast(customer_id as varchar) as customer_id,
        cast(cluster_id as integer) as cluster_id,
        cast(rfm_segment as varchar) as rfm_segment,
        cast(coalesce(cluster_name, 'Not clustered') as varchar)
            as cluster_name,
        cast(recency_days as integer) as recency_days,
        cast(frequency as bigint) as orders,
        cast(monetary as decimal(18, 2)) as net_revenue,
        cast(aov as decimal(18, 2)) as average_order_value
    from ranked
    where sample_rank <= {{ var('report_scatter_max_points') }}
)

select * from final
