-- One row per customer-base model fitted on the calibration period, for the
-- predictions page: parameters, log-likelihood, holdout MAE, bias and RMSE of
-- repeat purchases per customer, and which one was chosen (lowest MAE).
with comparison as (
    select * from {{ ref('clv_model_comparison') }}
),

final as (
    select
        cast(model as varchar) as model,
        cast(model_label as varchar) as model_label,
        cast(r as double) as r,
        cast(alpha as double) as alpha,
        cast(a as double) as a,
        cast(b as double) as b,
        cast(s as double) as s,
        cast(beta as double) as beta,
        cast(log_likelihood as double) as log_likelihood,
        cast(holdout_mae as double) as holdout_mae,
        cast(holdout_bias as double) as holdout_bias,
        cast(holdout_rmse as double) as holdout_rmse,
        cast(is_converged as boolean) as is_converged,
        cast(is_chosen as boolean) as is_chosen
    from comparison
)

select * from final
