-- One row: the demographic figures report pages show in sentences, the
-- largest gender group with its share, the largest age band and city.
with demographics as (
    select * from {{ ref('fct_customer_demographics') }}
),

ranked as (
    select
        dimension,
        dimension_value,
        customer_share,
        row_number() over (
            partition by dimension
            order by customers desc, dimension_value
        ) as size_rank
    from demographics
),

largest as (
    select * from ranked
    where size_rank = 1
),

final as (
    select
        max(case when dimension = 'gender' then dimension_value end)
            as largest_gender,
        max(case when dimension = 'age_band' then dimension_value end)
            as largest_age_band,
        max(case when dimension = 'city_name' then dimension_value end)
            as largest_city,
        max(case when dimension = 'gender' then customer_share end)
            as largest_gender_customer_share
    from largest
)

select * from final
