-- One row per band of lifetime net revenue among buyers (customers with an
-- order): how many buyers fall in the band. Bands sort by their label.
with customers as (
    select * from {{ ref('dim_customers') }}
    where frequency > 0
),

banded as (
    select
        case
            when monetary < 2000 then '1: < 2K'
            when monetary < 10000 then '2: 2K-10K'
            when monetary < 50000 then '3: 10K-50K'
            when monetary < 200000 then '4: 50K-200K'
            else '5: 200K+'
        end as monetary_band
    from customers
),

final as (
    select
        monetary_band,
        cast(count(*) as bigint) as customers
    from banded
    group by monetary_band
)

select * from final
