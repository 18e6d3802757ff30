-- One row per customer: demographics, consent, RFM measures, scores,
-- segment, value tier and churn-risk flag, from staging and intermediate
-- models only (clusters and predicted CLV: customer_360).
-- Customers with no valid order yet are kept, in segment 'Prospect'.
with customers as (
    select * from {{ ref('stg_shop__customers') }}
),

cities as (
    select * from {{ ref('stg_shop__cities') }}
),

rfm as (
    select * from {{ ref('int_customers_rfm_scored') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

aged as (
    select
        customers.*,
        cast(
            floor(cast({{ dbt.datediff('customers.birth_date',
                'reference_date.as_of_date', 'day') }} as double) / 365.25)
            as integer
        ) as age_years,
        reference_date.as_of_date
    from customers
    cross join reference_date
),

final as (
    select
        customers.customer_id,
        customers.first_name,
        customers.email,
        customers.phone,
        customers.gender,
        customers.city_id,
        coalesce(cities.city_name, 'Unknown') as city_name,
        cities.country,
        coalesce(cities.timezone, 'UTC') as timezone,
        customers.education,
        customers.marital_status,
        customers.income_band,
        {{ age_band('customers.age_years') }} as age_band,
        case
            when customers.marital_status in ('Married')
                and customers.num_kids > 0 then 'Couple with kids'
            when customers.marital_status in ('Married') then 'Couple, no kids'
            when customers.num_kids > 0 then 'Single parent'
            when customers.marital_status is null then 'Unknown'
            else 'Single, no kids'
        end as family_status,
        coalesce(rfm.rfm_segment, 'Prospect') as rfm_segment,
        coalesce(rfm.value_tier, 'New/Regular') as value_tier,
        rfm.rfm_code,
        customers.num_kids,
        customers.age_years,
        rfm.recency_days,
        coalesce(rfm.frequency, 0) as frequency,
        coalesce(rfm.monetary, 0) as monetary,
        case
            when rfm.customer_id is null then 0 else rfm.gross_margin
        end as gross_margin,
        rfm.aov,
        rfm.tenure_days,
        rfm.orders_per_month,
        rfm.avg_days_between_orders,
        rfm.discounted_revenue_share,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        customers.is_sms_opt_in,
        customers.is_email_opt_in,
        customers.is_opted_out,
        customers.is_sms_opt_in and not customers.is_opted_out
            as is_sms_contactable,
        coalesce(rfm.is_churn_risk, false) as is_churn_risk,
        customers.birth_date,
        customers.join_date,
        rfm.first_order_date,
        rfm.last_order_date,
        customers.as_of_date
    from aged as customers
    left join cities
        on customers.city_id = cities.city_id
    left join rfm
        on customers.customer_id = rfm.customer_id
)

select * from final
