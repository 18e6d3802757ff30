-- One row per order that has at least one sale line. Returns booked later
-- against the order reduce its net revenue. order_date is the sale date.
-- fct_orders publishes it; intermediate models read it here.
-- Rebuilt in full on every build, except on a daily run (--daily): then the
-- orders with a line dated after the last one aggregated (last_line_at) are
-- aggregated again from all their lines, and every order of their customers
-- is numbered again; those orders replace their old rows (by order_id).
{{ config(
    materialized=daily_materialization(),
    incremental_strategy='delete+insert',
    unique_key='order_id',
    full_refresh=daily_full_refresh(),
    on_schema_change='fail',
) }}

with order_lines as (
    select * from {{ ref('int_order_lines_joined_to_products') }}
    {%- if is_incremental() %}
    where order_id in (
        select order_id from {{ ref('int_order_lines_joined_to_products') }}
        where ordered_at > (select max(last_line_at) from {{ this }})
    )
    {%- endif %}
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
                then sum(net_amount) - sum(cost_amount)
        end as gross_margin,
        bool_or(is_discounted) as is_discounted,
        bool_or(is_return) as has_return,
        min(case when not is_return then ordered_at end) as ordered_at,
        max(ordered_at) as last_line_at
    from order_lines
    group by order_id
    having count(case when not is_return then 1 end) > 0
),
{%- if is_incremental() %}

affected_customers as (
    -- Customers of the orders aggregated again, before and after: their
    -- orders are numbered again.
    select customer_id from aggregated
    union
    select customer_id from {{ this }}
    where order_id in (select aggregated.order_id from aggregated)
),
{%- endif %}

customer_orders as (
    select * from aggregated
    {%- if is_incremental() %}
    -- and the unchanged orders of the same customers, as they were loaded
    union all
    select
        order_id,
        customer_id,
        channel,
        branch_id,
        n_lines,
        n_items,
        gross_revenue,
        discount_amount,
        net_revenue,
        gross_margin,
        is_discounted,
        has_return,
        ordered_at,
        last_line_at
    from {{ this }}
    where
        customer_id in (
            select affected_customers.customer_id from affected_customers
        )
        and order_id not in (select aggregated.order_id from aggregated)
    {%- endif %}
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
    from customer_orders
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
        ordered_at,
        last_line_at
    from sequenced
)

select * from final
