-- One row per customer with at least one valid order: the behavioural and
-- demographic features the clustering models may use (the list in use is
-- python_models config `features`). Shares are 0-1; ordinal codes start at 0.
with rfm as (
    select * from {{ ref('int_customers_rfm_scored') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

orders as (
    select * from {{ ref('int_order_lines_aggregated_to_orders') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_joined_to_products') }}
),

coupons as (
    select * from {{ ref('stg_shop__coupons') }}
),

channels as (
    select
        customer_id,
        avg(case when channel = 'store' then 1e0 else 0e0 end) as store_share,
        avg(case when channel = 'online' then 1e0 else 0e0 end)
            as online_share,
        avg(case when channel = 'app' then 1e0 else 0e0 end) as app_share
    from orders
    group by customer_id
),

category_revenue as (
    select
        customer_id,
        category,
        sum(net_amount) as revenue
    from order_lines
    group by customer_id, category
),

category_mix as (
    select
        customer_id,
        count(*) as n_categories,
        cast(max(revenue) as double) / nullif(sum(revenue), 0)
            as top_category_share
    from category_revenue
    group by customer_id
),

coupon_use as (
    select
        customer_id,
        count(*) as coupon_claims,
        count(case when coupon_status = 'burnt' then 1 end) as coupon_burns
    from coupons
    group by customer_id
),

final as (
    select
        rfm.customer_id,
        rfm.recency_days,
        rfm.frequency,
        cast(rfm.monetary as double) as monetary,
        cast(rfm.aov as double) as aov,
        rfm.tenure_days,
        rfm.orders_per_month,
        rfm.is_churn_risk,
        coalesce(rfm.discounted_revenue_share, 0) as discounted_revenue_share,
        coalesce(coupon_use.coupon_claims, 0) as coupon_claims,
        coalesce(coupon_use.coupon_burns, 0) as coupon_burns,
        -- Unknown, not 0, for a customer who never claimed a coupon.
        cast(coupon_use.coupon_burns as double)
        / nullif(coupon_use.coupon_claims, 0) as coupon_burn_rate,
        coalesce(channels.store_share, 0) as store_share,
        coalesce(channels.online_share, 0) as online_share,
        coalesce(channels.app_share, 0) as app_share,
        coalesce(category_mix.n_categories, 0) as n_categories,
        coalesce(category_mix.top_category_share, 0) as top_category_share,
        cast(
            {{ dbt.datediff('customers.birth_date', 'rfm.as_of_date', 'day') }}
            as double
        ) / 365.25 as age_years,
        customers.num_kids,
        case customers.education
            when 'High School' then 0
            when 'Diploma' then 1
            when 'Bachelor' then 2
            when 'Master' then 3
            when 'PhD' then 4
        end as education_level,
        case customers.income_band
            when 'Low' then 0
            when 'Lower-Middle' then 1
            when 'Upper-Middle' then 2
            when 'High' then 3
        end as income_level
    from rfm
    inner join customers
        on rfm.customer_id = customers.customer_id
    left join channels
        on rfm.customer_id = channels.customer_id
    left join category_mix
        on rfm.customer_id = category_mix.customer_id
    left join coupon_use
        on rfm.customer_id = coupon_use.customer_id
)

select * from final
