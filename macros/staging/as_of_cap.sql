{% macro future_cutoff() %}
    {#- Latest plausible timestamp for a raw row: the end of as_of_date when
        set, otherwise the end of today. Later rows are quarantined as future. -#}
    {%- if var('as_of_date', none) is not none -%}
        cast('{{ var("as_of_date") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast({{ dbt.dateadd('day', 1, 'current_date') }} as {{ dbt.type_timestamp() }})
    {%- endif -%}
{% endmacro %}


{% macro future_reason(column) %}
    {#- Quarantine reason for a row dated at or after future_cutoff(). -#}
    {%- if var('as_of_date', none) is not none -%}
        '{{ column }} on or after as_of_date {{ var("as_of_date") }}'
    {%- else -%}
        'future {{ column }}'
    {%- endif -%}
{% endmacro %}
