-- Usable campaign sends; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__campaign_sends') }}
),

final as (
    select
        send_id,
        campaign_id,
        customer_id,
        offer_id,
        segment_name,
        variant,
        is_holdout,
        sent_at
    from checked
    where quarantine_reason is null
)

select * from final
