-- Customers typed, normalized and checked; quarantine_reason is null for
-- usable rows. Read by stg_shop__customers and stg_shop__quarantined_rows.
with source as (
    {{ raw_table('customers') }}
),

normalized as (
    select
        customer_id,
        first_name,
        lower(email) as email,
        replace(replace(phone, ' ', ''), '-', '') as phone,
        case
            when lower(gender) in ('f', 'female', 'woman') then 'Female'
            when lower(gender) in ('m', 'male', 'man') then 'Male'
            when gender is null then 'Unknown'
            else 'Other'
        end as gender,
        city_id,
        education,
        marital_status,
        income_band,
        num_kids,
        coalesce(sms_opt_in, false) as is_sms_opt_in,
        coalesce(email_opt_in, false) as is_email_opt_in,
        coalesce(opted_out, false) as is_opted_out,
        birth_date,
        join_date,
        parse_errors,
        row_key,
        row_number() over (
            partition by customer_id
            order by join_date, email, phone, first_name
        ) as occurrence
    from source
),

checked as (
    select
        *,
        case
            when parse_errors is not null then parse_errors
            when occurrence > 1 then 'duplicate customer_id'
            when num_kids < 0 then 'negative num_kids'
            when birth_date > join_date then 'birth_date after join_date'
        end as quarantine_reason
    from normalized
)

select * from checked
