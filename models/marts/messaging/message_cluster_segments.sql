-- One row per cluster of the primary algorithm (noise excluded): the
-- aggregate figures a message prompt may use. A cluster follows the
-- targeting rules of its most common RFM segment.
with customers as (
    select * from {{ ref('dim_customers') }}
),

clusters as (
    select * from {{ ref('customer_clusters') }}
),

profiles as (
    select * from {{ ref('cluster_profiles') }}
),

dominant_segments as (
    select
        clusters.cluster_name,
        customers.rfm_segment,
        row_number() over (
            partition by clusters.cluster_name
            order by count(*) desc, customers.rfm_segment
        ) as segment_rank
    from customers
    inner join clusters
        on customers.customer_id = clusters.customer_id
    where clusters.cluster_name is not null
    group by clusters.cluster_name, customers.rfm_segment
),

final as (
    select
        profiles.cluster_name as segment_name,
        dominant_segments.rfm_segment as targeting_segment,
        'Favourite categories: ' || profiles.top_categories
            as segment_description,
        profiles.customers as segment_customers,
        profiles.aov as segment_aov,
        profiles.mean_frequency as segment_orders_per_customer,
        cast(null as double) as segment_repeat_rate,
        profiles.churn_risk_share as segment_churn_risk_share
    from profiles
    inner join dominant_segments
        on
            profiles.cluster_name = dominant_segments.cluster_name
            and dominant_segments.segment_rank = 1
    where profiles.is_primary and profiles.cluster_id >= 0
)

select * from final
