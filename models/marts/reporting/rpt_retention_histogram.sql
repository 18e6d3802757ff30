-- One row per band of customer lifespan, the days between a buyer's first
-- and last order: how many buyers stayed active that long. One-order buyers
-- have their own band. Every band is present (0 when empty) so the
-- histogram keeps its shape; band_order sorts them. Shares are fractions
-- (0-1) of all buyers.
with orders as (
    select * from {{ ref('fct_orders') }}
),

{%- set bands = [
    ('One order only', -1, -1),
    ('Under 1 month', 0, 29),
    ('1-3 months', 30, 89),
    ('3-6 months', 90, 179),
    ('6-12 months', 180, 364),
    ('1-2 years', 365, 729),
    ('2-3 years', 730, 1094),
    ('3 years or more', 1095, 2147483647),
] %}

bands as (
    {%- for label, min_days, max_days in bands %}
        select
            {{ loop.index }} as band_order,
            '{{ label }}' as lifespan_band,
            {{ min_days }} as min_days,
            {{ max_days }} as max_days
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

buyers as (
    select
        customer_id,
        count(*) as orders,
        {{ dbt.datediff('min(order_date)', 'max(order_date)', 'day') }}
            as lifespan_days
    from orders
    group by customer_id
),

banded as (
    select case when orders = 1 then -1 else lifespan_days end as band_days
    from buyers
),

counted as (
    select
        bands.band_order,
        bands.lifespan_band,
        bands.min_days,
        count(banded.band_days) as buyers
    from bands
    left join banded
        on banded.band_days between bands.min_days and bands.max_days
    group by bands.band_order, bands.lifespan_band, bands.min_days
),

final as (
    select
        cast(band_order as integer) as band_order,
        cast(lifespan_band as varchar) as lifespan_band,
        cast(buyers as bigint) as buyers,
        cast(
            buyers * 1.0 / nullif(sum(buyers) over (), 0) as double
        ) as buyer_share,
        cast(greatest(min_days, 0) as integer) as min_lifespan_days
    from counted
)

select * from final
