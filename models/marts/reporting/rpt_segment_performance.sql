-- One row per RFM segment and per value tier: the segment table of the
-- report with human column names (fct_segment_kpis is the source of every
-- figure). Shares and rates are fractions (0-1).
with segment_kpis as (
    select * from {{ ref('fct_segment_kpis') }}
),

final as (
    select
        cast(
            case segmentation
                when 'rfm_segment' then 'RFM segment'
                when 'value_tier' then 'Value tier'
                else segmentation
            end as varchar
        ) as segment_type,
        cast(segment_name as varchar) as segment_name,
        cast(segment_order as integer) as segment_order,
        cast(customers as bigint) as customers,
        cast(customer_share as double) as customer_share,
        cast(orders as bigint) as orders,
        cast(revenue as decimal(18, 2)) as net_revenue,
        cast(revenue_share as double) as revenue_share,
        cast(aov as decimal(18, 2)) as average_order_value,
        cast(orders_per_customer as double) as orders_per_buyer,
        cast(repeat_purchase_rate as double) as repeat_purchase_rate,
        cast(historical_clv as decimal(18, 2)) as net_revenue_per_customer,
        cast(churn_risk_share as double) as churn_risk_share,
        cast(avg_recency_days as double) as average_days_since_last_order
    from segment_kpis
)

select * from final
