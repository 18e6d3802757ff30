-- fct_monthly_sales has one row per calendar month from the first order's
-- month to as_of_date's, none missing: returns a row when the count differs.
with monthly_sales as (
    select * from {{ ref('fct_monthly_sales') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

expected as (
    select
        {{ dbt.datediff(
            dbt.date_trunc('month', 'min(orders.order_date)'),
            dbt.date_trunc('month', dbt.dateadd(
                'day', -1, 'max(reference_date.as_of_date)')),
            'month') }} + 1 as months
    from orders
    cross join reference_date
),

actual as (
    select count(*) as months
    from monthly_sales
),

final as (
    select
        expected.months as expected_months,
        actual.months as actual_months
    from expected
    cross join actual
    where expected.months <> actual.months
)

select * from final
