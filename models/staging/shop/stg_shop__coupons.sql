-- Usable coupons rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__coupons') }}
),

final as (
    select
        coupon_txn_id,
        customer_id,
        coupon_name,
        coupon_status,
        branch_id,
        claimed_date,
        burn_date
    from checked
    where quarantine_reason is null
)

select * from final
