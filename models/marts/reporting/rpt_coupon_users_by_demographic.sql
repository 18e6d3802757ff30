-- One row per demographic (Gender, City) and value: coupon users (customers
-- with at least one coupon claim) in the group, their share of all coupon
-- users, the group's claims, burns and burn rate (claims burnt / claims,
-- the same pooled measure as rpt_coupon_kpis), and the share of the group's
-- registered customers who use coupons. Shares and rates are fractions (0-1).
-- Without a coupons file the mart is empty.
with coupons as (
    select * from {{ ref('stg_shop__coupons') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

usage as (
    select
        customer_id,
        count(*) as claims,
        count(case when coupon_status = 'burnt' then 1 end) as burns
    from coupons
    group by customer_id
),

grouped as (
    {%- set splits = [('Gender', 'gender'), ('City', 'city_name')] %}
    {%- for dimension, column in splits %}
        select
            '{{ dimension }}' as dimension,
            coalesce(cast(customers.{{ column }} as varchar), 'Unknown')
                as dimension_value,
            count(*) as customers,
            count(usage.customer_id) as coupon_users,
            coalesce(sum(usage.claims), 0) as claims,
            coalesce(sum(usage.burns), 0) as burns
        from customers
        left join usage
            on customers.customer_id = usage.customer_id
        group by 1, 2
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(dimension as varchar) as dimension,
        cast(dimension_value as varchar) as dimension_value,
        cast(coupon_users as bigint) as coupon_users,
        cast(
            coupon_users * 1.0
            / sum(coupon_users) over (partition by dimension) as double
        ) as coupon_user_share,
        cast(claims as bigint) as claims,
        cast(burns as bigint) as burns,
        cast(burns * 1.0 / nullif(claims, 0) as double) as burn_rate,
        cast(customers as bigint) as customers,
        cast(coupon_users * 1.0 / customers as double) as coupon_user_rate
    from grouped
    where coupon_users > 0
)

select * from final
