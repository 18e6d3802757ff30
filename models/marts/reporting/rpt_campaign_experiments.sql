-- One row per campaign x segment x offer x variant: the experiment
-- statistics of campaign_results for the campaigns page (sample-ratio check,
-- minimum detectable effect, CUPED estimate and variance reduction, p-values
-- before and after the correction across tests, winner, note). test_label is
-- rpt_campaign_results.campaign_label.
with results as (
    select * from {{ ref('campaign_results') }}
),

named_results as (
    select * from {{ ref('rpt_campaign_results') }}
),

labelled as (
    select
        results.*,
        named_results.campaign_label
    from results
    left join named_results
        on
            results.campaign_id = named_results.campaign_id
            and results.segment_name = named_results.segment_name
            and results.offer_id is not distinct from named_results.offer_id
            and results.variant = named_results.variant
),

final as (
    select
        cast(campaign_id as varchar) as campaign_id,
        cast(segment_name as varchar) as segment_name,
        cast(offer_id as varchar) as offer_id,
        cast(variant as varchar) as variant,
        cast(campaign_label as varchar) as test_label,
        cast(ab_winner as varchar) as ab_winner,
        cast(correction_method as varchar) as correction_method,
        cast(note as varchar) as note,
        cast(sends as bigint) as sends,
        cast(holdout_customers as bigint) as holdout_customers,
        cast(holdout_share as double) as holdout_share,
        cast(srm_p_value as double) as srm_p_value,
        cast(mde_revenue_per_recipient as double) as mde_revenue_per_recipient,
        cast(ab_mde_conversion_rate as double) as ab_mde_conversion_rate,
        cast(incremental_revenue as double) as incremental_revenue,
        cast(cuped_incremental_revenue as double) as cuped_incremental_revenue,
        cast(cuped_ci_lower as double) as cuped_ci_lower,
        cast(cuped_ci_upper as double) as cuped_ci_upper,
        cast(cuped_variance_reduction as double) as cuped_variance_reduction,
        cast(p_value as double) as p_value,
        cast(cuped_p_value as double) as cuped_p_value,
        cast(p_value_adjusted as double) as p_value_adjusted,
        cast(ab_p_value as double) as ab_p_value,
        cast(ab_p_value_adjusted as double) as ab_p_value_adjusted,
        cast(has_srm as boolean) as has_srm,
        cast(is_significant_uplift as boolean) as is_significant_uplift
    from labelled
)

select * from final
