-- One row per customer with at least one valid order: cluster id and name
-- from the primary algorithm (clustering config primary_algorithm); is_noise
-- marks DBSCAN outliers.
with assignments as (
    select * from {{ ref('cluster_assignments') }}
),

final as (
    select
        customer_id,
        algorithm as cluster_algorithm,
        cluster_name,
        cluster_id,
        is_noise
    from assignments
    where is_primary
)

select * from final
