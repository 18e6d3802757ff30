-- One row per ordered pair of product categories bought in the same order:
-- association rules antecedent -> consequent with support (share of orders
-- with both), confidence (share of antecedent orders that also have the
-- consequent) and lift (confidence / the consequent's own share; > 1 means
-- bought together more than by chance). Cross-sell candidates.
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

order_categories as (
    select distinct
        order_id,
        category
    from order_lines
    where not is_return
),

order_count as (
    select count(distinct order_id) as orders from order_categories
),

category_orders as (
    select
        category,
        count(*) as orders
    from order_categories
    group by category
),

pairs as (
    select
        antecedent.category as antecedent_category,
        consequent.category as consequent_category,
        count(*) as orders_with_both
    from order_categories as antecedent
    inner join order_categories as consequent
        on
            antecedent.order_id = consequent.order_id
            and antecedent.category <> consequent.category
    group by antecedent.category, consequent.category
),

final as (
    select
        pairs.antecedent_category,
        pairs.consequent_category,
        pairs.orders_with_both,
        cast(pairs.orders_with_both * 1.0 / order_count.orders as double)
            as support,
        cast(pairs.orders_with_both * 1.0 / antecedents.orders as double)
            as confidence,
        cast(
            (pairs.orders_with_both * 1.0 / antecedents.orders)
            / (consequents.orders * 1.0 / order_count.orders) as double
        ) as lift
    from pairs
    cross join order_count
    inner join category_orders as antecedents
        on pairs.antecedent_category = antecedents.category
    inner join category_orders as consequents
        on pairs.consequent_category = consequents.category
)

select * from final
