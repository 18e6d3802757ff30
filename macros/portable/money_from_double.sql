{% macro money_from_double(expression) %}
    {#- A double (a ratio of money, e.g. revenue / orders) as decimal(18, 2),
        rounded the way DuckDB casts a double: the value times 100 in double
        precision, rounded half away from zero. DuckDB divides decimals in
        double precision, so every engine must round that double the same
        way for both to give the same cent; Spark's own double-to-decimal
        cast rounds the shortest printed form instead (1.005 -> 1.01 where
        DuckDB gives 1.00). Pass the division in double precision:
        money_from_double('cast(revenue as double) / orders'). -#}
    {{ return(adapter.dispatch('money_from_double', 'marketing_engine')(
        expression)) }}
{% endmacro %}

{% macro duckdb__money_from_double(expression) %}
    cast({{ expression }} as decimal(18, 2))
{% endmacro %}

{% macro spark__money_from_double(expression) %}
    {#- Spark's round() on a double is half-up on the value's shortest
        printed form, which for a whole number of cents plus a half is
        exactly DuckDB's round-half-away-from-zero of the same double. -#}
    cast(
        cast(round(({{ expression }}) * 100.0D, 0) as decimal(20, 0)) / 100
        as decimal(18, 2)
    )
{% endmacro %}
