-- One row per group of the chosen customer-base model's calibration table:
-- mean predicted vs mean actual holdout repeat purchases by calibration
-- repeat purchases (0-6, 7+) and by decile of the prediction.
with calibration as (
    select * from {{ ref('clv_calibration') }}
),

final as (
    select
        cast(model as varchar) as model,
        cast(grouping as varchar) as grouping,
        cast(group_label as varchar) as group_label,
        cast(group_order as bigint) as group_order,
        cast(customers as bigint) as customers,
        cast(mean_predicted as double) as mean_predicted,
        cast(mean_actual as double) as mean_actual
    from calibration
    where is_chosen
)

select * from final
