-- One row per clustering algorithm's chosen fit: the Clusters page's
-- comparison table with human names (cluster_evaluation holds every figure;
-- the KMeans sweep's rows over k stay there). Primary marks the fit whose
-- clusters the report and the messages use.
with evaluation as (
    select * from {{ ref('cluster_evaluation') }}
    where is_chosen and algorithm <> 'kmeans_sweep'
),

final as (
    select
        cast(
            case algorithm
                when 'kmeans' then 'KMeans'
                when 'dbscan' then 'DBSCAN'
                when 'hierarchical' then 'Ward hierarchical'
                else algorithm
            end as varchar
        ) as algorithm,
        cast(
            case when is_primary then 'Primary' else 'Compared' end as varchar
        ) as role,
        cast(parameters as varchar) as parameters,
        cast(note as varchar) as note,
        cast(n_clusters as bigint) as clusters,
        cast(n_customers as bigint) as customers,
        cast(silhouette as double) as silhouette,
        cast(davies_bouldin as double) as davies_bouldin_index,
        cast(calinski_harabasz as double) as calinski_harabasz_index,
        cast(noise_share as double) as noise_share
    from evaluation
)

select * from final
