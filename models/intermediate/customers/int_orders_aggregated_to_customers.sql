-- One row per customer with at least one valid order: the raw R, F and M
-- measures and their companions, as of int_reference_date.
with orders as (
    select * from {{ ref('int_order_lines_aggregated_to_orders') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

aggregated as (
    select
        customer_id,
        count(*) as frequency,
        sum(net_revenue) as monetary,
        sum(gross_revenue) as gross_revenue,
        sum(discount_amount) as discount_amount,
        case
            when count(gross_margin) = count(*) then sum(gross_margin)
        end as gross_margin,
        sum(case when is_discounted then net_revenue else 0 end)
            as discounted_revenue,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    group by customer_id
),

final as (
    select
        aggregated.customer_id,
        {{ days_between(
            'aggregated.last_order_date', 'reference_date.as_of_date'
        ) }} as recency_days,
        aggregated.frequency,
        cast(aggregated.monetary as decimal(18, 2)) as monetary,
        cast(aggregated.gross_revenue as decimal(18, 2)) as gross_revenue,
        cast(aggregated.discount_amount as decimal(18, 2)) as discount_amount,
        cast(aggregated.gross_margin as decimal(18, 2)) as gross_margin,
        {{ money_from_double(
            'cast(aggregated.monetary as double) / aggregated.frequency'
        ) }} as aov,
        {{ days_between(
            'aggregated.first_order_date', 'reference_date.as_of_date'
        ) }} as tenure_days,
        cast(
            cast(aggregated.frequency * 30.4375 as double)
            / greatest(
                {{ dbt.datediff('aggregated.first_order_date',
                    'reference_date.as_of_date', 'day') }},
                30.4375
            ) as double
        ) as orders_per_month,
        case
            when aggregated.frequency > 1
                then cast(
                        {{ dbt.datediff('aggregated.first_order_date',
                            'aggregated.last_order_date', 'day') }}
                        as double
                    )
                    / (aggregated.frequency - 1)
        end as avg_days_between_orders,
        cast(aggregated.discounted_revenue as double)
        / nullif(aggregated.monetary, 0) as discounted_revenue_share,
        aggregated.first_order_date,
        aggregated.last_order_date,
        reference_date.as_of_date
    from aggregated
    cross join reference_date
)

select * from final
