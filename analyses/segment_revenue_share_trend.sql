-- Revenue share of each RFM segment on every monthly snapshot: is value
-- concentrating in Champions or leaking to At Risk?
with history as (
    select * from {{ ref('fct_segment_history') }}
),

by_segment as (
    select
        snapshot_date,
        rfm_segment,
        count(*) as customers,
        sum(monetary) as revenue
    from history
    group by snapshot_date, rfm_segment
),

final as (
    select
        snapshot_date,
        rfm_segment,
        customers,
        revenue,
        revenue / sum(revenue) over (partition by snapshot_date)
            as revenue_share
    from by_segment
    order by snapshot_date, revenue desc
)

select * from final
