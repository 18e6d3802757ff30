-- Campaign responses typed and checked; quarantine_reason is null for usable
-- rows. A response must belong to a send.
with source as (
    {{ raw_table('campaign_responses') }}
),

sends as (
    select send_id from {{ ref('stg_shop__campaign_sends') }}
),

quarantined_sends as (
    {{ quarantined_parents('base_shop__campaign_sends', 'send_id') }}
),

normalized as (
    select
        send_id,
        coalesce(is_delivered, false) as is_delivered,
        coalesce(is_opened, false) as is_opened,
        coalesce(is_clicked, false) as is_clicked,
        coalesce(is_converted, false) as is_converted,
        coalesce(revenue, 0) as revenue,
        responded_at,
        parse_errors,
        field_issues,
        row_key,
        cast(row_number() over (
            partition by send_id
            order by {{ duplicate_order(
                'campaign_responses', 'send_id', ['responded_at']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        normalized.*,
        case
            when normalized.parse_errors is not null
                then normalized.parse_errors
            when normalized.occurrence > 1 then 'duplicate send_id'
            when sends.send_id is null
                then coalesce(
                        'send ' || normalized.send_id || ' quarantined: '
                        || quarantined_sends.parent_reason,
                        'response to an unknown send_id'
                    )
            when normalized.revenue < 0 then 'negative revenue'
        end as quarantine_reason
    from normalized
    left join sends
        on normalized.send_id = sends.send_id
    left join quarantined_sends
        on normalized.send_id = quarantined_sends.send_id
)

select * from checked
