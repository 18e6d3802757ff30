-- One row per education level ('Unknown' when the customers file has none):
-- customers, buyers, orders, net revenue and their shares, average order
-- value, orders per buyer, repeat purchase rate and churn-risk share. Shares
-- are fractions (0-1) of all customers or all net revenue.
with customers as (
    select * from {{ ref('dim_customers') }}
),

grouped as (
    select
        coalesce(cast(education as varchar), 'Unknown') as education,
        count(*) as customers,
        count(case when frequency > 0 then 1 end) as buyers,
        count(case when frequency >= 2 then 1 end) as repeat_buyers,
        count(case when frequency > 0 and is_churn_risk then 1 end)
            as buyers_at_risk,
        coalesce(sum(frequency), 0) as orders,
        coalesce(sum(monetary), 0) as net_revenue
    from customers
    group by 1
),

final as (
    select
        cast(education as varchar) as education,
        cast(customers as bigint) as customers,
        cast(
            customers * 1.0 / sum(customers) over () as double
        ) as customer_share,
        cast(buyers as bigint) as buyers,
        cast(orders as bigint) as orders,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(
            net_revenue / nullif(sum(net_revenue) over (), 0) as double
        ) as revenue_share,
        cast(
            net_revenue / nullif(orders, 0) as decimal(18, 2)
        ) as average_order_value,
        cast(orders * 1.0 / nullif(buyers, 0) as double)
            as orders_per_buyer,
        cast(repeat_buyers * 1.0 / nullif(buyers, 0) as double)
            as repeat_purchase_rate,
        cast(buyers_at_risk * 1.0 / nullif(buyers, 0) as double)
            as churn_risk_share
    from grouped
)

select * from final
