-- One row: the as_of_date every recency, churn and "upcoming" figure uses.
-- var as_of_date when set; otherwise the day after the last valid order
-- line, so rebuilding on the same data gives the same tables. Both are
-- aggregates over the lines, so there is always exactly one row.
with order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

final as (
    select
        {% if var('as_of_date', none) is not none -%}
            coalesce(
                max(cast('{{ var("as_of_date") }}' as date)),
                cast('{{ var("as_of_date") }}' as date)
            )
        {%- else -%}
            cast({{ dbt.dateadd('day', 1, 'max(order_date)') }} as date)
        {%- endif %} as as_of_date
    from order_lines
)

select * from final
