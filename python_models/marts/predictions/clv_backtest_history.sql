{{
    config(
        materialized='incremental',
        unique_key='as_of_date',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}
-- One row per as_of_date and chosen customer-base model: its holdout backtest
-- (MAE, bias, RMSE of repeat purchases per customer, and the mean absolute
-- gap between predicted and actual over the ten predicted deciles).
-- Incremental and keyed by as_of_date: a rebuild for the same as_of_date
-- replaces that date's row (even when another model is chosen this time, e.g.
-- after a data fix), a new as_of_date adds one, so a drop in prediction
-- quality shows over time. `dbt build --full-refresh` clears the history.
with comparison as (
    select * from {{ ref('clv_model_comparison') }}
),

calibration as (
    select * from {{ ref('clv_calibration') }}
),

chosen as (
    select * from comparison
    where is_chosen and holdout_mae is not null and as_of_date is not null
),

decile_error as (
    select
        model,
        avg(abs(mean_predicted - mean_actual)) as decile_mean_abs_error
    from calibration
    where is_chosen and grouping = 'predicted_decile'
    group by model
),

final as (
    select
        chosen.model,
        chosen.model_label,
        chosen.calibration_customers,
        chosen.holdout_days,
        chosen.mean_predicted,
        chosen.mean_actual,
        chosen.holdout_mae,
        chosen.holdout_bias,
        chosen.holdout_rmse,
        decile_error.decile_mean_abs_error,
        chosen.as_of_date,
        chosen.calibration_end
    from chosen
    left join decile_error
        on chosen.model = decile_error.model
)

select * from final
