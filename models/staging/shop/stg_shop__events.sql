-- Usable events rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__events') }}
),

final as (
    select
        event_id,
        event_name,
        event_type,
        relevant_categories,
        event_description,
        event_date
    from checked
    where quarantine_reason is null
)

select * from final
