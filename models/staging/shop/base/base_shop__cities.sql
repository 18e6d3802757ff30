-- Cities typed and checked; quarantine_reason is null for usable rows.
with source as (
    {{ raw_table('cities') }}
),

normalized as (
    select
        city_id,
        coalesce(city_name, city_id) as city_name,
        country,
        coalesce(timezone, 'UTC') as timezone,
        parse_errors,
        field_issues,
        row_key,
        -- bigint on every engine (row_number is int on Spark).
        cast(row_number() over (
            partition by city_id
            order by {{ duplicate_order(
                'cities', 'city_id', ['city_name']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate city_id'
        end as quarantine_reason
    from normalized
)

select * from checked
