-- One row per buyer plotted on the report's customer scatters (RFM page:
-- recency vs orders by segment; Clusters page: recency vs net revenue by
-- cluster): a deterministic sample of at most var report_scatter_max_points
-- buyers (ranked by a hash of the customer id, so the same data plots the
-- same customers) keeps the pages light at any size. rpt_customer_kpis
-- states how many are shown of how many buyers. segment_order lets a page list
-- the segments (and a chart its legend) in the lookup's order.
with customers as (
    select * from {{ ref('dim_customers') }}
    where frequency > 0
),

clusters as (
    select * from {{ ref('customer_clusters') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

ranked as (
    select
        customers.customer_id,
        clusters.cluster_id,
        customers.rfm_segment,
        clusters.cluster_name,
        segments.segment_order,
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
    left join segments
        on customers.rfm_segment = segments.rfm_segment
),

final as (
    select
        cast(customer_id as varchar) as customer_id,
        cast(cluster_id as integer) as cluster_id,
        cast(rfm_segment as varchar) as rfm_segment,
        cast(coalesce(cluster_name, 'Not clustered') as varchar)
            as cluster_name,
        cast(segment_order as integer) as segment_order,
        cast(recency_days as integer) as recency_days,
        cast(frequency as bigint) as orders,
        cast(monetary as decimal(18, 2)) as net_revenue,
        cast(aov as decimal(18, 2)) as average_order_value
    from ranked
    where sample_rank <= {{ var('report_scatter_max_points') }}
)

select * from final
