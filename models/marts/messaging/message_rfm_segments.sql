-- One row per RFM segment with customers: the aggregate figures a message
-- prompt may use. Targeting follows the segment's own rules.
with kpis as (
    select * from {{ ref('fct_segment_kpis') }}
),

descriptions as (
    select * from {{ ref('rfm_segments') }}
),

final as (
    select
        kpis.segment_name,
        kpis.segment_name as targeting_segment,
        descriptions.description as segment_description,
        kpis.customers as segment_customers,
        cast(kpis.aov as double) as segment_aov,
        kpis.orders_per_customer as segment_orders_per_customer,
        kpis.repeat_purchase_rate as segment_repeat_rate,
        kpis.churn_risk_share as segment_churn_risk_share
    from kpis
    inner join descriptions
        on kpis.segment_name = descriptions.rfm_segment
    where kpis.segmentation = 'rfm_segment' and kpis.customers > 0
)

select * from final
