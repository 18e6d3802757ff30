-- One row per customer with an order: the CLV scores of
-- customer_lifetime_value computed in SQL from the fitted parameters in
-- clv_model_parameters. The score half of the CLV fit/score split: the fit
-- stays a Python model on the driver, the scoring of every customer runs
-- where the data lives (plain SQL: ln, exp, power, window sums), and on
-- DuckDB it equals customer_lifetime_value column by column
-- (tests/integration/test_clv_scoring_in_sql.py).
--
-- BG/NBD and MBG/NBD: P(alive) has a closed form; expected purchases need the
-- Gauss hypergeometric function 2F1, summed here as a power series once per
-- distinct (x, T) pair and horizon, never per customer (its coefficients once
-- per distinct x). A Pareto/NBD fit needs 2F1 for P(alive), near z = 1 when
-- its scales differ widely: its rows keep only the closed forms
-- (expected order value, days to the next purchase), the rest is null with
-- scoring_method 'pareto_nbd (scored in Python only)'. When a fit did not
-- converge: the rule-based scores customer_lifetime_value falls back to.
-- The settings (time_unit, monthly_discount_rate, clv_months) are the ones
-- the fit recorded in clv_model_parameters (YAML config key clv).

-- Series truncation. Terms are summed up to an a-priori count n that brings
-- the term below target_term (the terms shrink like k^p z^k); then the rest
-- of the series is bounded a posteriori: for k >= n past every pole and sign
-- change, |t(k+1) / t(k)| <= rho = z max(1, (A+n)/(1+n)) max(1, (B+n)/(C+n))
-- (each factor is monotone in k and tends to 1), so the remainder is at most
-- |t(n)| / (1 - rho). A pair whose bound is not below tolerance x |sum|
-- within max_terms terms (z too near 1), or whose sum lost more than
-- max_cancellation to alternating terms, is not scored: its customers get
-- null purchases and CLV and the scoring_method '<model> (series did not
-- converge)', never a silently wrong number.
{%- set max_terms = 5000 %}
{%- set target_term = 1e-17 %}
{%- set tolerance = 1e-15 %}
{%- set max_cancellation = 1e6 %}
{%- set days_per_month = 30.4375 %}

with summary as (
    select * from {{ ref('int_customers_clv_summary') }}
),

parameters as (
    select * from {{ ref('clv_model_parameters') }}
),

term_numbers as (
    -- generated_number 1 .. max_terms + 1: term index k = generated_number - 1
    {{ dbt.generate_series(max_terms + 1) }}
),

fitted as (
    -- one row: the counting model's and Gamma-Gamma's parameters, the
    -- settings the fit used, and whether both fits converged
    select
        max(case when model <> 'gamma_gamma' then model end) as model,
        max(case when model <> 'gamma_gamma' then time_unit end)
            as time_unit,
        max(case when model <> 'gamma_gamma' then r end) as r,
        max(case when model <> 'gamma_gamma' then alpha end) as alpha,
        max(case when model <> 'gamma_gamma' then a end) as a,
        max(case when model <> 'gamma_gamma' then b end) as b,
        max(case when model = 'gamma_gamma' then p end) as p,
        max(case when model = 'gamma_gamma' then q end) as q,
        max(case when model = 'gamma_gamma' then v end) as v,
        max(monthly_discount_rate) as monthly_discount_rate,
        max(clv_months) as clv_months,
        case when max(time_unit) = 'weeks' then 7.0 else 1.0 end as unit_days,
        min(case when is_converged then 1 else 0 end) = 1 as is_converged
    from parameters
),

customers_in_units as (
    select
        summary.customer_id,
        fitted.model,
        fitted.is_converged,
        fitted.r,
        fitted.alpha,
        fitted.a,
        fitted.b,
        fitted.p,
        fitted.q,
        fitted.v,
        fitted.unit_days,
        fitted.clv_months,
        cast(summary.x as double) as x,
        cast(summary.t_x_days as double) / fitted.unit_days as t_x,
        cast(summary.t_days as double) / fitted.unit_days as t_observed,
        cast(summary.t_days as double) as t_days,
        cast(summary.t_days - summary.t_x_days as double) as recency_days,
        cast(summary.mean_repeat_value as double) as mean_repeat_value,
        cast(summary.first_value as double) as first_value,
        case
            when summary.x > 0
                then cast(summary.t_x_days as double) / summary.x
            else 180.0
        end as gap_days
    from summary
    cross join fitted
),

horizons as (
    -- the expected-purchase windows (month_number null) and the CLV months,
    -- in days
    select
        cast(null as integer) as month_number,
        30.0 as horizon_days
    union all
    select
        cast(null as integer) as month_number,
        90.0 as horizon_days
    union all
    select
        cast(null as integer) as month_number,
        365.0 as horizon_days
    union all
    select
        cast(term_numbers.generated_number as integer) as month_number,
        term_numbers.generated_number * {{ days_per_month }} as horizon_days
    from term_numbers
    cross join fitted
    where term_numbers.generated_number <= fitted.clv_months
),

pairs as (
    -- purchases if alive depend on (x, T) only: one row per distinct pair,
    -- for a converged BG/NBD or MBG/NBD fit
    select distinct
        model,
        r,
        alpha,
        -- the a -> 1 limit of (1 - tail) / (a - 1), as in clv.py
        case when abs(a - 1) < 1e-9 then 1 + 1e-9 else a end as a,
        b,
        unit_days,
        x,
        t_observed
    from customers_in_units
    where is_converged and model in ('bg_nbd', 'mbg_nbd')
),

series_parameters as (
    -- Euler transform of the expectation (Fader, Hardie and Lee 2005):
    -- purchases if alive in the next t = lead (1 - (1 - z)^(a-1) F),
    -- F = 2F1(A, B; C; z), z = t / (alpha + T + t), B = a - 1 and
    -- BG/NBD:  A = a + b - 1 - r, C = a + b + x - 1, lead = C / (a - 1)
    -- MBG/NBD: A = a + b - r,     C = a + b + x,     lead = C / (a - 1)
    select
        pairs.x,
        pairs.t_observed,
        horizons.month_number,
        horizons.horizon_days,
        pairs.a,
        pairs.a - 1 as b_term,
        case
            when pairs.model = 'bg_nbd' then pairs.a + pairs.b - 1 - pairs.r
            else pairs.a + pairs.b - pairs.r
        end as a_term,
        case
            when pairs.model = 'bg_nbd' then pairs.a + pairs.b + pairs.x - 1
            else pairs.a + pairs.b + pairs.x
        end as c_term,
        (horizons.horizon_days / pairs.unit_days)
        / (
            pairs.alpha + pairs.t_observed
            + horizons.horizon_days / pairs.unit_days
        ) as z,
        -- ln(1 - z) without the rounding of 1 - z
        ln(
            (pairs.alpha + pairs.t_observed)
            / (
                pairs.alpha + pairs.t_observed
                + horizons.horizon_days / pairs.unit_days
            )
        ) as log_one_minus_z
    from pairs
    cross join horizons
),

series_lengths as (
    -- a-priori number of terms n: past every pole and sign change
    -- (k > -A, -B, -C), then until k^p z^k < target_term, where
    -- p = A + B - C - 1 is the power of k in the terms' growth
    select
        *,
        least(
            {{ max_terms }},
            cast(ceiling(greatest(0, -a_term, -b_term, -c_term)) as integer)
            + 2
            + cast(
                ceiling(
                    (
                        ln({{ target_term }})
                        - greatest(0, a_term + b_term - c_term - 1)
                        * ln(1 + ln({{ target_term }}) / ln(z))
                    ) / ln(z) * 1.25
                ) as integer
            )
            + 20
        ) as n_terms
    from series_parameters
),

series_coefficients as (
    -- t(k) = c(k) z^k, and c(k) depends on x only (A, B, C do), not on T or
    -- the horizon: one series of coefficients per distinct x, as long as
    -- the longest series that x needs
    select
        x,
        max(a_term) as a_term,
        max(b_term) as b_term,
        max(c_term) as c_term,
        max(n_terms) as n_terms
    from series_lengths
    group by x
),

coefficient_ratios as (
    -- c(k+1) / c(k) = (A + k) (B + k) / ((C + k) (1 + k)), for k = 0 .. n
    select
        series_coefficients.x,
        term_numbers.generated_number - 1 as k,
        (series_coefficients.a_term + term_numbers.generated_number - 1)
        * (series_coefficients.b_term + term_numbers.generated_number - 1)
        / (
            (series_coefficients.c_term + term_numbers.generated_number - 1)
            * term_numbers.generated_number
        ) as ratio
    from series_coefficients
    inner join term_numbers
        on term_numbers.generated_number <= series_coefficients.n_terms + 1
),

coefficients as (
    -- c(k) = prod over j < k of ratio(j), c(0) = 1: its log magnitude, the
    -- number of negative ratios (its sign) and of zero ratios (a series
    -- that terminates), as running sums over the preceding ratios
    select
        x,
        k,
        coalesce(sum(case when ratio <> 0 then ln(abs(ratio)) end) over (
            partition by x
            order by k
            rows between unbounded preceding and 1 preceding
        ), 0) as log_abs_coefficient,
        coalesce(sum(case when ratio < 0 then 1 else 0 end) over (
            partition by x
            order by k
            rows between unbounded preceding and 1 preceding
        ), 0) as negative_ratios,
        coalesce(sum(case when ratio = 0 then 1 else 0 end) over (
            partition by x
            order by k
            rows between unbounded preceding and 1 preceding
        ), 0) as zero_ratios
    from coefficient_ratios
),

signed_coefficients as (
    -- sign(c(k)): 0 once the series terminated, else -1 to the number of
    -- negative ratios
    select
        x,
        k,
        log_abs_coefficient,
        case
            when zero_ratios > 0 then 0
            else 1 - 2 * mod(negative_ratios, 2)
        end as coefficient_sign
    from coefficients
),

terms as (
    -- t(k) = sign(c(k)) exp(ln|c(k)| + k ln z), for k = 0 .. n of each
    -- pair and horizon
    select
        series_lengths.*,
        signed_coefficients.k,
        signed_coefficients.coefficient_sign
        * exp(
            signed_coefficients.log_abs_coefficient
            + signed_coefficients.k * ln(series_lengths.z)
        ) as term
    from series_lengths
    inner join signed_coefficients
        on
            series_lengths.x = signed_coefficients.x
            and series_lengths.n_terms >= signed_coefficients.k
),

series_sums as (
    -- F = sum of t(k) for k < n; the remainder bound |t(n)| / (1 - rho(n))
    select
        x,
        t_observed,
        month_number,
        horizon_days,
        max(a) as a,
        max(c_term) as c_term,
        max(log_one_minus_z) as log_one_minus_z,
        max(z) as z,
        max(n_terms) as n_terms,
        -- the bound holds past every pole and sign change: k > -A, -B, -C
        max(n_terms) > greatest(-min(a_term), -min(b_term), -min(c_term))
            as is_past_poles,
        sum(case when k < n_terms then term end) as series_sum,
        sum(case when k < n_terms then abs(term) end) as series_abs_sum,
        max(case when k = n_terms then abs(term) end) as first_omitted_term,
        max(
            case
                when k = n_terms
                    then z
                        * greatest(1, abs(a_term + k) / (1 + k))
                        * greatest(1, abs(b_term + k) / (c_term + k))
            end
        ) as rho
    from terms
    group by x, t_observed, month_number, horizon_days
),

purchases_if_alive as (
    select
        x,
        t_observed,
        month_number,
        horizon_days,
        n_terms,
        z,
        c_term / (a - 1)
        * (1 - exp((a - 1) * log_one_minus_z) * series_sum)
            as purchases_if_alive,
        first_omitted_term = 0
        or (
            is_past_poles
            and rho < 1
            and first_omitted_term / (1 - rho)
            <= {{ tolerance }} * abs(series_sum)
            and series_abs_sum <= {{ max_cancellation }} * abs(series_sum)
        ) as is_series_converged
    from series_sums
),

discounted_months as (
    -- purchases if alive in month m = cumulative(m) - cumulative(m - 1),
    -- discounted by (1 + monthly_discount_rate)^m
    select
        purchases_if_alive.x,
        purchases_if_alive.t_observed,
        (
            purchases_if_alive.purchases_if_alive
            - coalesce(lag(purchases_if_alive.purchases_if_alive) over (
                partition by purchases_if_alive.x, purchases_if_alive.t_observed
                order by purchases_if_alive.month_number
            ), 0)
        )
        / power(
            1 + fitted.monthly_discount_rate, purchases_if_alive.month_number
        ) as discounted_purchases,
        purchases_if_alive.is_series_converged
    from purchases_if_alive
    cross join fitted
    where purchases_if_alive.month_number is not null
),

pair_scores as (
    -- one row per pair: the windows' purchases if alive, and whether every
    -- window's series converged
    select
        x,
        t_observed,
        max(case when horizon_days = 30 then purchases_if_alive end)
            as purchases_if_alive_30d,
        max(case when horizon_days = 90 then purchases_if_alive end)
            as purchases_if_alive_90d,
        max(case when horizon_days = 365 then purchases_if_alive end)
            as purchases_if_alive_365d,
        min(case when is_series_converged then 1 else 0 end) = 1
            as is_windows_converged
    from purchases_if_alive
    where month_number is null
    group by x, t_observed
),

pair_clv as (
    select
        x,
        t_observed,
        sum(discounted_purchases) as discounted_purchases,
        min(case when is_series_converged then 1 else 0 end) = 1
            as is_months_converged
    from discounted_months
    group by x, t_observed
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
        ) as log_odds_dead,
        -- rule-based fallback: naive purchases per day over the history
        (x + 1) / greatest(t_days, 1.0) as rule_rate,
        -- Gamma-Gamma expected spend per purchase; the population mean for
        -- customers without a repeat purchase of positive value
        case
            when x > 0 and coalesce(mean_repeat_value, 0) > 0
                then p * (v + x * mean_repeat_value) / (p * x + q - 1)
            else p * v / (q - 1)
        end as gamma_gamma_value
    from customers_in_units
),

alive as (
    select
        log_odds.*,
        case
            when not log_odds.is_converged
                then exp(
                        -log_odds.recency_days
                        / (3 * greatest(log_odds.gap_days, 1.0))
                    )
            when log_odds.model = 'bg_nbd' and log_odds.x = 0 then 1.0
            when log_odds.model in ('bg_nbd', 'mbg_nbd')
                then 1 / (1 + exp(log_odds.log_odds_dead))
        end as p_alive,
        pair_scores.purchases_if_alive_30d,
        pair_scores.purchases_if_alive_90d,
        pair_scores.purchases_if_alive_365d,
        pair_clv.discounted_purchases,
        coalesce(
            pair_scores.is_windows_converged and pair_clv.is_months_converged,
            false
        ) as is_series_converged
    from log_odds
    left join pair_scores
        on
            log_odds.x = pair_scores.x
            and log_odds.t_observed = pair_scores.t_observed
    left join pair_clv
        on
            log_odds.x = pair_clv.x
            and log_odds.t_observed = pair_clv.t_observed
),

rule_based as (
    -- the fallback of clv.rule_based_scores when a fit did not converge
    select
        customer_id,
        'rule_based' as scoring_method,
        p_alive,
        1 - p_alive as churn_probability,
        rule_rate * 30 * p_alive as expected_purchases_30d,
        rule_rate * 90 * p_alive as expected_purchases_90d,
        rule_rate * 365 * p_alive as expected_purchases_365d,
        coalesce(mean_repeat_value, first_value) as expected_order_value,
        rule_rate * {{ days_per_month }} * clv_months * p_alive
        * coalesce(mean_repeat_value, first_value) as clv_12_months,
        1 / greatest(rule_rate, 1e-9) as days_to_next_purchase
    from alive
    where not is_converged
),

model_based as (
    -- expected purchases = purchases if alive x P(alive); CLV = discounted
    -- purchases over the months x P(alive) x expected order value
    select
        customer_id,
        case
            when model = 'pareto_nbd' then 'pareto_nbd (scored in Python only)'
            when not is_series_converged
                then {{ dbt.concat(["model", "' (series did not converge)'"]) }}
            else model
        end as scoring_method,
        p_alive,
        1 - p_alive as churn_probability,
        case
            when is_series_converged
                then purchases_if_alive_30d * p_alive
        end as expected_purchases_30d,
        case
            when is_series_converged
                then purchases_if_alive_90d * p_alive
        end as expected_purchases_90d,
        case
            when is_series_converged
                then purchases_if_alive_365d * p_alive
        end as expected_purchases_365d,
        gamma_gamma_value as expected_order_value,
        case
            when is_series_converged
                then discounted_purchases * p_alive * gamma_gamma_value
        end as clv_12_months,
        -- 1 / posterior mean purchase rate, in days (every model has r, alpha)
        (alpha + t_observed) / (r + x) * unit_days as days_to_next_purchase
    from alive
    where is_converged
),

final as (
    select * from rule_based
    union all
    select * from model_based
)

select * from final
