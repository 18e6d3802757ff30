{{ config(materialized='table') }}
-- One row per usable return line whose order has no usable sale line: its
-- sale lines were quarantined (a price the file wrote as 1,234.50, say), or
-- the export starts after the order was placed. Such a return cannot be
-- netted against an order, so it is quarantined with this reason instead of
-- reaching fct_order_lines without its order in fct_orders.
-- base_shop__order_lines is a stored table: it is read twice here, directly,
-- so only its return lines and the sale lines of their orders are scanned,
-- never a copy of all the lines.
with usable_returns as (
    select
        line_id,
        order_id,
        row_key
    from {{ ref('base_shop__order_lines') }}
    where quarantine_reason is null and line_type = 'return'
),

orders_with_a_sale as (
    select distinct sale_lines.order_id
    from {{ ref('base_shop__order_lines') }} as sale_lines
    inner join usable_returns
        on sale_lines.order_id = usable_returns.order_id
    where
        sale_lines.quarantine_reason is null
        and sale_lines.line_type = 'sale'
),

final as (
    select
        usable_returns.line_id,
        usable_returns.order_id,
        usable_returns.row_key,
        'return for order '''
        || usable_returns.order_id
        || ''' with no usable sale line (its sale lines are quarantined '
        || 'or not in the file)' as quarantine_reason
    from usable_returns
    left join orders_with_a_sale
        on usable_returns.order_id = orders_with_a_sale.order_id
    where orders_with_a_sale.order_id is null
)

select * from final
