{% macro sql_string_list(values) %}
    {#- 'a', 'b', 'c' for an IN list; quotes inside values are doubled. -#}
    {%- for value in values -%}
        '{{ value | string | replace("'", "''") }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{% endmacro %}
