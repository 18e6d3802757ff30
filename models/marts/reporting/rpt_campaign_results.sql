-- One row per campaign x segment x offer x variant: campaign_results with the
-- names a reader knows instead of ids. campaign_name is "<event>: <offer>"
-- when the campaign id is the simulated <event_id>-<offer_id>, else the offer
-- name, else the campaign id (a user's own campaign_sends.csv names its own
-- campaigns); campaign_label adds the segment and variant, one line per test.
with results as (
    select * from {{ ref('campaign_results') }}
),

events as (
    select * from {{ ref('stg_shop__events') }}
),

offers as (
    select * from {{ ref('stg_shop__offers') }}
),

named as (
    select
        results.*,
        coalesce(
            events.event_name || ': ' || offers.offer_name,
            offers.offer_name,
            results.campaign_id
        ) as campaign_name
    from results
    left join offers
        on results.offer_id = offers.offer_id
    left join events
        on results.campaign_id = events.event_id || '-' || results.offer_id
),

final as (
    select
        cast(campaign_id as varchar) as campaign_id,
        cast(campaign_name as varchar) as campaign_name,
        cast(
            segment_name || ' ' || variant || ', ' || campaign_name as varchar
        ) as campaign_label,
        cast(segment_name as varchar) as segment_name,
        cast(offer_id as varchar) as offer_id,
        cast(variant as varchar) as variant,
        cast(source as varchar) as source,
        cast(ab_winner as varchar) as ab_winner,
        cast(sends as bigint) as sends,
        cast(open_rate as double) as open_rate,
        cast(click_rate as double) as click_rate,
        cast(conversion_rate as double) as conversion_rate,
        cast(holdout_conversion_rate as double) as holdout_conversion_rate,
        cast(incremental_revenue as double) as incremental_revenue,
        cast(uplift_ci_lower as double) as uplift_ci_lower,
        cast(uplift_ci_upper as double) as uplift_ci_upper,
        cast(p_value as double) as p_value,
        cast(roi as double) as roi
    from named
)

select * from final
