-- One row per valid order line (sales and returns) with its product
-- category and money: gross = quantity x unit price, net = gross - discount.
-- A view: fct_order_lines is its one stored copy; the order and customer
-- aggregations read it here so no intermediate model reads a mart.
{{ config(materialized='view') }}

with order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

final as (
    select
        order_lines.line_id,
        order_lines.order_id,
        order_lines.customer_id,
        order_lines.product_id,
        order_lines.branch_id,
        coalesce(products.category, 'Uncategorized') as category,
        order_lines.channel,
        order_lines.line_type,
        order_lines.quantity,
        order_lines.unit_price,
        cast(order_lines.quantity * order_lines.unit_price as decimal(18, 2))
            as gross_amount,
        order_lines.discount_amount,
        {{ money_difference(
            'order_lines.quantity * order_lines.unit_price',
            'order_lines.discount_amount'
        ) }} as net_amount,
        cast(order_lines.quantity * products.unit_cost as decimal(18, 2))
            as cost_amount,
        order_lines.is_return,
        order_lines.discount_amount <> 0 as is_discounted,
        order_lines.order_date,
        order_lines.ordered_at
    from order_lines
    left join products
        on order_lines.product_id = products.product_id
)

select * from final
