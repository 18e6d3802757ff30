-- One row per band of lifetime net revenue among buyers (customers with an
-- order): how many buyers fall in the band. Labels carry the build's currency
-- symbol (var report_currency_symbol); band_order sorts them.
{% set symbol = report_setting_literal('report_currency_symbol') -%}
with customers as (
    select * from {{ ref('dim_customers') }}
    where frequency > 0
),

banded as (
    select
        case
            when monetary < 2000 then 1
            when monetary < 10000 then 2
            when monetary < 50000 then 3
            when monetary < 200000 then 4
            else 5
        end as band_order
    from customers
),

counted as (
    select
        band_order,
        count(*) as customers
    from banded
    group by band_order
),

final as (
    select
        cast(
            case band_order
                when 1 then 'Under ' || {{ symbol }} || '2K'
                when 2 then {{ symbol }} || '2K-10K'
                when 3 then {{ symbol }} || '10K-50K'
                when 4 then {{ symbol }} || '50K-200K'
                else {{ symbol }} || '200K or more'
            end as varchar
        ) as monetary_band,
        cast(band_order as bigint) as band_order,
        cast(customers as bigint) as customers
    from counted
)

select * from final
