-- Coupon transactions (claims and burns) typed and checked; quarantine_reason
-- is null for usable rows. Customer ids must resolve, like order lines.
with source as (
    {{ raw_table('coupons') }}
),

customers as (
    select customer_id from {{ ref('stg_shop__customers') }}
),

quarantined_customers as (
    {{ quarantined_parents('base_shop__customers', 'customer_id') }}
),

normalized as (
    select
        coupon_txn_id,
        customer_id,
        upper(coupon_name) as coupon_name,
        lower(status) as coupon_status,
        branch_id,
        claimed_date,
        burn_date,
        parse_errors,
        field_issues,
        row_key,
        cast(row_number() over (
            partition by coupon_txn_id
            order by {{ duplicate_order(
                'coupons', 'coupon_txn_id', ['claimed_date', 'burn_date']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        normalized.*,
        case
            when normalized.parse_errors is not null
                then normalized.parse_errors
            when normalized.occurrence > 1 then 'duplicate coupon_txn_id'
            when normalized.coupon_status not in ('claimed', 'burnt')
                then 'unknown status ''' || normalized.coupon_status
                    || ''' (expected claimed or burnt)'
            when normalized.coupon_status = 'burnt'
                and normalized.burn_date is null
                then 'burnt coupon without burn_date'
            when normalized.burn_date < normalized.claimed_date
                then 'burn_date before claimed_date'
            when normalized.claimed_date >= {{ future_cutoff() }}
                then {{ future_reason('claimed_date') }}
            when customers.customer_id is null
                then {{ unknown_parent_reason(
                    'customer', 'customer_id', 'normalized.customer_id',
                    'quarantined_customers.parent_reason') }}
        end as quarantine_reason
    from normalized
    left join customers
        on normalized.customer_id = customers.customer_id
    left join quarantined_customers
        on normalized.customer_id = quarantined_customers.customer_id
)

select * from checked
