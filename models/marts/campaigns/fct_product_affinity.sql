-- One row per ordered pair of product categories bought in the same order:
-- association rules antecedent -> consequent with support (share of orders
-- with both), confidence (share of antecedent orders that also have the
-- consequent) and lift (confidence / the consequent's own share; > 1 means
-- bought together more than by chance). Cross-sell candidates.
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

-- Each order reduced to its basket (the sorted set of its categories); the
-- pairs are counted per distinct basket, weighted by how many orders have
-- it: a few hundred baskets instead of a self-join of every order's lines.
order_baskets as (
    select
        order_id,
        {{ sorted_distinct_list('category') }} as categories
    from order_lines
    where not is_return
    group by order_id
),

baskets as (
    select
        row_number() over (order by categories) as basket_id,
        categories,
        count_orders as orders
    from (
        select
            categories,
            count(*) as count_orders
        from order_baskets
        group by categories
    ) as counted
),

basket_categories as (
    select
        basket_id,
        orders,
        {{ unnest_list('categories') }} as category
    from baskets
),

order_count as (
    select sum(orders) as orders from baskets
),

category_orders as (
    select
        category,
        sum(orders) as orders
    from basket_categories
    group by category
),

pairs as (
    select
        antecedent.category as antecedent_category,
        consequent.category as consequent_category,
        cast(sum(antecedent.orders) as bigint) as orders_with_both
    from basket_categories as antecedent
    inner join basket_categories as consequent
        on
            antecedent.basket_id = consequent.basket_id
            and antecedent.category <> consequent.category
    group by antecedent.category, consequent.category
),

final as (
    select
        pairs.antecedent_category,
        pairs.consequent_category,
        pairs.orders_with_both,
        -- in double precision on every engine (a decimal * 1.0 would keep only
        -- 6 decimals on Spark once the division's precision runs out)
        cast(pairs.orders_with_both as double) / order_count.orders
            as support,
        cast(pairs.orders_with_both as double) / antecedents.orders
            as confidence,
        (
            (cast(pairs.orders_with_both as double) / antecedents.orders)
            / (cast(consequents.orders as double) / order_count.orders)
        ) as lift
    from pairs
    cross join order_count
    inner join category_orders as antecedents
        on pairs.antecedent_category = antecedents.category
    inner join category_orders as consequents
        on pairs.consequent_category = consequents.category
)

select * from final
