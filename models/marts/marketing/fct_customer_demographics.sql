-- One row per demographic dimension and value (gender, city, age band,
-- education, marital status, family status, income band): customers, their
-- share, buyers, net revenue and its share, AOV and orders per buyer.
{%- set dimensions = ['gender', 'city_name', 'age_band', 'education',
    'marital_status', 'family_status', 'income_band'] %}

with customers as (
    select * from {{ ref('dim_customers') }}
),

unpivoted as (
    {%- for dimension in dimensions %}
        select
            '{{ dimension }}' as dimension,
            coalesce(
                cast({{ dimension }} as {{ dbt.type_string() }}), 'Unknown'
            ) as dimension_value,
            frequency,
            monetary
        from customers
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

aggregated as (
    select
        dimension,
        dimension_value,
        count(*) as customers,
        count(case when frequency > 0 then 1 end) as buyers,
        sum(frequency) as orders,
        sum(monetary) as revenue
    from unpivoted
    group by dimension, dimension_value
),

final as (
    select
        dimension,
        dimension_value,
        customers,
        buyers,
        -- bigint on every engine (a sum of counts is hugeint on DuckDB).
        cast(orders as bigint) as orders,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(customers as double)
        / sum(customers) over (partition by dimension) as customer_share,
        cast(revenue as double)
        / nullif(sum(revenue) over (partition by dimension), 0)
            as revenue_share,
        {{ money_from_double('cast(revenue as double) / nullif(orders, 0)') }}
            as aov,
        cast(orders as double) / nullif(buyers, 0) as orders_per_buyer
    from aggregated
)

select * from final
