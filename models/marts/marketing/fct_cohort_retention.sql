-- One row per first-order month (cohort) and months since the first order:
-- how many of the cohort ordered in that month, the retention rate and the
-- cohort's cumulative net revenue per customer.
with orders as (
    select * from {{ ref('fct_orders') }}
),

firsts as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'min(order_date)') }} as date)
            as cohort_month
    from orders
    group by customer_id
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_customers
    from firsts
    group by cohort_month
),

activity as (
    select
        firsts.cohort_month,
        {{ dbt.datediff('firsts.cohort_month',
            dbt.date_trunc('month', 'orders.order_date'), 'month') }}
            as months_since_first_order,
        count(distinct orders.customer_id) as active_customers,
        sum(orders.net_revenue) as revenue
    from orders
    inner join firsts
        on orders.customer_id = firsts.customer_id
    group by 1, 2
),

final as (
    select
        activity.cohort_month,
        cast(activity.months_since_first_order as integer)
            as months_since_first_order,
        cohort_sizes.cohort_customers,
        activity.active_customers,
        cast(activity.active_customers as double)
        / cohort_sizes.cohort_customers as retention_rate,
        cast(activity.revenue as decimal(18, 2)) as revenue,
        {{ money_from_double(
            'cast(sum(activity.revenue) over ('
            ~ ' partition by activity.cohort_month'
            ~ ' order by activity.months_since_first_order'
            ~ ' rows between unbounded preceding and current row'
            ~ ') as double) / cohort_sizes.cohort_customers') }}
            as cumulative_revenue_per_customer
    from activity
    inner join cohort_sizes
        on activity.cohort_month = cohort_sizes.cohort_month
)

select * from final
