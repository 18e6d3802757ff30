-- Offers typed and checked; quarantine_reason is null for usable rows.
with source as (
    {{ raw_table('offers') }}
),

normalized as (
    select
        offer_id,
        coalesce(offer_name, offer_id) as offer_name,
        lower(offer_type) as offer_type,
        category,
        upper(offer_code) as offer_code,
        description as offer_description,
        coalesce(discount_pct, 0) as discount_pct,
        coalesce(min_spend, 0) as min_spend,
        coalesce(is_active, true) as is_active,
        valid_from,
        valid_to,
        parse_errors,
        field_issues,
        row_key,
        cast(row_number() over (
            partition by offer_id
            order by {{ duplicate_order(
                'offers', 'offer_id', ['valid_from', 'offer_name']) }}
        ) as bigint) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate offer_id'
            when discount_pct < 0 or discount_pct > 100
                then 'discount_pct outside 0-100'
            when valid_to < valid_from then 'valid_to before valid_from'
        end as quarantine_reason
    from normalized
)

select * from checked
