-- Merchants typed and checked; quarantine_reason is null for usable rows.
with source as (
    {{ raw_table('merchants') }}
),

normalized as (
    select
        merchant_id,
        coalesce(merchant_name, merchant_id) as merchant_name,
        merchant_category,
        parse_errors,
        field_issues,
        row_key,
        cast(row_number() over (
            partition by merchant_id
            order by {{ duplicate_order(
                'merchants', 'merchant_id', ['merchant_name']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate merchant_id'
        end as quarantine_reason
    from normalized
)

select * from checked
