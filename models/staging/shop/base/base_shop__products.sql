-- Products typed and checked; quarantine_reason is null for usable rows.
-- A negative or unreadable price or cost is null and listed in field_issues.
with source as (
    {{ raw_table('products') }}
),

normalized as (
    select
        product_id,
        coalesce(product_name, product_id) as product_name,
        coalesce(category, 'Uncategorized') as category,
        case when list_price >= 0 then list_price end as list_price,
        case when unit_cost >= 0 then unit_cost end as unit_cost,
        parse_errors,
        {{ list_concat(
            'field_issues',
            field_issue_list([
                field_issue('list_price', 'list_price',
                    "case when list_price < 0 then 'negative list_price' end"),
                field_issue('unit_cost', 'unit_cost',
                    "case when unit_cost < 0 then 'negative unit_cost' end"),
            ])
        ) }} as field_issues,
        row_key,
        cast(row_number() over (
            partition by product_id
            order by {{ duplicate_order(
                'products', 'product_id', ['product_name', 'list_price']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate product_id'
        end as quarantine_reason
    from normalized
)

select * from checked
