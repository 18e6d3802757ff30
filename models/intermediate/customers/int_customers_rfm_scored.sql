-- One row per customer with at least one valid order: R, F and M scores
-- (1-5), the named segment from the rfm_segment_map seed, the value tier and
-- the churn-risk flag.
--   value tier: Dormant when recency_days > var dormant_after_days; else
--   High-Value when m_score = 5; else Frequent Buyers when f_score >= 4;
--   else New/Regular.
--   churn risk: no order for more than var churn_gap_multiplier x the
--   customer's average gap (at least var churn_min_days); one-order
--   customers after var churn_single_order_days.
with customers as (
    select * from {{ ref('int_orders_aggregated_to_customers') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

scored as (
    select
        *,
        {{ rfm_score('recency_days', higher_is_better=false) }} as r_score,
        {{ rfm_score('frequency') }} as f_score,
        {{ rfm_score('monetary') }} as m_score
    from customers
),

final as (
    select
        scored.customer_id,
        segment_map.rfm_segment,
        case
            when scored.recency_days > {{ var('dormant_after_days') }}
                then 'Dormant'
            when scored.m_score = 5 then 'High-Value'
            when scored.f_score >= 4 then 'Frequent Buyers'
            else 'New/Regular'
        end as value_tier,
        cast(scored.r_score as {{ dbt.type_string() }})
        || cast(scored.f_score as {{ dbt.type_string() }})
        || cast(scored.m_score as {{ dbt.type_string() }}) as rfm_code,
        scored.recency_days,
        scored.frequency,
        scored.monetary,
        scored.gross_revenue,
        scored.discount_amount,
        scored.gross_margin,
        scored.aov,
        scored.tenure_days,
        scored.orders_per_month,
        scored.avg_days_between_orders,
        scored.discounted_revenue_share,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        scored.recency_days > case
            when scored.frequency > 1
                then greatest(
                        {{ var('churn_gap_multiplier') }}
                        * scored.avg_days_between_orders,
                        {{ var('churn_min_days') }}
                    )
            else {{ var('churn_single_order_days') }}
        end as is_churn_risk,
        scored.first_order_date,
        scored.last_order_date,
        scored.as_of_date
    from scored
    inner join segment_map
        on
            scored.r_score = segment_map.r_score
            and scored.f_score = segment_map.f_score
)

select * from final
