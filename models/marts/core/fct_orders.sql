{{ config(materialized='view') }}
-- One row per order that has at least one sale line. Returns booked later
-- against the order reduce its net revenue. order_date is the sale date.
-- The logic is in int_order_lines_aggregated_to_orders, which stores the
-- orders once: this is a view over it (last_line_at, its daily-run
-- bookkeeping, left out); the serving file gets a table (publish
-- materializes it).
with orders as (
    select * from {{ ref('int_order_lines_aggregated_to_orders') }}
),

final as (
    select
        order_id,
        customer_id,
        branch_id,
        channel,
        n_lines,
        n_items,
        order_number,
        days_since_previous_order,
        gross_revenue,
        discount_amount,
        net_revenue,
        gross_margin,
        is_first_order,
        is_discounted,
        has_return,
        order_date,
        ordered_at
    from orders
)

select * from final
