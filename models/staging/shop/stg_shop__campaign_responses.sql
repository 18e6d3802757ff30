-- Usable campaign responses; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__campaign_responses') }}
),

final as (
    select
        send_id,
        is_delivered,
        is_opened,
        is_clicked,
        is_converted,
        revenue,
        responded_at
    from checked
    where quarantine_reason is null
)

select * from final
