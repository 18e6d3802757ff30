-- One row per customer with an order: P(alive) scored in SQL from the fitted
-- parameters in clv_model_parameters. The score half of the CLV fit/score
-- split: the fit stays a Python model on the driver, the scoring of every
-- customer runs where the data lives (any engine with ln and exp), and on
-- DuckDB it equals customer_lifetime_value.p_alive (tests/integration/
-- test_clv_scoring_in_sql.py). BG/NBD and MBG/NBD have closed forms; a
-- Pareto/NBD fit needs a Gauss hypergeometric function SQL lacks, so its
-- rows are null with scoring_method 'pareto_nbd (scored in Python only)'.
-- When a fit did not converge: the rule-based survival
-- customer_lifetime_value falls back to.
with summary as (
    select * from {{ ref('int_customers_clv_summary') }}
),

parameters as (
    select * from {{ ref('clv_model_parameters') }}
),

fitted as (
    select
        max(case when model <> 'gamma_gamma' then model end) as model,
        max(case when model <> 'gamma_gamma' then r end) as r,
        max(case when model <> 'gamma_gamma' then alpha end) as alpha,
        max(case when model <> 'gamma_gamma' then a end) as a,
        max(case when model <> 'gamma_gamma' then b end) as b,
        max(case when model <> 'gamma_gamma' then time_unit end)
            as time_unit,
        min(case when is_converged then 1 else 0 end) = 1 as is_converged
    from parameters
),

in_units as (
    select
        summary.customer_id,
        fitted.model,
        fitted.is_converged,
        fitted.r,
        fitted.alpha,
        fitted.a,
        fitted.b,
        cast(summary.x as double) as x,
        cast(summary.t_x_days as double)
        / case when fitted.time_unit = 'weeks' then 7.0 else 1.0 end as t_x,
        cast(summary.t_days as double)
        / case when fitted.time_unit = 'weeks' then 7.0 else 1.0 end
            as t_observed,
        cast(summary.t_days - summary.t_x_days as double) as recency_days,
        case
            when summary.x > 0
                then cast(summary.t_x_days as double) / summary.x
            else 180.0
        end as gap_days
    from summary
    cross join fitted
),

log_odds as (
    select
        *,
        -- log odds that the customer has dropped out, capped so exp() stays
        -- finite (P(alive) below 1e-300 is 0 either way).
        least(
            case
                when model = 'bg_nbd' and x > 0
                    then ln(a) - ln(b + x - 1)
                        + (r + x) * (ln(alpha + t_observed) - ln(alpha + t_x))
                when model = 'mbg_nbd'
                    then ln(a) - ln(b + x)
                        + (r + x) * (ln(alpha + t_observed) - ln(alpha + t_x))
            end,
            700
        ) as log_odds_dead
    from in_units
),

final as (
    select
        customer_id,
        case
            when not is_converged then 'rule_based'
            when model = 'pareto_nbd' then 'pareto_nbd (scored in Python only)'
            else model
        end as scoring_method,
        case
            when not is_converged
                then exp(-recency_days / (3 * greatest(gap_days, 1.0)))
            when model = 'bg_nbd' and x = 0 then 1.0
            when model in ('bg_nbd', 'mbg_nbd')
                then 1 / (1 + exp(log_odds_dead))
        end as p_alive
    from log_odds
)

select * from final
