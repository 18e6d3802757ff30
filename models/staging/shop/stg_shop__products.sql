-- Usable products rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__products') }}
),

final as (
    select
        product_id,
        product_name,
        category,
        list_price,
        unit_cost
    from checked
    where quarantine_reason is null
)

select * from final
