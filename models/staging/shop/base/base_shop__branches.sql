-- Branches typed and checked; quarantine_reason is null for usable rows.
with source as (
    {{ raw_table('branches') }}
),

normalized as (
    select
        branch_id,
        coalesce(branch_name, branch_id) as branch_name,
        merchant_id,
        city_id,
        parse_errors,
        field_issues,
        row_key,
        cast(row_number() over (
            partition by branch_id
            order by {{ duplicate_order(
                'branches', 'branch_id', ['branch_name']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate branch_id'
        end as quarantine_reason
    from normalized
)

select * from checked
