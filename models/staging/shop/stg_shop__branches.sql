-- Usable branches rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__branches') }}
),

final as (
    select
        branch_id,
        branch_name,
        merchant_id,
        city_id
    from checked
    where quarantine_reason is null
)

select * from final
