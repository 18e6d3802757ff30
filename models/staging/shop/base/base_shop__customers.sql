-- Customers typed, normalized and checked; quarantine_reason is null for
-- usable rows. Read by stg_shop__customers and stg_shop__quarantined_rows.
-- A bad optional value (birth_date, num_kids, a consent flag...) is null in
-- its column and listed in field_issues; the customer is kept.
-- Duplicates: of the rows sharing a customer_id, the one with the earliest
-- join_date wins (the original registration: tenure counts from it; later
-- rows are usually re-registrations), ties broken by email, phone,
-- first_name and the remaining columns so the choice is deterministic. The
-- others are quarantined with a reason naming the kept row's join_date and
-- the columns in which they differ from it.
{%- set compared = ['first_name', 'email', 'phone', 'gender', 'city_id',
    'education', 'marital_status', 'income_band', 'num_kids',
    'is_sms_opt_in', 'is_email_opt_in', 'is_opted_out', 'birth_date',
    'join_date'] %}

{%- set by_key %}
            partition by customer_id
            order by
                join_date nulls last,
            {%- for column in compared if column != 'join_date' %}
                {{ column }} nulls last{{ ',' if not loop.last }}
            {%- endfor %}
{%- endset %}

with source as (
    {{ raw_table('customers') }}
),

normalized as (
    select
        customer_id,
        first_name,
        lower(email) as email,
        replace(replace(phone, ' ', ''), '-', '') as phone,
        case
            when lower(gender) in ('f', 'female', 'woman') then 'Female'
            when lower(gender) in ('m', 'male', 'man') then 'Male'
            when gender is null then 'Unknown'
            else 'Other'
        end as gender,
        city_id,
        education,
        marital_status,
        income_band,
        case when num_kids >= 0 then num_kids end as num_kids,
        coalesce(sms_opt_in, false) as is_sms_opt_in,
        coalesce(email_opt_in, false) as is_email_opt_in,
        coalesce(opted_out, false) as is_opted_out,
        case
            when birth_date is null or join_date is null
                or birth_date <= join_date
                then birth_date
        end as birth_date,
        join_date,
        parse_errors,
        {{ list_concat(
            'field_issues',
            field_issue_list([
                field_issue('num_kids', 'num_kids',
                    "case when num_kids < 0 then 'negative num_kids' end"),
                field_issue('birth_date', 'birth_date',
                    "case when birth_date > join_date "
                    ~ "then 'birth_date after join_date ' "
                    ~ "|| cast(join_date as " ~ dbt.type_string() ~ ") end"),
            ])
        ) }} as field_issues,
        row_key
    from source
),

ranked as (
    select
        *,
        {%- for column in compared %}
            first_value({{ column }}) over by_key as kept_{{ column }},
        {%- endfor %}
        cast(row_number() over by_key_ordered as bigint) as occurrence
    from normalized
    window
        by_key_ordered as ({{ by_key }}),
        -- The same order over the whole partition: first_value is the kept
        -- row's (row_number takes no frame on Spark, hence two windows).
        by_key as (
            {{ by_key }}
            rows between unbounded preceding and unbounded following
        )
),

checked as (
    select
        {#- Every column but the kept_ ones, listed: `* exclude` is
            DuckDB-only. #}
        customer_id,
        {%- for column in compared %}
        {{ column }},
        {%- endfor %}
        parse_errors,
        field_issues,
        row_key,
        occurrence,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1
                then 'duplicate customer_id: kept the row with join_date '
                    || coalesce(cast(kept_join_date as {{ dbt.type_string() }}), 'empty')
                    || coalesce(
                        '; this row differs in ' || nullif(concat_ws(
                            ', ',
                            {%- for column in compared %}
                                case
                                    when {{ column }} is distinct from
                                        kept_{{ column }}
                                        then '{{ column }}'
                                end{{ ',' if not loop.last }}
                            {%- endfor %}
                        ), ''),
                        ' (identical repeated row)'
                    )
        end as quarantine_reason
    from ranked
)

select * from checked
