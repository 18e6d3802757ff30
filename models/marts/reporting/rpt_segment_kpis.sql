-- One row: the segment figures report pages show in sentences, the segment
-- with the most revenue, the segment with the highest AOV, and Champions and
-- at-risk customers (At Risk, Can't Lose Them) in the first and last monthly
-- snapshot.
with segment_kpis as (
    select * from {{ ref('fct_segment_kpis') }}
    where segmentation = 'rfm_segment'
),

snapshots as (
    select * from {{ ref('rpt_segment_snapshots') }}
),

top_revenue as (
    select
        segment_name,
        customer_share,
        revenue_share,
        historical_clv
    from segment_kpis
    where customers > 0
    order by revenue_share desc, segment_order
    limit 1
),

top_aov as (
    select
        segment_name,
        aov
    from segment_kpis
    where customers > 0 and aov is not null
    order by aov desc, segment_order
    limit 1
),

first_snapshot as (
    select * from snapshots
    order by snapshot_date
    limit 1
),

last_snapshot as (
    select * from snapshots
    order by snapshot_date desc
    limit 1
),

snapshot_count as (
    select count(*) as snapshots from snapshots
),

final as (
    select
        top_revenue.segment_name as top_revenue_segment_name,
        top_aov.segment_name as top_aov_segment_name,
        top_revenue.customer_share as top_revenue_segment_customer_share,
        top_revenue.revenue_share as top_revenue_segment_revenue_share,
        top_revenue.historical_clv as top_revenue_segment_historical_clv,
        top_aov.aov as top_aov_segment_aov,
        cast(snapshot_count.snapshots as bigint) as snapshots,
        first_snapshot.champions as first_snapshot_champions,
        last_snapshot.champions as last_snapshot_champions,
        first_snapshot.at_risk_customers as first_snapshot_at_risk_customers,
        last_snapshot.at_risk_customers as last_snapshot_at_risk_customers
    from snapshot_count
    left join top_revenue on true
    left join top_aov on true
    left join first_snapshot on true
    left join last_snapshot on true
)

select * from final
