-- One row: the customer KPIs the report pages show as headline figures and
-- tiles. Each measure is defined here once, so every page that shows it
-- reads the same column. customer_360 is dim_customers plus predicted CLV.
with customers as (
    select * from {{ ref('customer_360') }}
),

scatter as (
    select * from {{ ref('rpt_customer_scatter') }}
),

summarised as (
    select
        count(*) as customers,
        count(case when frequency > 0 then 1 end) as buyers,
        coalesce(sum(frequency), 0) as orders,
        cast(coalesce(sum(monetary), 0) as decimal(18, 2)) as revenue,
        cast(
            sum(monetary) / nullif(sum(frequency), 0) as decimal(18, 2)
        ) as aov,
        cast(
            count(case when frequency >= 2 then 1 end) * 1.0
            / nullif(count(case when frequency > 0 then 1 end), 0)
            as double
        ) as repeat_purchase_rate,
        cast(
            count(case when frequency > 0 and is_churn_risk then 1 end) * 1.0
            / nullif(count(case when frequency > 0 then 1 end), 0)
            as double
        ) as buyer_churn_risk_share,
        cast(sum(clv_12_months) as decimal(18, 2)) as predicted_revenue_12m,
        cast(
            sum(case when m_score = 5 then monetary end)
            / nullif(sum(monetary), 0)
            as double
        ) as top_quintile_revenue_share,
        count(case when is_churn_risk and m_score >= 4 then 1 end)
            as high_value_at_risk_customers,
        cast(
            coalesce(
                sum(case when is_churn_risk and m_score >= 4 then monetary end),
                0
            ) as decimal(18, 2)
        ) as high_value_at_risk_revenue,
        (select count(*) from scatter) as scatter_points,
        max(as_of_date) as as_of_date
    from customers
),

final as (
    select
        cast(customers as bigint) as customers,
        cast(buyers as bigint) as buyers,
        cast(orders as bigint) as orders,
        revenue,
        aov,
        repeat_purchase_rate,
        buyer_churn_risk_share,
        predicted_revenue_12m,
        top_quintile_revenue_share,
        cast(high_value_at_risk_customers as bigint)
            as high_value_at_risk_customers,
        high_value_at_risk_revenue,
        cast(scatter_points as bigint) as scatter_points,
        cast({{ var('report_scatter_max_points') }} as bigint)
            as scatter_max_points,
        cast(as_of_date as date) as as_of_date
    from summarised
)

select * from final
