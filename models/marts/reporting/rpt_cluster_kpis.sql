-- One row: the clustering figures report pages show in sentences, the number
-- of clusters in the primary clustering (noise excluded) and the chosen fit
-- with the best silhouette, and how many clustered customers the scatter
-- shows (a sample capped at var report_scatter_max_points).
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

clusters as (
    select * from {{ ref('customer_clusters') }}
),

scatter as (
    select * from {{ ref('rpt_cluster_scatter') }}
),

scatter_count as (
    select
        (select count(*) from clusters) as clustered_customers,
        (select count(*) from scatter) as scatter_points
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
        cast(best.silhouette as double) as best_silhouette,
        cast(scatter_count.clustered_customers as bigint)
            as clustered_customers,
        cast(scatter_count.scatter_points as bigint) as scatter_points,
        cast({{ var('report_scatter_max_points') }} as bigint)
            as scatter_max_points
    from cluster_count
    cross join scatter_count
    left join best on true
)

select * from final
