-- Calendar events typed and checked; quarantine_reason is null for usable rows.
with source as (
    {{ raw_table('events') }}
),

normalized as (
    select
        event_id,
        event_name,
        lower(coalesce(event_type, 'occasion')) as event_type,
        relevant_categories,
        description as event_description,
        event_date,
        parse_errors,
        field_issues,
        row_key,
        cast(row_number() over (
            partition by event_id
            order by {{ duplicate_order(
                'events', 'event_id', ['event_date', 'event_name']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate event_id'
        end as quarantine_reason
    from normalized
)

select * from checked
