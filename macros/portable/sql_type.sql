{% macro sql_type(type) %}
    {#- The engine's name for a raw-contract type (var raw_tables): the
        contract says varchar, which Spark only accepts with a length. -#}
    {{ return(adapter.dispatch('sql_type', 'marketing_engine')(type)) }}
{% endmacro %}

{% macro duckdb__sql_type(type) %}
    {{ return(type) }}
{% endmacro %}

{% macro spark__sql_type(type) %}
    {{ return('string' if (type | lower | trim) == 'varchar' else type) }}
{% endmacro %}
