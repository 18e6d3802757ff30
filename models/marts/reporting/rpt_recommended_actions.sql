-- One row per recommended campaign action: customers in the segments it is
-- recommended for.
with targets as (
    select * from {{ ref('campaign_targets') }}
),

final as (
    select
        recommended_action,
        cast(sum(customers) as bigint) as customers
    from targets
    group by recommended_action
)

select * from final
