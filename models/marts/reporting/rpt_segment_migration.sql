-- One row per from-segment and to-segment: customers who moved between the
-- two in consecutive monthly snapshots, summed over all snapshots.
with transitions as (
    select * from {{ ref('fct_segment_transitions') }}
),

final as (
    select
        from_segment,
        to_segment,
        cast(sum(customers) as bigint) as customers
    from transitions
    group by from_segment, to_segment
)

select * from final
