-- One row per segment x upcoming event x offer to write a message for:
-- events in (as_of_date, as_of_date + var message_event_horizon_days];
-- offers from var selected_offers, or every active offer still valid then;
-- offer types allowed for the segment by the offer_targeting_rules seed; an
-- offer must be storewide or in a category the event lifts. At most var
-- max_offers_per_segment_event offers per segment and event, by priority.
-- Segments: message_rfm_segments, or message_cluster_segments with
-- var message_segment_source = cluster.
with reference_date as (
    select * from {{ ref('int_reference_date') }}
),

events as (
    select * from {{ ref('stg_shop__events') }}
),

offers as (
    select * from {{ ref('stg_shop__offers') }}
),

rules as (
    select * from {{ ref('offer_targeting_rules') }}
),

segments as (
    {#- One line picks the segmentation; each source is its own model. #}
    select * from {{ ref(
        'message_cluster_segments'
        if var('message_segment_source') == 'cluster'
        else 'message_rfm_segments'
    ) }}
),

upcoming_events as (
    select events.*
    from events
    cross join reference_date
    where
        events.event_date > reference_date.as_of_date
        and events.event_date <= {{ dbt.dateadd(
            'day', var('message_event_horizon_days'), 'reference_date.as_of_date'
        ) }}
),

selected_offers as (
    select offers.*
    from offers
    cross join reference_date
    {% if var('selected_offers') | length > 0 %}
        where offers.offer_id in ({{ sql_string_list(var('selected_offers')) }})
    {% else %}
        where
            offers.is_active
            and coalesce(offers.valid_to, reference_date.as_of_date)
            >= reference_date.as_of_date
    {% endif %}
),

candidates as (
    select
        segments.*,
        upcoming_events.event_id,
        upcoming_events.event_name,
        upcoming_events.event_description,
        upcoming_events.event_date,
        selected_offers.offer_id,
        selected_offers.offer_name,
        selected_offers.offer_type,
        selected_offers.category as offer_category,
        selected_offers.offer_code,
        selected_offers.offer_description,
        selected_offers.discount_pct,
        selected_offers.min_spend,
        selected_offers.valid_to,
        rules.priority,
        rules.rationale,
        row_number() over (
            partition by segments.segment_name, upcoming_events.event_id
            order by rules.priority, selected_offers.offer_id
        ) as offer_rank
    from segments
    inner join rules
        on segments.targeting_segment = rules.rfm_segment
    inner join selected_offers
        on rules.offer_type = selected_offers.offer_type
    inner join upcoming_events
        on
            (
                selected_offers.category is null
                or {{ dbt.position('selected_offers.category',
                    'upcoming_events.relevant_categories') }} > 0
            )
            and coalesce(selected_offers.valid_from, upcoming_events.event_date)
            <= upcoming_events.event_date
),

final as (
    select
        segment_name || ' | ' || event_id || ' | ' || offer_id as pairing_id,
        segment_name,
        '{{ var("message_segment_source") }}' as segment_source,
        targeting_segment,
        segment_description,
        event_id,
        event_name,
        event_description,
        offer_id,
        offer_name,
        offer_type,
        offer_category,
        offer_code,
        offer_description,
        rationale,
        segment_customers,
        segment_aov,
        segment_orders_per_customer,
        segment_repeat_rate,
        segment_churn_risk_share,
        cast(discount_pct as double) as discount_pct,
        cast(min_spend as double) as min_spend,
        priority,
        event_date,
        valid_to
    from candidates
    where offer_rank <= {{ var('max_offers_per_segment_event') }}
)

select * from final
