-- One row per customer and monthly snapshot: the customer's RFM measures,
-- scores and segment as they stood on snapshot_date (as_of_date minus 0..N-1
-- months, N = var segment_history_months). Snapshot 0 is today's
-- dim_customers segment. Orders are bucketed into the snapshot periods with
-- one range join, then accumulated with windows, so cost grows with
-- customers x snapshots, not orders x snapshots. Monetary counts an order's
-- net revenue including returns booked later.
with orders as (
    select * from {{ ref('fct_orders') }}
),

reference_date as (
    select * from {{ ref('int_reference_date') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

first_order as (
    select min(order_date) as first_order_date
    from orders
),

offsets as (
    {{ dbt.generate_series(var('segment_history_months')) }}
),

snapshots as (
    select
        cast(offsets.generated_number - 1 as integer) as snapshot_index,
        cast(
            {{ dbt.dateadd('month', '1 - offsets.generated_number',
                'reference_date.as_of_date') }} as date
        ) as snapshot_date
    from offsets
    cross join reference_date
),

periods as (
    -- Orders in [lower, upper) first count at snapshot_index.
    select
        snapshots.snapshot_index,
        snapshots.snapshot_date as upper_date,
        coalesce(
            lead(snapshots.snapshot_date) over (
                order by snapshots.snapshot_index
            ),
            first_order.first_order_date
        ) as lower_date
    from snapshots
    cross join first_order
),

bucketed as (
    select
        orders.customer_id,
        periods.snapshot_index,
        count(*) as orders,
        sum(orders.net_revenue) as revenue,
        max(orders.order_date) as last_order_date
    from orders
    inner join periods
        on
            orders.order_date >= periods.lower_date
            and orders.order_date < periods.upper_date
    group by 1, 2
),

first_buckets as (
    select
        customer_id,
        max(snapshot_index) as first_index
    from bucketed
    group by customer_id
),

grid as (
    select
        first_buckets.customer_id,
        snapshots.snapshot_index,
        snapshots.snapshot_date
    from first_buckets
    inner join snapshots
        on first_buckets.first_index >= snapshots.snapshot_index
),

accumulated as (
    select
        grid.customer_id,
        grid.snapshot_index,
        grid.snapshot_date,
        sum(coalesce(bucketed.orders, 0)) over customer_to_date as frequency,
        sum(coalesce(bucketed.revenue, 0)) over customer_to_date as monetary,
        max(bucketed.last_order_date) over customer_to_date as last_order_date
    from grid
    left join bucketed
        on
            grid.customer_id = bucketed.customer_id
            and grid.snapshot_index = bucketed.snapshot_index
    window customer_to_date as (
        partition by grid.customer_id
        order by grid.snapshot_index desc
        rows between unbounded preceding and current row
    )
),

measured as (
    select
        customer_id,
        snapshot_index,
        snapshot_date,
        {{ days_between('last_order_date', 'snapshot_date') }}
            as recency_days,
        frequency,
        cast(monetary as decimal(18, 2)) as monetary
    from accumulated
),

scored as (
    select
        *,
        {{ rfm_score('recency_days', higher_is_better=false,
            partition_by='snapshot_date') }} as r_score,
        {{ rfm_score('frequency', partition_by='snapshot_date') }} as f_score,
        {{ rfm_score('monetary', partition_by='snapshot_date') }} as m_score
    from measured
),

final as (
    select
        scored.customer_id,
        segment_map.rfm_segment,
        scored.snapshot_index,
        scored.recency_days,
        cast(scored.frequency as bigint) as frequency,
        scored.monetary,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        scored.snapshot_date
    from scored
    inner join segment_map
        on
            scored.r_score = segment_map.r_score
            and scored.f_score = segment_map.f_score
)

select * from final
