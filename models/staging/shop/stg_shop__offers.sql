-- Usable offers rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__offers') }}
),

final as (
    select
        offer_id,
        offer_name,
        offer_type,
        category,
        offer_code,
        offer_description,
        discount_pct,
        min_spend,
        is_active,
        valid_from,
        valid_to
    from checked
    where quarantine_reason is null
)

select * from final
