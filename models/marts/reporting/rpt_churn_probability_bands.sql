-- One row per churn-probability band of width 0.1 (band start 0.0 to 0.9, 1.0
-- for certain churn): customers with a churn probability in the band.
with customers as (
    select * from {{ ref('customer_360') }}
    where churn_probability is not null
),

final as (
    select
        cast(floor(churn_probability * 10) / 10 as double)
            as churn_probability_band,
        cast(count(*) as bigint) as customers
    from customers
    group by floor(churn_probability * 10)
)

select * from final
