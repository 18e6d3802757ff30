-- Campaign sends (and holdout members) typed and checked; quarantine_reason
-- is null for usable rows.
with source as (
    {{ raw_table('campaign_sends') }}
),

customers as (
    select customer_id from {{ ref('stg_shop__customers') }}
),

quarantined_customers as (
    {{ quarantined_parents('base_shop__customers', 'customer_id') }}
),

normalized as (
    select
        send_id,
        campaign_id,
        customer_id,
        offer_id,
        segment_name,
        upper(coalesce(variant, 'A')) as variant,
        coalesce(is_holdout, false) as is_holdout,
        sent_at,
        parse_errors,
        field_issues,
        row_key,
        cast(row_number() over (
            partition by send_id
            order by {{ duplicate_order(
                'campaign_sends', 'send_id', ['sent_at']) }}
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
