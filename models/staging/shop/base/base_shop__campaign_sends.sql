-- Campaign sends (and holdout members) typed and checked; quarantine_reason
-- is null for usable rows.
with source as (
    {{ raw_table('campaign_sends') }}
),

customers as (
    select customer_id from {{ ref('stg_shop__customers') }}
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
        row_key,
        row_number() over (partition by send_id order by sent_at) as occurrence
    from source
),

checked as (
    select
        normalized.*,
        case
            when normalized.parse_errors is not null
                then normalized.parse_errors
            when normalized.occurrence > 1 then 'duplicate send_id'
            when customers.customer_id is null then 'unknown customer_id'
        end as quarantine_reason
    from normalized
    left join customers
        on normalized.customer_id = customers.customer_id
)

select * from checked
