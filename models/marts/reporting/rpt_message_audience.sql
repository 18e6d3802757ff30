-- One row per segment: customers scheduled to receive a message and the
-- first local send time.
with customer_messages as (
    select * from {{ ref('customer_messages') }}
),

final as (
    select
        cast(segment_name as varchar) as segment_name,
        cast(count(*) as bigint) as customers,
        cast(min(scheduled_local) as timestamp) as first_send_local
    from customer_messages
    group by segment_name
)

select * from final
