{{ config(materialized='view') }}
-- One row per valid order line (sales and returns) with its product
-- category and money: gross = quantity x unit price, net = gross - discount.
-- The logic is in int_order_lines_joined_to_products.
-- A view: the lines are stored once, in staging's parsed base table; the
-- serving file gets a table (publish materializes it).
with order_lines as (
    select * from {{ ref('int_order_lines_joined_to_products') }}
),

final as (
    select * from order_lines
)

select * from final
