-- One row per product that sold: units, orders, customers, net revenue, its
-- share of all revenue and of its category, overall rank (1 = most revenue)
-- and the top-10 flag.
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

aggregated as (
    select
        product_id,
        min(category) as category,
        sum(quantity) as units,
        count(distinct order_id) as orders,
        count(distinct customer_id) as customers,
        sum(net_amount) as revenue,
        -- Unknown (null) unless every line's cost is known: no products file,
        -- or a product without unit_cost, is not a 100% margin.
        case
            when count(cost_amount) = count(*)
                then sum(net_amount) - sum(cost_amount)
        end as gross_margin
    from order_lines
    where product_id is not null
    group by product_id
),

ranked as (
    select
        *,
        rank() over (order by revenue desc, product_id) as revenue_rank,
        rank() over (
            partition by category order by revenue desc, product_id
        ) as category_rank,
        cast(revenue as double) / nullif(sum(revenue) over (), 0)
            as revenue_share,
        cast(revenue as double)
        / nullif(sum(revenue) over (partition by category), 0)
            as category_revenue_share
    from aggregated
),

final as (
    select
        ranked.product_id,
        coalesce(products.product_name, ranked.product_id) as product_name,
        ranked.category,
        cast(ranked.units as decimal(18, 3)) as units,
        ranked.orders,
        ranked.customers,
        cast(ranked.revenue as decimal(18, 2)) as revenue,
        cast(ranked.gross_margin as decimal(18, 2)) as gross_margin,
        cast(ranked.revenue_share as double) as revenue_share,
        cast(ranked.category_revenue_share as double) as category_revenue_share,
        cast(ranked.revenue_rank as integer) as revenue_rank,
        cast(ranked.category_rank as integer) as category_rank,
        ranked.revenue_rank <= 10 as is_top_10
    from ranked
    left join products
        on ranked.product_id = products.product_id
)

select * from final
