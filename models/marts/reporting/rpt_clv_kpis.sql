-- One row: the customer-base model chosen by holdout MAE and its figures
-- (MAE, bias, mean predicted and actual holdout repeat purchases), the
-- runner-up, how many builds the backtest history holds, and, when the fits
-- used a seeded sample of the customers, the notes that say so.
with comparison as (
    select * from {{ ref('clv_model_comparison') }}
),

parameters as (
    select * from {{ ref('clv_model_parameters') }}
),

fit_notes as (
    select max(sample_note) as fit_sample_note from parameters
),

history as (
    select * from {{ ref('clv_backtest_history') }}
),

chosen as (
    select * from comparison
    where is_chosen
),

ranked as (
    select
        *,
        row_number() over (order by holdout_mae, model) as mae_rank
    from comparison
    where is_converged and holdout_mae is not null
),

runner_up as (
    select * from ranked
    where mae_rank = 2
),

counts as (
    select
        count(*) as models_compared,
        count(case when is_converged then 1 end) as models_converged
    from comparison
),

builds as (
    select count(*) as backtest_builds from history
),

final as (
    select
        cast(chosen.model_label as varchar) as chosen_model_label,
        cast(runner_up.model_label as varchar) as runner_up_model_label,
        cast(chosen.note as varchar) as selection_note,
        cast(fit_notes.fit_sample_note as varchar) as fit_sample_note,
        cast(chosen.sample_note as varchar) as comparison_sample_note,
        cast(chosen.calibration_customers as bigint) as calibration_customers,
        cast(chosen.holdout_days as bigint) as holdout_days,
        cast(counts.models_compared as bigint) as models_compared,
        cast(counts.models_converged as bigint) as models_converged,
        cast(builds.backtest_builds as bigint) as backtest_builds,
        cast(chosen.holdout_mae as double) as chosen_holdout_mae,
        cast(chosen.holdout_bias as double) as chosen_holdout_bias,
        cast(chosen.mean_predicted as double) as chosen_mean_predicted,
        cast(chosen.mean_actual as double) as chosen_mean_actual,
        cast(runner_up.holdout_mae as double) as runner_up_holdout_mae,
        coalesce(chosen.holdout_mae is not null, false) as has_holdout
    from counts
    cross join builds
    cross join fit_notes
    left join chosen on true
    left join runner_up on true
)

select * from final
