-- One row per segment of each segmentation: segmentation = 'rfm_segment'
-- (every segment in the rfm_segments seed, empty ones included, so shares
-- always sum to 100%) or 'value_tier'. Historical CLV = average net revenue
-- per customer to date.
with customers as (
    select * from {{ ref('dim_customers') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

value_tiers as (
    select
        'High-Value' as segment_name,
        1 as segment_order
    union all
    select
        'Frequent Buyers' as segment_name,
        2 as segment_order
    union all
    select
        'New/Regular' as segment_name,
        3 as segment_order
    union all
    select
        'Dormant' as segment_name,
        4 as segment_order
),

labelled as (
    select
        'rfm_segment' as segmentation,
        rfm_segment as segment_name,
        *
    from customers
    union all
    select
        'value_tier' as segmentation,
        value_tier as segment_name,
        *
    from customers
),

all_segments as (
    select
        'rfm_segment' as segmentation,
        rfm_segment as segment_name,
        segment_order
    from segments
    union all
    select
        'value_tier' as segmentation,
        segment_name,
        segment_order
    from value_tiers
),

aggregated as (
    select
        segmentation,
        segment_name,
        count(*) as customers,
        sum(frequency) as orders,
        count(case when frequency >= 2 then 1 end) as repeat_customers,
        count(case when frequency >= 1 then 1 end) as buyers,
        count(case when is_churn_risk then 1 end) as churn_risk_customers,
        sum(monetary) as revenue,
        case
            when count(gross_margin) = count(*) then sum(gross_margin)
        end as gross_margin,
        avg(recency_days) as avg_recency_days
    from labelled
    group by segmentation, segment_name
),

totals as (
    select
        segmentation,
        sum(customers) as total_customers,
        sum(revenue) as total_revenue
    from aggregated
    group by segmentation
),

final as (
    select
        all_segments.segmentation,
        all_segments.segment_name,
        cast(all_segments.segment_order as integer) as segment_order,
        coalesce(aggregated.customers, 0) as customers,
        -- bigint on every engine (a sum of counts is hugeint on DuckDB).
        cast(coalesce(aggregated.orders, 0) as bigint) as orders,
        cast(coalesce(aggregated.revenue, 0) as decimal(18, 2)) as revenue,
        cast(
            case
                when aggregated.segment_name is null then 0
                else aggregated.gross_margin
            end as decimal(18, 2)
        ) as gross_margin,
        cast(coalesce(aggregated.customers, 0) as double)
        / totals.total_customers as customer_share,
        cast(coalesce(aggregated.revenue, 0) as double)
        / nullif(totals.total_revenue, 0) as revenue_share,
        {{ money_from_double(
            'cast(aggregated.revenue as double)'
            ~ ' / nullif(aggregated.orders, 0)') }} as aov,
        cast(aggregated.orders as double) / nullif(aggregated.buyers, 0)
            as orders_per_customer,
        cast(aggregated.repeat_customers as double)
        / nullif(aggregated.buyers, 0) as repeat_purchase_rate,
        {{ money_from_double(
            'cast(aggregated.revenue as double)'
            ~ ' / nullif(aggregated.customers, 0)') }} as historical_clv,
        cast(aggregated.churn_risk_customers as double)
        / nullif(aggregated.customers, 0) as churn_risk_share,
        cast(aggregated.avg_recency_days as double) as avg_recency_days
    from all_segments
    inner join totals
        on all_segments.segmentation = totals.segmentation
    left join aggregated
        on
            all_segments.segmentation = aggregated.segmentation
            and all_segments.segment_name = aggregated.segment_name
)

select * from final
