-- One row per registered customer: the list behind every segment and
-- cluster on the report pages (drill-down). Segment and value tier from
-- dim_customers; cluster from the primary clustering (customer_clusters);
-- churn probability and predicted 12-month value from the CLV model. The
-- first name is PII: publishing blanks it unless names are published.
with customers as (
    select * from {{ ref('dim_customers') }}
),

clusters as (
    select * from {{ ref('customer_clusters') }}
),

lifetime_value as (
    select * from {{ ref('customer_lifetime_value') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

order_dates as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    group by customer_id
),

final as (
    select
        cast(customers.customer_id as varchar) as customer_id,
        cast(clusters.cluster_id as integer) as cluster_id,
        cast(customers.first_name as varchar) as first_name,
        cast(customers.rfm_segment as varchar) as rfm_segment,
        cast(customers.value_tier as varchar) as value_tier,
        cast(
            coalesce(clusters.cluster_name, 'Not clustered (no orders)')
            as varchar
        ) as cluster_name,
        cast(coalesce(customers.city_name, 'Unknown') as varchar) as city_name,
        cast(coalesce(customers.gender, 'Unknown') as varchar) as gender,
        cast(
            case
                when customers.is_churn_risk then 'At risk'
                when customers.frequency > 0 then 'Not at risk'
                else 'No orders yet'
            end as varchar
        ) as churn_risk,
        cast(customers.r_score as integer) as r_score,
        cast(customers.f_score as integer) as f_score,
        cast(customers.m_score as integer) as m_score,
        cast(customers.recency_days as integer) as recency_days,
        cast(customers.frequency as bigint) as orders,
        cast(customers.monetary as decimal(18, 2)) as net_revenue,
        cast(customers.aov as decimal(18, 2)) as average_order_value,
        cast(lifetime_value.churn_probability as double)
            as churn_probability,
        cast(lifetime_value.clv_12_months as decimal(18, 2))
            as predicted_revenue_12_months,
        cast(order_dates.first_order_date as date) as first_order_date,
        cast(order_dates.last_order_date as date) as last_order_date
    from customers
    left join clusters
        on customers.customer_id = clusters.customer_id
    left join lifetime_value
        on customers.customer_id = lifetime_value.customer_id
    left join order_dates
        on customers.customer_id = order_dates.customer_id
)

select * from final
