-- One row per number of coupons burnt (0 to 9, then '10 or more'): how many
-- coupon users (customers with at least one claim) burnt that many. Every
-- bin is present (0 when empty) so the histogram keeps its shape;
-- burns_order sorts them. Shares are fractions (0-1) of all coupon users;
-- without a coupons file every bin has 0 users and no share.
with coupons as (
    select * from {{ ref('stg_shop__coupons') }}
),

bins as (
    {{ dbt.generate_series(11) }}
),

users as (
    select
        customer_id,
        count(case when coupon_status = 'burnt' then 1 end) as burns
    from coupons
    group by customer_id
),

counted as (
    select
        bins.generated_number - 1 as burns_order,
        count(users.customer_id) as coupon_users
    from bins
    left join users
        on
            least(users.burns, 10) = bins.generated_number - 1
    group by bins.generated_number
),

final as (
    select
        cast(burns_order as integer) as burns_order,
        cast(
            case
                when burns_order = 10 then '10 or more'
                else cast(burns_order as varchar)
            end as varchar
        ) as coupons_burnt,
        cast(coupon_users as bigint) as coupon_users,
        cast(
            coupon_users * 1.0 / nullif(sum(coupon_users) over (), 0)
            as double
        ) as coupon_user_share
    from counted
)

select * from final
