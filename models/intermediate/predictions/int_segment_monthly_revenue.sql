-- One row per complete calendar month with orders and current RFM segment:
-- net revenue of the segment's customers that month. The forecasting models'
-- history; months cut short by as_of_date (fct_monthly_sales'
-- is_partial_month) are left out. Months without orders have no row here
-- (the forecast counts them as zero).
with orders as (
    select * from {{ ref('int_order_lines_aggregated_to_orders') }}
),

customers as (
    select * from {{ ref('int_customers_rfm_scored') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

order_months as (
    select
        customer_id,
        net_revenue,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date)
            as month_start
    from orders
),

final as (
    select
        order_months.month_start,
        customers.rfm_segment as segment,
        cast(coalesce(sum(order_months.net_revenue), 0) as double) as revenue
    from order_months
    inner join customers
        on order_months.customer_id = customers.customer_id
    cross join reference_date
    where
        {{ dbt.dateadd('month', 1, 'order_months.month_start') }}
        <= reference_date.as_of_date
    group by order_months.month_start, customers.rfm_segment
)

select * from final
