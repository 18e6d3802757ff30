-- Products typed and checked; quarantine_reason is null for usable rows.
with source as (
    {{ raw_table('products') }}
),

normalized as (
    select
        product_id,
        coalesce(product_name, product_id) as product_name,
        coalesce(category, 'Uncategorized') as category,
        list_price,
        unit_cost,
        parse_errors,
        row_key,
        row_number() over (
            partition by product_id order by product_name, list_price
        ) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate product_id'
            when list_price < 0 then 'negative list_price'
            when unit_cost < 0 then 'negative unit_cost'
        end as quarantine_reason
    from normalized
)

select * from checked
