{{ config(materialized='table') }}
-- One row per kept raw row x column whose value could not be used as
-- written: it is null in its stg_shop__ model (the row is kept) and listed
-- here with the value as written and the issue. Rows that could not be used
-- at all are in stg_shop__quarantined_rows instead.
{%- set tables = {
    'customers': ('base_shop__customers', 'customer_id'),
    'transactions': ('base_shop__order_lines', 'line_id'),
    'products': ('base_shop__products', 'product_id'),
    'coupons': ('base_shop__coupons', 'coupon_txn_id'),
    'cities': ('base_shop__cities', 'city_id'),
    'merchants': ('base_shop__merchants', 'merchant_id'),
    'branches': ('base_shop__branches', 'branch_id'),
    'events': ('base_shop__events', 'event_id'),
    'offers': ('base_shop__offers', 'offer_id'),
    'campaign_sends': ('base_shop__campaign_sends', 'send_id'),
    'campaign_responses': ('base_shop__campaign_responses', 'send_id'),
} %}

with
{% for table_name, (model, key) in tables.items() %}
    {{ table_name }} as (
        select
            '{{ table_name }}' as table_name,
            {{ key }} as row_key,
            {{ unnest_list('field_issues') }} as finding
        from {{ ref(model) }}
        where quarantine_reason is null
    ),
{% endfor %}

final as (
    {%- for table_name in tables %}
        select
            table_name,  -- noqa: RF03
            row_key,  -- noqa: RF03
            -- Fields of the struct `finding`, not columns of a table.
            finding.column_name as column_name,  -- noqa: RF03, AL09
            finding.raw_value as raw_value,  -- noqa: RF03, AL09
            finding.issue as issue  -- noqa: RF03, AL09
        from {{ table_name }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from final
