-- One row per monthly RFM snapshot: Champions and at-risk customers (At Risk
-- and Can't Lose Them) in that snapshot.
with segment_history as (
    select * from {{ ref('fct_segment_history') }}
),

final as (
    select
        snapshot_date,
        cast(
            count(case when rfm_segment = 'Champions' then 1 end) as bigint
        ) as champions,
        cast(
            count(
                case
                    when rfm_segment in ('At Risk', 'Can''t Lose Them') then 1
                end
            ) as bigint
        ) as at_risk_customers
    from segment_history
    group by snapshot_date
)

select * from final
