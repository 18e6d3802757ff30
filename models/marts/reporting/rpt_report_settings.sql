-- One row: what the report site needs to present the build, the data's
-- as-of date and order period, and the currency and locale the money
-- figures are in (vars report_currency, report_currency_symbol,
-- report_locale), so the site formats what this build computed.
with reference_date as (
    select * from {{ ref('int_reference_date') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

order_period as (
    select
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
),

final as (
    select
        cast(
            {{ report_setting_literal('report_currency') }} as varchar
        ) as currency_code,
        cast(
            {{ report_setting_literal('report_currency_symbol') }} as varchar
        ) as currency_symbol,
        cast(
            {{ report_setting_literal('report_locale') }} as varchar
        ) as locale,
        cast(reference_date.as_of_date as date) as as_of_date,
        cast(order_period.first_order_date as date) as first_order_date,
        cast(order_period.last_order_date as date) as last_order_date
    from reference_date
    cross join order_period
)

select * from final
