-- One row: the sales figures report pages show in sentences: next month's
-- all-customer forecast with its 95% interval (the interval the chart
-- shades), the model the backtest chose for it and why (its note), the top
-- category and channel, and the first backtest caveat of the regression
-- (NULL when it beats both baselines at every horizon, or when there is no
-- backtest: has_backtest false, too little history).
with forecast as (
    select * from {{ ref('sales_forecast') }}
    where segment = 'All customers'
),

backtest as (
    select * from {{ ref('forecast_backtest') }}
),

categories as (
    select * from {{ ref('fct_category_performance') }}
),

channels as (
    select * from {{ ref('rpt_channel_performance') }}
),

forecast_length as (
    -- one row even when every input is empty
    select count(*) as forecast_months from forecast
),

backtest_length as (
    select count(*) > 0 as has_backtest from backtest
),

next_month as (
    select * from forecast
    order by month_start
    limit 1
),

top_category as (
    select * from categories
    order by revenue_rank, category
    limit 1
),

top_channel as (
    select * from channels
    order by orders desc, channel
    limit 1
),

caveat as (
    select * from backtest
    where note is not null
    order by horizon_months, mae
    limit 1
),

final as (
    -- explicit types: the forecast models may return empty or all-NULL frames
    select
        cast(next_month.model as varchar) as forecast_model,
        cast(next_month.model_label as varchar) as forecast_model_label,
        cast(next_month.note as varchar) as forecast_note,
        cast(top_category.category as varchar) as top_category,
        cast(top_channel.channel as varchar) as top_channel,
        cast(caveat.note as varchar) as backtest_caveat_note,
        cast(next_month.forecast as double) as next_month_forecast,
        cast(next_month.lower_95 as double) as next_month_lower_95,
        cast(next_month.upper_95 as double) as next_month_upper_95,
        cast(top_category.revenue_share as double)
            as top_category_revenue_share,
        cast(top_channel.orders as bigint) as top_channel_orders,
        cast(caveat.horizon_months as bigint) as backtest_caveat_horizon_months,
        cast(forecast_length.forecast_months as bigint) as forecast_months,
        cast(backtest_length.has_backtest as boolean) as has_backtest,
        cast(next_month.month_start as date) as next_month_start
    from forecast_length
    cross join backtest_length
    left join next_month on true
    left join top_category on true
    left join top_channel on true
    left join caveat on true
)

select * from final
