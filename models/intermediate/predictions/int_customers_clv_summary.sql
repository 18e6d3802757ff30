-- One row per customer with at least one valid order: the BG/NBD and
-- Gamma-Gamma inputs over the whole history (see macro clv_summary), observed
-- up to the day before as_of_date.
with purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

observation as (
    select
        cast({{ dbt.dateadd('day', -1, 'as_of_date') }} as date)
            as observation_end,
        as_of_date
    from reference_date
),

summary as (
    {{ clv_summary('purchase_days',
        '(select observation_end from observation)') }}
),

final as (
    select
        summary.*,
        observation.as_of_date
    from summary
    cross join observation
)

select * from final
