-- One row per sales channel: orders and net revenue.
with orders as (
    select * from {{ ref('fct_orders') }}
),

final as (
    select
        coalesce(channel, 'unknown') as channel,
        cast(count(*) as bigint) as orders,
        cast(sum(net_revenue) as decimal(18, 2)) as revenue
    from orders
    group by coalesce(channel, 'unknown')
)

select * from final
