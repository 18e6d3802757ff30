-- One row per from-segment and to-segment, for every pair of RFM segments
-- (the same segments as rows and as columns, Prospect included; 0 when no
-- customer made the move): customers who moved between them in consecutive
-- monthly snapshots, summed over all snapshots. Staying in a segment (the
-- diagonal) dwarfs every move, so moved_customers and moved_share are NULL
-- on the diagonal: a heatmap of them shows movement only. Shares are
-- fractions (0-1) of the from-segment's customers.
with transitions as (
    select * from {{ ref('fct_segment_transitions') }}
),

segment_lookup as (
    select * from {{ ref('rfm_segments') }}
),

segments as (
    -- the lookup's segments, plus any name the transitions use beyond it
    select
        segment_lookup.rfm_segment as segment_name,
        segment_lookup.segment_order
    from segment_lookup
    union
    select
        transitions.from_segment as segment_name,
        1000 as segment_order
    from transitions
    where
        transitions.from_segment not in (
            select segment_lookup.rfm_segment from segment_lookup
        )
    union
    select
        transitions.to_segment as segment_name,
        1000 as segment_order
    from transitions
    where
        transitions.to_segment not in (
            select segment_lookup.rfm_segment from segment_lookup
        )
),

summed as (
    select
        from_segment,
        to_segment,
        sum(customers) as customers
    from transitions
    group by from_segment, to_segment
),

grid as (
    select
        from_segments.segment_name as from_segment,
        to_segments.segment_name as to_segment,
        from_segments.segment_order as from_segment_order,
        to_segments.segment_order as to_segment_order,
        coalesce(summed.customers, 0) as customers
    from segments as from_segments
    cross join segments as to_segments
    left join summed
        on
            from_segments.segment_name = summed.from_segment
            and to_segments.segment_name = summed.to_segment
),

final as (
    select
        cast(from_segment as varchar) as from_segment,
        cast(to_segment as varchar) as to_segment,
        cast(from_segment_order as integer) as from_segment_order,
        cast(to_segment_order as integer) as to_segment_order,
        cast(customers as bigint) as customers,
        cast(
            customers * 1.0
            / nullif(sum(customers) over (partition by from_segment), 0)
            as double
        ) as from_segment_share,
        cast(
            case when from_segment <> to_segment then customers end
            as bigint
        ) as moved_customers,
        cast(
            case
                when from_segment <> to_segment
                    then
                        customers * 1.0
                        / nullif(
                            sum(customers) over (partition by from_segment), 0
                        )
            end as double
        ) as moved_share,
        from_segment = to_segment as is_same_segment
    from grid
)

select * from final
