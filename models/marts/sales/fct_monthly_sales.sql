-- One row per calendar month from the first order's to the last one before
-- as_of_date (is_partial_month when as_of_date cuts it short): net revenue,
-- orders, customers, AOV, new vs returning customers and month-over-month
-- revenue growth. Months without orders are kept with zeros.
with orders as (
    select * from {{ ref('fct_orders') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

bounds as (
    select
        cast({{ dbt.date_trunc('month', 'min(orders.order_date)') }} as date)
            as first_month,
        cast(
            {{ dbt.date_trunc('month', dbt.dateadd(
                'day', -1, 'max(reference_date.as_of_date)')) }} as date
        ) as end_month,
        max(reference_date.as_of_date) as as_of_date
    from orders
    cross join reference_date
),

month_offsets as (
    -- 2,400 months (200 years) from the first order's month, cut at the last;
    -- assert_fct_monthly_sales__every_month fails loudly if that is too few.
    {{ dbt.generate_series(2400) }}
),

calendar as (
    select
        cast(
            {{ dbt.dateadd('month', 'month_offsets.generated_number - 1',
                'bounds.first_month') }} as date
        ) as month_start,
        bounds.as_of_date
    from month_offsets
    cross join bounds
    where
        {{ dbt.dateadd('month', 'month_offsets.generated_number - 1',
            'bounds.first_month') }}
        <= bounds.end_month
),

monthly as (
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date)
            as month_start,
        count(*) as orders,
        count(distinct customer_id) as customers,
        count(distinct case when is_first_order then customer_id end)
            as new_customers,
        sum(net_revenue) as revenue,
        sum(case when is_first_order then net_revenue else 0 end)
            as new_customer_revenue,
        case
            when count(gross_margin) = count(*) then sum(gross_margin)
        end as gross_margin,
        sum(discount_amount) as discount_amount
    from orders
    group by 1
),

final as (
    select
        calendar.month_start,
        coalesce(monthly.orders, 0) as orders,
        coalesce(monthly.customers, 0) as customers,
        coalesce(monthly.new_customers, 0) as new_customers,
        coalesce(monthly.customers, 0) - coalesce(monthly.new_customers, 0)
            as returning_customers,
        cast(coalesce(monthly.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coalesce(monthly.new_customer_revenue, 0) as decimal(18, 2))
            as new_customer_revenue,
        cast(
            coalesce(monthly.revenue, 0)
            - coalesce(monthly.new_customer_revenue, 0) as decimal(18, 2)
        ) as returning_customer_revenue,
        cast(
            case
                when monthly.month_start is null then 0
                else monthly.gross_margin
            end as decimal(18, 2)
        ) as gross_margin,
        cast(coalesce(monthly.discount_amount, 0) as decimal(18, 2))
            as discount_amount,
        {{ money_from_double(
            'cast(monthly.revenue as double) / nullif(monthly.orders, 0)'
        ) }} as aov,
        cast(coalesce(monthly.revenue, 0) as double)
        / nullif(lag(coalesce(monthly.revenue, 0)) over (
            order by calendar.month_start
        ), 0)
        - 1 as revenue_mom_growth,
        {{ dbt.dateadd('month', 1, 'calendar.month_start') }}
        > calendar.as_of_date as is_partial_month
    from calendar
    left join monthly
        on calendar.month_start = monthly.month_start
)

select * from final
