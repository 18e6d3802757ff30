-- One row: the as_of_date every recency, churn and "upcoming" figure uses.
-- var as_of_date when set; otherwise the day after the last valid order
-- line, so rebuilding on the same data gives the same tables.
with order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

final as (
    select
        {% if var('as_of_date', none) is not none -%}
            cast('{{ var("as_of_date") }}' as date) as as_of_date
        {%- else -%}
            cast(
                {{ dbt.dateadd('day', 1, 'max(order_date)') }} as date
            ) as as_of_date
        {%- endif %}
    from order_lines
)

select * from final
