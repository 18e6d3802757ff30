-- One row per build date (as_of_date) and chosen model: the holdout backtest
-- recorded by clv_backtest_history, so the page shows prediction quality
-- over time.
with history as (
    select * from {{ ref('clv_backtest_history') }}
),

final as (
    select
        cast(model as varchar) as model,
        cast(model_label as varchar) as model_label,
        cast(calibration_customers as bigint) as calibration_customers,
        cast(holdout_mae as double) as holdout_mae,
        cast(holdout_bias as double) as holdout_bias,
        cast(decile_mean_abs_error as double) as decile_mean_abs_error,
        cast(as_of_date as date) as as_of_date
    from history
)

select * from final
