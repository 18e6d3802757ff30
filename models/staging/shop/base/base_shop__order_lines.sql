-- Order lines typed, normalized and checked against customers and products;
-- quarantine_reason is null for usable rows.
-- The lookups against customers and products are joins in a staging-layer
-- model on purpose: a line is only usable once its keys resolve, and the
-- quarantine must know that before any mart reads the line.
with source as (
    {{ raw_table('transactions') }}
),

customers as (
    select customer_id from {{ ref('stg_shop__customers') }}
),

products as (
    select product_id from {{ ref('stg_shop__products') }}
),

quarantined_customers as (
    {{ quarantined_parents('base_shop__customers', 'customer_id') }}
),

quarantined_products as (
    {{ quarantined_parents('base_shop__products', 'product_id') }}
),

has_products as (
    select count(*) > 0 as has_products from products
),

normalized as (
    select
        coalesce(
            line_id, order_id || '-' || coalesce(product_id, 'line')
        ) as line_id,
        order_id,
        customer_id,
        product_id,
        lower(coalesce(channel, 'unknown')) as channel,
        branch_id,
        lower(coalesce(line_type, 'sale')) as line_type,
        quantity,
        unit_price,
        coalesce(discount_amount, 0) as discount_amount,
        ordered_at,
        parse_errors,
        field_issues,
        row_key
    from source
),

deduplicated as (
    select
        *,
        cast(row_number() over (
            partition by line_id
            order by ordered_at, quantity, unit_price
        ) as bigint) as occurrence
    from normalized
),

checked as (
    select
        deduplicated.*,
        case
            when deduplicated.parse_errors is not null
                then deduplicated.parse_errors
            when deduplicated.occurrence > 1
                then 'duplicate line_id (repeated row)'
            when deduplicated.line_type not in ('sale', 'return')
                then 'unknown line_type ''' || deduplicated.line_type
                    || ''' (expected sale or return)'
            when deduplicated.unit_price <= 0
                then 'non-positive unit_price'
            when deduplicated.quantity = 0
                then 'zero quantity'
            when deduplicated.quantity < 0 and deduplicated.line_type = 'sale'
                then 'negative quantity on a sale line '
                    || '(mark returns with line_type = return)'
            when deduplicated.ordered_at >= {{ future_cutoff() }}
                then {{ future_reason('ordered_at') }}
            when customers.customer_id is null
                then {{ unknown_parent_reason(
                    'customer', 'customer_id', 'deduplicated.customer_id',
                    'quarantined_customers.parent_reason') }}
            when has_products.has_products
                and deduplicated.product_id is not null
                and products.product_id is null
                then {{ unknown_parent_reason(
                    'product', 'product_id', 'deduplicated.product_id',
                    'quarantined_products.parent_reason') }}
            when abs(deduplicated.discount_amount)
                > abs(deduplicated.quantity * deduplicated.unit_price)
                then 'discount_amount exceeds the line amount'
        end as quarantine_reason
    from deduplicated
    cross join has_products
    left join customers
        on deduplicated.customer_id = customers.customer_id
    left join products
        on deduplicated.product_id = products.product_id
    left join quarantined_customers
        on deduplicated.customer_id = quarantined_customers.customer_id
    left join quarantined_products
        on deduplicated.product_id = quarantined_products.product_id
)

select * from checked
