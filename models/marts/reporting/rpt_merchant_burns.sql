-- One row per merchant: coupons burnt at its branches.
with branch_performance as (
    select * from {{ ref('fct_branch_performance') }}
),

final as (
    select
        merchant_name,
        cast(sum(burns) as bigint) as burns
    from branch_performance
    group by merchant_name
)

select * from final
