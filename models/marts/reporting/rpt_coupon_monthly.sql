-- One row per month with coupon activity: coupons claimed and coupons burnt
-- in the month (all coupon names together).
with coupon_activity as (
    select * from {{ ref('fct_coupon_activity') }}
),

final as (
    select
        activity_month,
        cast(sum(claims) as bigint) as claims,
        cast(sum(burns) as bigint) as burns
    from coupon_activity
    group by activity_month
)

select * from final
