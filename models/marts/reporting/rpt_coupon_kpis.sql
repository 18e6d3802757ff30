-- One row: the coupon figures the report pages show. The burn rate is the
-- share of claimed coupons that were burnt (claims burnt / claims), NULL when
-- nothing was claimed; cluster profiles and campaign targets use the same
-- pooled definition.
with coupon_activity as (
    select * from {{ ref('fct_coupon_activity') }}
),

city_performance as (
    select * from {{ ref('fct_city_performance') }}
),

branch_performance as (
    select * from {{ ref('fct_branch_performance') }}
),

totals as (
    select
        coalesce(sum(claims), 0) as coupon_claims,
        coalesce(sum(claims_burnt), 0) as coupon_claims_burnt
    from coupon_activity
),

top_city as (
    select
        city_name as top_city_name,
        burns as top_city_burns
    from city_performance
    where burns > 0
    order by burn_rank, city_name
    limit 1
),

merchant_burns as (
    select
        merchant_name,
        sum(burns) as burns
    from branch_performance
    group by merchant_name
),

top_merchant as (
    select
        merchant_name as top_merchant_name,
        burns as top_merchant_burns
    from merchant_burns
    where burns > 0
    order by burns desc, merchant_name
    limit 1
),

final as (
    select
        top_city.top_city_name,
        top_merchant.top_merchant_name,
        cast(totals.coupon_claims as bigint) as coupon_claims,
        cast(totals.coupon_claims_burnt as bigint) as coupon_claims_burnt,
        cast(
            totals.coupon_claims_burnt * 1.0 / nullif(totals.coupon_claims, 0)
            as double
        ) as coupon_burn_rate,
        cast(top_city.top_city_burns as bigint) as top_city_burns,
        cast(top_merchant.top_merchant_burns as bigint) as top_merchant_burns
    from totals
    left join top_city on true
    left join top_merchant on true
)

select * from final
