-- Usable order lines with their money as DECIMAL; returns carry negative
-- quantity and amounts. A view over the parsed base_shop__order_lines table:
-- the lines are stored once (there), not copied again here.
-- With no usable line at all the build stops here with a plain error. A
-- return whose order has no usable sale line is quarantined
-- (base_shop__returns_without_sale), not kept.
{{ assert_usable_transactions() }}
with checked as (
    select * from {{ ref('base_shop__order_lines') }}
),

returns_without_sale as (
    select * from {{ ref('base_shop__returns_without_sale') }}
),

final as (
    select
        checked.line_id,
        checked.order_id,
        checked.customer_id,
        checked.product_id,
        checked.channel,
        checked.branch_id,
        checked.line_type,
        case
            when checked.line_type = 'return' then -abs(checked.quantity)
            else checked.quantity
        end as quantity,
        checked.unit_price,
        case
            when checked.line_type = 'return'
                then -abs(checked.discount_amount)
            else checked.discount_amount
        end as discount_amount,
        checked.line_type = 'return' as is_return,
        cast(checked.ordered_at as date) as order_date,
        checked.ordered_at
    from checked
    left join returns_without_sale
        on checked.line_id = returns_without_sale.line_id
    where
        checked.quarantine_reason is null
        and returns_without_sale.line_id is null
)

select * from final
