-- One row per snapshot month and (from, to) segment pair: how many customers
-- moved from one RFM segment on the previous snapshot to another on this
-- one, and the share of the from-segment that made the move. Customers whose
-- first order fell between the two snapshots come from 'Prospect' (the
-- segment of registered customers without an order, as in dim_customers).
with history as (
    select * from {{ ref('fct_segment_history') }}
),

paired as (
    select
        current_snapshot.snapshot_date,
        coalesce(previous_snapshot.rfm_segment, 'Prospect')
            as from_segment,
        current_snapshot.rfm_segment as to_segment
    from history as current_snapshot
    left join history as previous_snapshot
        on
            current_snapshot.customer_id = previous_snapshot.customer_id
            and previous_snapshot.snapshot_index
            = current_snapshot.snapshot_index + 1
    where current_snapshot.snapshot_index < (
            select max(history.snapshot_index) from history
        )
),

counted as (
    select
        snapshot_date,
        from_segment,
        to_segment,
        count(*) as customers
    from paired
    group by snapshot_date, from_segment, to_segment
),

final as (
    select
        from_segment,
        to_segment,
        customers,
        cast(customers as double)
        / sum(customers) over (partition by snapshot_date, from_segment)
            as from_segment_share,
        from_segment <> to_segment as is_segment_change,
        snapshot_date
    from counted
)

select * from final
