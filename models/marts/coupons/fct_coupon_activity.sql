-- One row per coupon and month: coupons claimed in the month, coupons burnt
-- in the month, how many of the month's claims were burnt (ever) and the
-- burn rate of the month's claims.
with coupons as (
    select * from {{ ref('stg_shop__coupons') }}
),

claims as (
    select
        coupon_name,
        cast({{ dbt.date_trunc('month', 'claimed_date') }} as date)
            as activity_month,
        count(*) as claims,
        count(case when coupon_status = 'burnt' then 1 end) as claims_burnt,
        count(distinct customer_id) as claiming_customers
    from coupons
    group by 1, 2
),

burns as (
    select
        coupon_name,
        cast({{ dbt.date_trunc('month', 'burn_date') }} as date)
            as activity_month,
        count(*) as burns
    from coupons
    where coupon_status = 'burnt'
    group by 1, 2
),

joined as (
    select
        coalesce(claims.coupon_name, burns.coupon_name) as coupon_name,
        coalesce(claims.activity_month, burns.activity_month)
            as activity_month,
        coalesce(claims.claims, 0) as claims,
        coalesce(burns.burns, 0) as burns,
        coalesce(claims.claims_burnt, 0) as claims_burnt,
        coalesce(claims.claiming_customers, 0) as claiming_customers
    from claims
    full outer join burns
        on
            claims.coupon_name = burns.coupon_name
            and claims.activity_month = burns.activity_month
),

final as (
    select
        coupon_name,
        claims,
        burns,
        claims_burnt,
        claiming_customers,
        cast(claims_burnt as double) / nullif(claims, 0) as burn_rate,
        activity_month
    from joined
)

select * from final
