{% macro parse_timestamp(text) %}
    {{ return(adapter.dispatch('parse_timestamp', 'marketing_engine')(text)) }}
{% endmacro %}

{% macro default__parse_timestamp(text) %}
    {{ try_cast(text, dbt.type_timestamp()) }}
{% endmacro %}

{% macro duckdb__parse_timestamp(text) %}
    {#- DuckDB can try several explicit formats at once: users' files mix
        "2025-03-01", "2025-03-01 10:00:00" and ISO "T" timestamps, and an
        ambiguous "03/04/2025" must not be guessed. -#}
    try_strptime({{ text }}, [
        {%- for format in var('date_formats') -%}
            '{{ format }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    ])
{% endmacro %}


{% macro try_cast(text, type) %}
    {#- Cast that yields null instead of failing on bad input. dbt's
        safe_cast is a plain cast on DuckDB, so DuckDB gets try_cast. -#}
    {{ return(adapter.dispatch('try_cast', 'marketing_engine')(text, type)) }}
{% endmacro %}

{% macro default__try_cast(text, type) %}
    {{ dbt.safe_cast(text, type) }}
{% endmacro %}

{% macro duckdb__try_cast(text, type) %}
    try_cast({{ text }} as {{ type }})
{% endmacro %}
