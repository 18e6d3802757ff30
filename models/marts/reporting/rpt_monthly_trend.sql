-- One row per month: complete months of actual sales (revenue, orders per
-- active customer, AOV) and the forecast months of the all-customer forecast
-- with their 95% interval. is_forecast tells the two apart.
with monthly_sales as (
    select * from {{ ref('fct_monthly_sales') }}
    where not is_partial_month
),

forecast as (
    select * from {{ ref('sales_forecast') }}
    where segment = 'All customers'
),

actuals as (
    select
        month_start,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(orders * 1.0 / nullif(customers, 0) as double)
            as orders_per_active_customer,
        cast(aov as decimal(18, 2)) as aov,
        cast(null as double) as forecast,
        cast(null as double) as forecast_lower_95,
        cast(null as double) as forecast_upper_95,
        false as is_forecast
    from monthly_sales
),

forecasts as (
    select
        cast(month_start as date) as month_start,
        cast(null as decimal(18, 2)) as revenue,
        cast(null as double) as orders_per_active_customer,
        cast(null as decimal(18, 2)) as aov,
        cast(forecast as double) as forecast,
        cast(lower_95 as double) as forecast_lower_95,
        cast(upper_95 as double) as forecast_upper_95,
        true as is_forecast
    from forecast
),

final as (
    select * from actuals
    union all
    select * from forecasts
)

select * from final
