-- Usable order lines with their money as DECIMAL; returns carry negative
-- quantity and amounts. A view over the parsed base_shop__order_lines table:
-- the lines are stored once (there), not copied again here.
-- With no usable line at all the build stops here with a plain error.
{{ assert_usable_transactions() }}
with checked as (
    select * from {{ ref('base_shop__order_lines') }}
),

final as (
    select
        line_id,
        order_id,
        customer_id,
        product_id,
        channel,
        branch_id,
        line_type,
        case
            when line_type = 'return' then -abs(quantity) else quantity
        end as quantity,
        unit_price,
        case
            when line_type = 'return' then -abs(discount_amount)
            else discount_amount
        end as discount_amount,
        line_type = 'return' as is_return,
        cast(ordered_at as date) as order_date,
        ordered_at
    from checked
    where quarantine_reason is null
)

select * from final
