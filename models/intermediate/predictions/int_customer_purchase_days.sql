-- One row per customer and day with an order: that day's net revenue. The
-- purchase occasions BG/NBD and Gamma-Gamma count (several orders on one day
-- are one occasion), shared by the full-history and calibration summaries.
with orders as (
    select * from {{ ref('int_order_lines_aggregated_to_orders') }}
),

final as (
    select
        customer_id,
        order_date as purchase_date,
        sum(net_revenue) as amount
    from orders
    group by customer_id, order_date
)

select * from final
