-- One row per complete calendar month and current RFM segment: net revenue
-- of the segment's customers that month. The forecasting models' history;
-- months cut short by as_of_date are left out.
with orders as (
    select * from {{ ref('fct_orders') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

monthly_sales as (
    select * from {{ ref('fct_monthly_sales') }}
),

final as (
    select
        monthly_sales.month_start,
        customers.rfm_segment as segment,
        cast(coalesce(sum(orders.net_revenue), 0) as double) as revenue
    from monthly_sales
    inner join orders
        on
            monthly_sales.month_start
            = cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date)
    inner join customers
        on orders.customer_id = customers.customer_id
    where not monthly_sales.is_partial_month
    group by monthly_sales.month_start, customers.rfm_segment
)

select * from final
