-- One row: the campaign figures report pages show in sentences: where the
-- results come from (measured or simulated), the campaign variant with the
-- most incremental revenue and its 95% interval and p-value, how many A/B
-- tests (campaign and segment) found a winner, and the strongest cross-sell
-- rule by lift. The best campaign is named as rpt_campaign_results names it.
with results as (
    select * from {{ ref('campaign_results') }}
),

named_results as (
    select * from {{ ref('rpt_campaign_results') }}
),

affinity as (
    select * from {{ ref('fct_product_affinity') }}
),

sources as (
    select
        {{ sorted_distinct_string_agg('source', "', '") }} as results_source
    from results
),

best as (
    select * from results
    where incremental_revenue is not null
    order by incremental_revenue desc, campaign_id, segment_name, variant
    limit 1
),

best_named as (
    select named_results.campaign_name
    from best
    inner join named_results
        on
            best.campaign_id = named_results.campaign_id
            and best.segment_name = named_results.segment_name
            and best.offer_id is not distinct from named_results.offer_id
            and best.variant = named_results.variant
),

winners as (
    select
        count(distinct campaign_id || '|' || segment_name)
            as ab_tests_with_winner
    from results
    where ab_winner is not null
),

top_rule as (
    select * from affinity
    order by lift desc, antecedent_category, consequent_category
    limit 1
),

final as (
    -- explicit types: campaign_results may be an empty frame without them
    select
        cast(best.campaign_id as {{ dbt.type_string() }}) as best_campaign_id,
        cast(best_named.campaign_name as {{ dbt.type_string() }})
            as best_campaign_name,
        cast(sources.results_source as {{ dbt.type_string() }})
            as results_source,
        cast(best.segment_name as {{ dbt.type_string() }}) as best_segment_name,
        cast(best.variant as {{ dbt.type_string() }}) as best_variant,
        cast(
            top_rule.antecedent_category || ' -> '
            || top_rule.consequent_category as {{ dbt.type_string() }}
        ) as top_cross_sell_rule,
        cast(best.incremental_revenue as double) as best_incremental_revenue,
        cast(best.uplift_ci_lower as double) as best_uplift_ci_lower,
        cast(best.uplift_ci_upper as double) as best_uplift_ci_upper,
        cast(best.p_value as double) as best_p_value,
        cast(winners.ab_tests_with_winner as bigint) as ab_tests_with_winner,
        cast(top_rule.lift as double) as top_cross_sell_lift
    from sources
    cross join winners
    left join best on true
    left join best_named on true
    left join top_rule on true
)

select * from final
