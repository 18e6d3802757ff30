{% macro days_between(start_date, end_date) %}
    {#- Whole days from start_date to end_date as bigint on every engine
        (dbt.datediff gives bigint on DuckDB, int on Spark; the contracts
        say bigint). -#}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as bigint)
{% endmacro %}
