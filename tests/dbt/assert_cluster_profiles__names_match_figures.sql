-- A cluster's name never says the opposite of its own figures against the
-- median customer with an order (the rules named in
-- marketing_engine.clustering.name_clusters): returns every contradiction.
with profiles as (
    select * from {{ ref('cluster_profiles') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

population as (
    select
        percentile_cont(0.5) within group (order by recency_days)
            as recency_days,
        percentile_cont(0.5) within group (order by frequency) as frequency,
        percentile_cont(0.5) within group (order by monetary) as monetary
    from customers
    where frequency > 0
),

named as (
    select
        profiles.algorithm,
        profiles.cluster_id,
        profiles.cluster_name,
        profiles.median_recency_days,
        profiles.median_frequency,
        profiles.median_monetary,
        profiles.churn_risk_share,
        population.recency_days as population_recency_days,
        population.frequency as population_frequency,
        population.monetary as population_monetary,
        lower(profiles.cluster_name) as words
    from profiles
    cross join population
    where profiles.cluster_id <> -1
),

final as (
    select *
    from named
    where
        (
            (words like 'active%' or words like 'steady%')
            and (
                median_recency_days >= population_recency_days
                or churn_risk_share >= 0.5
            )
        )
        or (
            words like 'lapsed%'
            and median_recency_days <= population_recency_days
        )
        or (
            (words like '%big spenders%' or words like '%high spenders%')
            and median_monetary <= population_monetary
        )
        or (
            (words like '%light spenders%' or words like '%occasional%')
            and median_monetary >= population_monetary
        )
        or (
            (words like '%frequent%' or words like '%loyal%')
            and median_frequency <= population_frequency
        )
        or (
            words like '%occasional%'
            and median_frequency > population_frequency
        )
)

select * from final
