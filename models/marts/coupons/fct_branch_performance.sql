-- One row per branch: coupon transactions at the branch, burns, burn rate
-- (burnt / all coupon transactions there), rank by burns (1 = most), its
-- merchant and city, and in-store order revenue.
with coupons as (
    select * from {{ ref('stg_shop__coupons') }}
),

branches as (
    select * from {{ ref('stg_shop__branches') }}
),

merchants as (
    select * from {{ ref('stg_shop__merchants') }}
),

cities as (
    select * from {{ ref('stg_shop__cities') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

coupon_counts as (
    select
        branch_id,
        count(*) as coupon_transactions,
        count(case when coupon_status = 'burnt' then 1 end) as burns,
        count(distinct case when coupon_status = 'burnt' then customer_id end)
            as burning_customers
    from coupons
    where branch_id is not null
    group by branch_id
),

store_orders as (
    select
        branch_id,
        count(*) as store_orders,
        sum(net_revenue) as store_revenue
    from orders
    where branch_id is not null
    group by branch_id
),

final as (
    select
        branches.branch_id,
        branches.merchant_id,
        branches.city_id,
        branches.branch_name,
        coalesce(merchants.merchant_name, branches.merchant_id)
            as merchant_name,
        coalesce(cities.city_name, branches.city_id) as city_name,
        coalesce(coupon_counts.coupon_transactions, 0) as coupon_transactions,
        coalesce(coupon_counts.burns, 0) as burns,
        coalesce(coupon_counts.burning_customers, 0) as burning_customers,
        coalesce(store_orders.store_orders, 0) as store_orders,
        cast(coalesce(store_orders.store_revenue, 0) as decimal(18, 2))
            as store_revenue,
        cast(coupon_counts.burns as double)
        / nullif(coupon_counts.coupon_transactions, 0) as burn_rate,
        cast(
            rank() over (
                order by
                    coalesce(coupon_counts.burns, 0) desc,
                    branches.branch_id
            ) as integer
        ) as burn_rank
    from branches
    left join merchants
        on branches.merchant_id = merchants.merchant_id
    left join cities
        on branches.city_id = cities.city_id
    left join coupon_counts
        on branches.branch_id = coupon_counts.branch_id
    left join store_orders
        on branches.branch_id = store_orders.branch_id
)

select * from final
