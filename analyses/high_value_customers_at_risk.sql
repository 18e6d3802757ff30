-- High-value customers who are at risk of churning: the retention team's
-- call list, most valuable first.
with customers as (
    select * from {{ ref('dim_customers') }}
),

final as (
    select
        customer_id,
        rfm_segment,
        value_tier,
        recency_days,
        frequency,
        monetary,
        avg_days_between_orders,
        last_order_date
    from customers
    where
        is_churn_risk
        and m_score >= 4
    order by monetary desc
)

select * from final
