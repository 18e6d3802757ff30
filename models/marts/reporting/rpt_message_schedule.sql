-- One row per segment and the message it is sent (customer_messages gives
-- each SMS-contactable customer their segment's first upcoming event and
-- best offer): the event and offer, how many customers receive it, and the
-- first and last send in the customers' local time and in UTC (sends fall
-- inside each customer's local sending hours).
with customer_messages as (
    select * from {{ ref('customer_messages') }}
),

messages as (
    select * from {{ ref('marketing_messages') }}
),

grouped as (
    select
        pairing_id,
        segment_name,
        count(*) as customers,
        min(scheduled_local) as first_send_local,
        max(scheduled_local) as last_send_local,
        min(scheduled_at_utc) as first_send_utc,
        max(scheduled_at_utc) as last_send_utc
    from customer_messages
    group by pairing_id, segment_name
),

final as (
    select
        cast(grouped.pairing_id as varchar) as pairing_id,
        cast(grouped.segment_name as varchar) as segment_name,
        cast(messages.event_name as varchar) as event_name,
        cast(messages.offer_name as varchar) as offer_name,
        cast(grouped.customers as bigint) as customers,
        cast(messages.event_date as date) as event_date,
        cast(grouped.first_send_local as timestamp) as first_send_local,
        cast(grouped.last_send_local as timestamp) as last_send_local,
        cast(grouped.first_send_utc as timestamp) as first_send_utc,
        cast(grouped.last_send_utc as timestamp) as last_send_utc
    from grouped
    left join messages
        on grouped.pairing_id = messages.pairing_id
)

select * from final
