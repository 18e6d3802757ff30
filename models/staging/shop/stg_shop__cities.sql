-- Usable cities rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__cities') }}
),

final as (
    select
        city_id,
        city_name,
        country,
        timezone
    from checked
    where quarantine_reason is null
)

select * from final
