-- Usable merchants rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__merchants') }}
),

final as (
    select
        merchant_id,
        merchant_name,
        merchant_category
    from checked
    where quarantine_reason is null
)

select * from final
