-- One row per product: name, category, prices and margin.
with products as (
    select * from {{ ref('stg_shop__products') }}
),

final as (
    select
        product_id,
        product_name,
        category,
        list_price,
        unit_cost,
        cast(list_price - unit_cost as double) / nullif(list_price, 0)
            as list_margin_share
    from products
)

select * from final
