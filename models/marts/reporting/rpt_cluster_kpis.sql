-- One row: the clustering figures report pages show in sentences, the number
-- of clusters in the primary clustering (noise excluded) and the chosen fit
-- with the best silhouette.
with profiles as (
    select * from {{ ref('cluster_profiles') }}
    where is_primary and cluster_id >= 0
),

evaluation as (
    select * from {{ ref('cluster_evaluation') }}
    where is_chosen and algorithm <> 'kmeans_sweep'
),

best as (
    select * from evaluation
    order by silhouette desc nulls last, algorithm
    limit 1
),

cluster_count as (
    select count(*) as primary_clusters from profiles
),

final as (
    -- explicit types: the clustering models may return all-NULL columns
    select
        cast(best.algorithm as varchar) as best_algorithm,
        cast(best.parameters as varchar) as best_parameters,
        cast(cluster_count.primary_clusters as bigint) as primary_clusters,
        cast(best.silhouette as double) as best_silhouette
    from cluster_count
    left join best on true
)

select * from final
