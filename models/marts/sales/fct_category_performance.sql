-- One row per product category: units, orders, customers, net revenue,
-- revenue share and rank (1 = most revenue).
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

aggregated as (
    select
        category,
        sum(quantity) as units,
        count(distinct order_id) as orders,
        count(distinct customer_id) as customers,
        sum(net_amount) as revenue,
        -- Unknown (null) unless every line's cost is known: no products file,
        -- or a product without unit_cost, is not a 100% margin.
        case
            when count(cost_amount) = count(*)
                then sum(net_amount) - sum(cost_amount)
        end as gross_margin,
        sum(case when is_discounted then net_amount else 0 end)
            as discounted_revenue
    from order_lines
    group by category
),

final as (
    select
        category,
        cast(units as decimal(18, 3)) as units,
        orders,
        customers,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(gross_margin as decimal(18, 2)) as gross_margin,
        cast(revenue as double) / nullif(sum(revenue) over (), 0)
            as revenue_share,
        cast(discounted_revenue as double) / nullif(revenue, 0)
            as discounted_revenue_share,
        cast(rank() over (order by revenue desc, category) as integer)
            as revenue_rank
    from aggregated
)

select * from final
