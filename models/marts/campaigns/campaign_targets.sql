-- One row per RFM segment with customers: the recommended campaign action
-- and the evidence for it. Rules, first match wins:
--   re-engagement  churn-risk share above 50%;
--   loyalty reward historical CLV at least twice the average (and not at risk);
--   discount       discount-sensitive: coupon burn rate and discounted revenue
--                  share both above the average customer's;
--   upsell         orders per customer above average but AOV below average;
--   cross-sell     otherwise, when there is a category to offer: the one most
--                  bought with the segment's top category (highest lift in
--                  fct_product_affinity);
--   nurture        otherwise (no category pair to recommend): regular contact,
--                  no specific offer.
-- Coupon burn rate is burnt claims / claims of the segment's customers, null
-- when they claimed none (no coupons file, or no claims): not computable, so
-- the discount rule cannot fire on it.
with customers as (
    select * from {{ ref('dim_customers') }}
),

lifetime_value as (
    select * from {{ ref('customer_lifetime_value') }}
),

features as (
    select * from {{ ref('int_customer_features') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

affinity as (
    select * from {{ ref('fct_product_affinity') }}
),

buyers as (
    select
        customers.*,
        features.coupon_claims,
        features.coupon_burns,
        lifetime_value.p_alive,
        lifetime_value.clv_12_months
    from customers
    inner join features
        on customers.customer_id = features.customer_id
    left join lifetime_value
        on customers.customer_id = lifetime_value.customer_id
),

segments as (
    select
        rfm_segment,
        count(*) as customers,
        sum(coupon_burns) * 1.0 / nullif(sum(coupon_claims), 0)
            as coupon_burn_rate,
        avg(discounted_revenue_share) as discounted_revenue_share,
        avg(case when is_churn_risk then 1.0 else 0.0 end) as churn_risk_share,
        avg(p_alive) as mean_p_alive,
        avg(monetary) as historical_clv,
        avg(clv_12_months) as predicted_clv_12_months,
        sum(monetary) / nullif(sum(frequency), 0) as aov,
        avg(frequency) as orders_per_customer
    from buyers
    group by rfm_segment
),

averages as (
    select
        sum(coupon_burns) * 1.0 / nullif(sum(coupon_claims), 0)
            as coupon_burn_rate,
        avg(discounted_revenue_share) as discounted_revenue_share,
        avg(monetary) as historical_clv,
        sum(monetary) / nullif(sum(frequency), 0) as aov,
        avg(frequency) as orders_per_customer
    from buyers
),

segment_categories as (
    select
        customers.rfm_segment,
        order_lines.category,
        row_number() over (
            partition by customers.rfm_segment
            order by sum(order_lines.net_amount) desc, order_lines.category
        ) as category_rank
    from order_lines
    inner join customers
        on order_lines.customer_id = customers.customer_id
    group by customers.rfm_segment, order_lines.category
),

cross_sell as (
    select
        segment_categories.rfm_segment,
        segment_categories.category as top_category,
        affinity.consequent_category as cross_sell_category,
        affinity.lift as cross_sell_lift,
        row_number() over (
            partition by segment_categories.rfm_segment
            order by affinity.lift desc, affinity.consequent_category
        ) as pair_rank
    from segment_categories
    left join affinity
        on segment_categories.category = affinity.antecedent_category
    where segment_categories.category_rank = 1
),

final as (
    select
        segments.rfm_segment,
        case
            when segments.churn_risk_share > 0.5 then 're-engagement'
            when segments.historical_clv >= 2 * averages.historical_clv
                then 'loyalty reward'
            when
                segments.coupon_burn_rate > averages.coupon_burn_rate
                and segments.discounted_revenue_share
                > averages.discounted_revenue_share
                then 'discount'
            when
                segments.orders_per_customer > averages.orders_per_customer
                and segments.aov < averages.aov
                then 'upsell'
            when cross_sell.cross_sell_category is not null then 'cross-sell'
            else 'nurture'
        end as recommended_action,
        cross_sell.top_category,
        cross_sell.cross_sell_category,
        segments.customers,
        cast(segments.coupon_burn_rate as double) as coupon_burn_rate,
        cast(segments.discounted_revenue_share as double)
            as discounted_revenue_share,
        cast(segments.churn_risk_share as double) as churn_risk_share,
        cast(segments.mean_p_alive as double) as mean_p_alive,
        cast(segments.historical_clv as decimal(18, 2)) as historical_clv,
        cast(segments.predicted_clv_12_months as decimal(18, 2))
            as predicted_clv_12_months,
        cast(segments.aov as decimal(18, 2)) as aov,
        cast(segments.orders_per_customer as double) as orders_per_customer,
        cast(cross_sell.cross_sell_lift as double) as cross_sell_lift
    from segments
    cross join averages
    left join cross_sell
        on
            segments.rfm_segment = cross_sell.rfm_segment
            and cross_sell.pair_rank = 1
)

select * from final
