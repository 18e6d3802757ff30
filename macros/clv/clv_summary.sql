{% macro clv_summary(purchase_days, observation_end) %}
    {#- Per-customer BG/NBD and Gamma-Gamma inputs from `purchase_days`
        (customer_id, purchase_date, amount: one row per customer and day),
        counting purchases up to and including `observation_end`:
        x = purchase days - 1, t_x_days = last - first purchase day,
        t_days = observation_end - first purchase day, mean_repeat_value =
        mean amount of the repeat purchase days. -#}
    select
        customer_id,
        count(*) - 1 as x,
        {{ dbt.datediff('min(purchase_date)', 'max(purchase_date)', 'day') }}
            as t_x_days,
        {{ dbt.datediff('min(purchase_date)', observation_end, 'day') }}
            as t_days,
        cast(
            avg(case when purchase_number > 1 then amount end) as double
        ) as mean_repeat_value,
        cast(
            max(case when purchase_number = 1 then amount end) as double
        ) as first_value
    from (
        select
            customer_id,
            purchase_date,
            amount,
            row_number() over (
                partition by customer_id order by purchase_date
            ) as purchase_number
        from {{ purchase_days }}
        where purchase_date <= {{ observation_end }}
    ) as numbered
    group by customer_id
{% endmacro %}
