-- One row per city: customers living there, coupon claims and burns by those
-- customers, burn rate, burns at the city's branches, the city's top
-- merchant by burns, net revenue of its customers and ranks (1 = most).
with customers as (
    select * from {{ ref('dim_customers') }}
),

coupons as (
    select * from {{ ref('stg_shop__coupons') }}
),

cities as (
    select * from {{ ref('stg_shop__cities') }}
),

branch_performance as (
    select * from {{ ref('fct_branch_performance') }}
),

customer_counts as (
    select
        city_id,
        count(*) as customers,
        sum(monetary) as revenue
    from customers
    group by city_id
),

coupon_counts as (
    select
        customers.city_id,
        count(*) as claims,
        count(case when coupons.coupon_status = 'burnt' then 1 end) as burns
    from coupons
    inner join customers
        on coupons.customer_id = customers.customer_id
    group by customers.city_id
),

merchant_burns as (
    select
        city_id,
        merchant_name,
        sum(burns) as burns,
        row_number() over (
            partition by city_id order by sum(burns) desc, merchant_name
        ) as merchant_rank
    from branch_performance
    group by city_id, merchant_name
),

branch_burns as (
    select
        city_id,
        count(*) as branches,
        sum(burns) as burns_at_branches
    from branch_performance
    group by city_id
),

final as (
    select
        cities.city_id,
        cities.city_name,
        cities.country,
        top_merchant.merchant_name as top_merchant_name,
        coalesce(customer_counts.customers, 0) as customers,
        cast(coalesce(branch_burns.branches, 0) as bigint) as branches,
        coalesce(coupon_counts.claims, 0) as claims,
        coalesce(coupon_counts.burns, 0) as burns,
        cast(coalesce(branch_burns.burns_at_branches, 0) as bigint)
            as burns_at_branches,
        cast(coalesce(customer_counts.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coupon_counts.burns as double) / nullif(coupon_counts.claims, 0)
            as burn_rate,
        cast(
            rank() over (
                order by coalesce(coupon_counts.burns, 0) desc, cities.city_id
            ) as integer
        ) as burn_rank,
        cast(
            rank() over (
                order by
                    coalesce(customer_counts.revenue, 0) desc,
                    cities.city_id
            ) as integer
        ) as revenue_rank
    from cities
    left join customer_counts
        on cities.city_id = customer_counts.city_id
    left join coupon_counts
        on cities.city_id = coupon_counts.city_id
    left join branch_burns
        on cities.city_id = branch_burns.city_id
    left join merchant_burns as top_merchant
        on
            cities.city_id = top_merchant.city_id
            and top_merchant.merchant_rank = 1
)

select * from final
