{{ config(materialized='table') }}
-- Every raw row that could not be used, with the table it came from, its key
-- as written and the reason. Nothing is dropped silently: a row is either in
-- its stg_shop__ model or here. Duplicates are here too.
{%- set tables = {
    'customers': 'base_shop__customers',
    'transactions': 'base_shop__order_lines',
    'products': 'base_shop__products',
    'coupons': 'base_shop__coupons',
    'cities': 'base_shop__cities',
    'merchants': 'base_shop__merchants',
    'branches': 'base_shop__branches',
    'events': 'base_shop__events',
    'offers': 'base_shop__offers',
    'campaign_sends': 'base_shop__campaign_sends',
    'campaign_responses': 'base_shop__campaign_responses',
} %}

with
{% for source_table, model in tables.items() %}
    {{ source_table }} as (
        select
            '{{ source_table }}' as source_table,
            coalesce(row_key, '(no key)') as row_key,
            quarantine_reason
        from {{ ref(model) }}
        where quarantine_reason is not null
    ),
{% endfor %}

-- Usable lines quarantined after the fact: returns whose order has no
-- usable sale line.
returns_without_sale as (
    select
        'transactions' as source_table,
        coalesce(row_key, '(no key)') as row_key,
        quarantine_reason
    from {{ ref('base_shop__returns_without_sale') }}
),

final as (
    {%- for source_table in tables %}
        select * from {{ source_table }}
        union all
    {%- endfor %}
    select * from returns_without_sale
)

select * from final
