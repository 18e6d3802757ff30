-- No forecast figure is wildly beyond its series' history: every upper_95
-- (and so every figure) is at most 3 x the series' highest month of net
-- revenue (marketing_engine.forecast.CAP_MULTIPLE), recomputed here from the
-- history without the forecasting code. The log-scale OLS interval once
-- reached 648 billion for a segment. Returns every row above the bound.
with forecast as (
    select * from {{ ref('sales_forecast') }}
),

history as (
    select * from {{ ref('int_segment_monthly_revenue') }}
),

segment_peaks as (
    select
        segment,
        max(revenue) as peak_month_revenue
    from history
    group by segment
),

monthly_totals as (
    select
        month_start,
        sum(revenue) as revenue
    from history
    group by month_start
),

total_peak as (
    select
        'All customers' as segment,
        max(revenue) as peak_month_revenue
    from monthly_totals
),

peaks as (
    select * from segment_peaks
    union all
    select * from total_peak
),

final as (
    select
        forecast.segment,
        forecast.month_start,
        forecast.upper_95,
        peaks.peak_month_revenue
    from forecast
    left join peaks
        on forecast.segment = peaks.segment
    where
        peaks.peak_month_revenue is null
        or forecast.upper_95 > 3 * peaks.peak_month_revenue * (1 + 1e-9)
)

select * from final
