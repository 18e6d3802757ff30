-- One row per customer with at least one valid order: the BG/NBD and
-- Gamma-Gamma inputs over the whole history (see macro clv_summary), observed
-- up to the day before as_of_date.
with orders as (
    select * from {{ ref('fct_orders') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

purchase_days as (
    select
        customer_id,
        order_date as purchase_date,
        sum(net_revenue) as amount
    from orders
    group by customer_id, order_date
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
