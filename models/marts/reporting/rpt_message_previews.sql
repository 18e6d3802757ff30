-- One row per valid segment x event x offer message (validation_status
-- 'valid'): the choices the Messages page offers, so every event, offer and
-- segment it lists has a message behind it. Each row carries the message
-- facts shown beside the phone, the text with the {first_name} token and the
-- text a customer without a usable name receives (greeting name dropped, as
-- the messaging models do), a preview customer of the segment (the
-- SMS-contactable customer with the lowest id whose first name the
-- messaging models merged into their SMS) and the segment's send schedule.
-- first_name is PII: publishing blanks it unless names are published, and
-- the page then shows the greeting without a name.
with messages as (
    select * from {{ ref('marketing_messages') }}
    where validation_status = 'valid'
),

customer_messages as (
    select * from {{ ref('customer_messages') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

preview_candidates as (
    select
        customer_messages.segment_name,
        customer_messages.customer_id,
        customers.first_name,
        row_number() over (
            partition by customer_messages.segment_name
            order by customer_messages.customer_id
        ) as candidate_rank
    from customer_messages
    inner join customers
        on customer_messages.customer_id = customers.customer_id
    where
        customers.first_name is not null
        and strpos(
            customer_messages.personalized_text, customers.first_name
        ) > 0
),

preview_customers as (
    select * from preview_candidates
    where candidate_rank = 1
),

schedule as (
    select
        segment_name,
        count(*) as scheduled_customers,
        min(scheduled_local) as first_send_local,
        max(scheduled_local) as last_send_local
    from customer_messages
    group by segment_name
),

without_name as (
    select
        *,
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    message_text, '(,\s*)?\{first_name\}(\s*,)?', '', 'g'
                ),
                '\s{2,}', ' ', 'g'
            ),
            '\s+([!?.,])', '\1', 'g'
        ) as stripped_text
    from messages
),

final as (
    select
        cast(without_name.pairing_id as varchar) as pairing_id,
        cast(without_name.segment_name as varchar) as segment_name,
        cast(without_name.event_id as varchar) as event_id,
        cast(without_name.offer_id as varchar) as offer_id,
        cast(preview_customers.customer_id as varchar)
            as preview_customer_id,
        cast(without_name.event_name as varchar) as event_name,
        cast(without_name.offer_name as varchar) as offer_name,
        cast(without_name.offer_code as varchar) as offer_code,
        cast(
            case without_name.generator
                when 'template' then 'Template'
                else 'Language model'
            end as varchar
        ) as written_by,
        cast(without_name.message_text as varchar) as message_text,
        cast(
            upper(left(trim(without_name.stripped_text), 1))
            || substr(trim(without_name.stripped_text), 2) as varchar
        ) as message_text_without_name,
        cast(preview_customers.first_name as varchar) as first_name,
        cast(without_name.sms_encoding as varchar) as sms_encoding,
        cast(without_name.character_count as integer) as character_count,
        cast(without_name.sms_parts as integer) as sms_parts,
        cast(coalesce(schedule.scheduled_customers, 0) as bigint)
            as segment_scheduled_customers,
        cast(without_name.event_date as date) as event_date,
        cast(schedule.first_send_local as timestamp) as first_send_local,
        cast(schedule.last_send_local as timestamp) as last_send_local
    from without_name
    left join preview_customers
        on without_name.segment_name = preview_customers.segment_name
    left join schedule
        on without_name.segment_name = schedule.segment_name
)

select * from final
