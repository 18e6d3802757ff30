-- Usable customers rows; rejected rows are in stg_shop__quarantined_rows.
with checked as (
    select * from {{ ref('base_shop__customers') }}
),

final as (
    select
        customer_id,
        first_name,
        email,
        phone,
        gender,
        city_id,
        education,
        marital_status,
        income_band,
        num_kids,
        is_sms_opt_in,
        is_email_opt_in,
        is_opted_out,
        birth_date,
        join_date
    from checked
    where quarantine_reason is null
)

select * from final
