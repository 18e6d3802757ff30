-- One row per order that has at least one sale line. Returns booked later
-- against the order reduce its net revenue. order_date is the sale date.
-- fct_orders publishes it; intermediate models read it here.
with order_lines as (
    select * from {{ ref('int_order_lines_joined_to_products') }}
),

aggregated as (
    select
        order_id,
        min(customer_id) as customer_id,
        min(channel) as channel,
        min(branch_id) as branch_id,
        count(case when not is_return then 1 end) as n_lines,
        cast(
            sum(case when not is_return then quantity else 0 end)
            as decimal(18, 3)
        ) as n_items,
        sum(gross_amount) as gross_revenue,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_revenue,
        -- Unknown (null) unless every line's cost is known: no products file,
        -- or a product without unit_cost, is not a 100% margin.
        case
            when count(cost_amount) = count(*)
                then sum(net_amount - cost_amount)
        end as gross_margin,
        bool_or(is_discounted) as is_discounted,
        bool_or(is_return) as has_return,
        min(case when not is_return then ordered_at end) as ordered_at
    from order_lines
    group by order_id
    having count(case when not is_return then 1 end) > 0
),

sequenced as (
    select
        *,
        row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as order_number,
        lag(ordered_at) over (
            partition by customer_id order by ordered_at, order_id
        ) as previous_ordered_at
    from aggregated
),

final as (
    select
        order_id,
        customer_id,
        branch_id,
        channel,
        n_lines,
        n_items,
        cast(order_number as integer) as order_number,
        {{ days_between('previous_ordered_at', 'ordered_at') }}
            as days_since_previous_order,
        cast(gross_revenue as decimal(18, 2)) as gross_revenue,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(gross_margin as decimal(18, 2)) as gross_margin,
        order_number = 1 as is_first_order,
        is_discounted,
        has_return,
        cast(ordered_at as date) as order_date,
        ordered_at
    from sequenced
)

select * from final
