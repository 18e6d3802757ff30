-- Order lines typed, normalized and checked against customers and products;
-- quarantine_reason is null for usable rows.
-- Rebuilt in full on every build, except on a daily run (--daily): then only
-- the raw rows dated after the last loaded order time (lines_loaded_until)
-- are parsed and appended, after assert_history_unchanged() has checked that
-- everything before it is what was loaded. A repeated line_id is still a
-- duplicate across days: the loaded rows are earlier, so they count first.
{{ config(
    materialized=daily_materialization(),
    incremental_strategy='append',
    full_refresh=daily_full_refresh(),
    on_schema_change='fail',
    pre_hook=(
        "{% if is_incremental() %}delete from {{ this }} where ordered_at > "
        "{{ lines_loaded_until(this) }}{% endif %}"
    ),
) }}
{%- if is_incremental() %}
    {{- assert_history_unchanged(this) }}
{%- endif %}
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
    {%- if is_incremental() %}
    -- The new day: rows after the watermark. Loaded rows after it (only
    -- rows quarantined as future can be) were deleted by the pre-hook and
    -- are checked again here.
    where ordered_at > {{ lines_loaded_until(this) }}
    {%- endif %}
),
{%- if is_incremental() %}

loaded_occurrences as (
    -- How often each new line_id was loaded before: those rows are dated
    -- earlier, so they come first in the full build's dedupe order. A loaded
    -- row without a readable time sorts last there (nulls last): not counted.
    select
        line_id,
        count(*) as n_loaded
    from {{ this }}
    where
        line_id in (select normalized.line_id from normalized)
        and ordered_at is not null
    group by line_id
),
{%- endif %}

counted as (
    select
        normalized.*,
        {%- if is_incremental() %}
            coalesce(loaded_occurrences.n_loaded, 0) as n_loaded
        {%- else %}
            cast(0 as {{ dbt.type_bigint() }}) as n_loaded
        {%- endif %}
    from normalized
    {%- if is_incremental() %}
    left join loaded_occurrences
        on normalized.line_id = loaded_occurrences.line_id
    {%- endif %}
),

deduplicated as (
    select
        line_id,
        order_id,
        customer_id,
        product_id,
        channel,
        branch_id,
        line_type,
        quantity,
        unit_price,
        discount_amount,
        ordered_at,
        parse_errors,
        field_issues,
        row_key,
        cast(n_loaded + row_number() over (
            partition by line_id
            order by {{ duplicate_order(
                'transactions', 'line_id',
                ['ordered_at', 'quantity', 'unit_price']) }}
        ) as bigint) as occurrence
    from counted
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
