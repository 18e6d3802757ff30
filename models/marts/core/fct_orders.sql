-- One row per order that has at least one sale line. Returns booked later
-- against the order reduce its net revenue. order_date is the sale date.
-- The logic is in int_order_lines_aggregated_to_orders.
with orders as (
    select * from {{ ref('int_order_lines_aggregated_to_orders') }}
),

final as (
    select * from orders
)

select * from final
