-- One row: how the campaign tests stand once done right: tests (campaign x
-- segment x offer), those with a sample-ratio mismatch, variant-vs-holdout
-- uplifts significant before and after the correction across tests, A/B
-- tests significant before the correction and winners after it, and the
-- correction used.
with results as (
    select * from {{ ref('campaign_results') }}
),

tests as (
    select
        campaign_id,
        segment_name,
        offer_id,
        bool_or(has_srm) as has_srm,
        max(ab_p_value) as ab_p_value,
        max(ab_winner) as ab_winner,
        max(alpha) as alpha
    from results
    group by campaign_id, segment_name, offer_id
),

test_counts as (
    select
        count(*) as tests,
        count(case when has_srm then 1 end) as tests_with_srm,
        count(case when ab_p_value < alpha then 1 end)
            as ab_significant_unadjusted,
        count(ab_winner) as ab_winners
    from tests
),

uplift_counts as (
    select
        count(*) as uplift_tests,
        count(case when cuped_p_value < alpha then 1 end)
            as uplifts_significant_unadjusted,
        count(case when is_significant_uplift then 1 end)
            as uplifts_significant_adjusted,
        max(
            case
                when correction_method = 'holm' then 'Holm'
                when correction_method = 'bh' then 'Benjamini-Hochberg'
            end
        ) as correction_label
    from results
),

final as (
    select
        cast(uplift_counts.correction_label as varchar) as correction_label,
        cast(test_counts.tests as bigint) as tests,
        cast(test_counts.tests_with_srm as bigint) as tests_with_srm,
        cast(uplift_counts.uplift_tests as bigint) as uplift_tests,
        cast(uplift_counts.uplifts_significant_unadjusted as bigint)
            as uplifts_significant_unadjusted,
        cast(uplift_counts.uplifts_significant_adjusted as bigint)
            as uplifts_significant_adjusted,
        cast(test_counts.ab_significant_unadjusted as bigint)
            as ab_significant_unadjusted,
        cast(test_counts.ab_winners as bigint) as ab_winners
    from test_counts
    cross join uplift_counts
)

select * from final
