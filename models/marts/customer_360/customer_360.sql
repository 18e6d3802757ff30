-- One row per customer: dim_customers with the primary cluster and the
-- predicted lifetime value (BG/NBD + Gamma-Gamma) joined on. The wide
-- customer table sits at the end of the DAG, so a failing fit never blocks
-- dim_customers; customers without an order have no cluster or prediction.
with customers as (
    select * from {{ ref('dim_customers') }}
),

clusters as (
    select * from {{ ref('customer_clusters') }}
),

lifetime_value as (
    select * from {{ ref('customer_lifetime_value') }}
),

final as (
    select
        customers.customer_id,
        customers.first_name,
        customers.email,
        customers.phone,
        customers.gender,
        customers.city_id,
        customers.city_name,
        customers.country,
        customers.timezone,
        customers.education,
        customers.marital_status,
        customers.income_band,
        customers.age_band,
        customers.family_status,
        customers.rfm_segment,
        customers.value_tier,
        clusters.cluster_name,
        customers.rfm_code,
        clusters.cluster_id,
        customers.num_kids,
        customers.age_years,
        customers.recency_days,
        customers.frequency,
        customers.monetary,
        customers.gross_margin,
        customers.aov,
        customers.tenure_days,
        customers.orders_per_month,
        customers.avg_days_between_orders,
        customers.discounted_revenue_share,
        customers.r_score,
        customers.f_score,
        customers.m_score,
        customers.is_sms_opt_in,
        customers.is_email_opt_in,
        customers.is_opted_out,
        customers.is_sms_contactable,
        lifetime_value.p_alive,
        lifetime_value.churn_probability,
        lifetime_value.expected_purchases_90d,
        lifetime_value.expected_order_value,
        lifetime_value.clv_12_months,
        customers.is_churn_risk,
        customers.birth_date,
        customers.join_date,
        customers.first_order_date,
        customers.last_order_date,
        lifetime_value.expected_next_purchase_date,
        customers.as_of_date
    from customers
    left join clusters
        on customers.customer_id = clusters.customer_id
    left join lifetime_value
        on customers.customer_id = lifetime_value.customer_id
)

select * from final
