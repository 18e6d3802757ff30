-- One row per customer whose first order falls in the calibration period:
-- the clv_summary inputs up to calibration_end (as_of_date minus 1 minus var
-- clv_holdout_days) and the repeat purchase days they made in the holdout
-- period after it, for clv_holdout_validation.
with purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

periods as (
    select
        cast(
            {{ dbt.dateadd(
                'day', '-1 - ' ~ var('clv_holdout_days'), 'as_of_date'
            ) }}
            as date
        ) as calibration_end,
        cast({{ dbt.dateadd('day', -1, 'as_of_date') }} as date)
            as holdout_end
    from reference_date
),

summary as (
    {{ clv_summary('purchase_days',
        '(select calibration_end from periods)') }}
),

holdout as (
    select
        purchase_days.customer_id,
        count(*) as holdout_purchases
    from purchase_days
    cross join periods
    where
        purchase_days.purchase_date > periods.calibration_end
        and purchase_days.purchase_date <= periods.holdout_end
    group by purchase_days.customer_id
),

final as (
    select
        summary.*,
        coalesce(holdout.holdout_purchases, 0) as holdout_purchases,
        {{ dbt.datediff('periods.calibration_end', 'periods.holdout_end',
            'day') }} as holdout_days,
        periods.calibration_end
    from summary
    cross join periods
    left join holdout
        on summary.customer_id = holdout.customer_id
)

select * from final
