{% macro named_struct(fields) %}
    {#- A struct value from an ordered list of (name, expression) pairs. -#}
    {{ return(adapter.dispatch('named_struct', 'marketing_engine')(fields)) }}
{% endmacro %}

{% macro duckdb__named_struct(fields) %}
    struct_pack(
        {%- for name, expression in fields %}
        {{ name }} := {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{% endmacro %}

{% macro spark__named_struct(fields) %}
    named_struct(
        {%- for name, expression in fields %}
        '{{ name }}', {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{% endmacro %}


{% macro list_without_nulls(expressions) %}
    {#- A list (array) of the given expressions, nulls left out. -#}
    {{ return(adapter.dispatch('list_without_nulls', 'marketing_engine')(
        expressions)) }}
{% endmacro %}

{% macro duckdb__list_without_nulls(expressions) %}
    list_filter([{{ expressions | join(', ') }}], lambda x: x is not null)
{% endmacro %}

{% macro spark__list_without_nulls(expressions) %}
    filter(array({{ expressions | join(', ') }}), x -> x is not null)
{% endmacro %}


{% macro empty_struct_list(fields) %}
    {#- An empty list of structs with the given (name, type) fields. -#}
    {{ return(adapter.dispatch('empty_struct_list', 'marketing_engine')(fields)) }}
{% endmacro %}

{% macro duckdb__empty_struct_list(fields) %}
    cast([] as struct(
        {%- for name, type in fields %}
        {{ name }} {{ type }}{{ ',' if not loop.last }}
        {%- endfor %}
    )[])
{% endmacro %}

{% macro spark__empty_struct_list(fields) %}
    cast(array() as array<struct<
        {%- for name, type in fields -%}
        {{ name }}: {{ type }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    >>)
{% endmacro %}


{% macro list_concat(first, second) %}
    {#- The elements of list `first` followed by those of `second`. -#}
    {{ return(adapter.dispatch('list_concat', 'marketing_engine')(first, second)) }}
{% endmacro %}

{% macro duckdb__list_concat(first, second) %}
    list_concat({{ first }}, {{ second }})
{% endmacro %}

{% macro spark__list_concat(first, second) %}
    concat({{ first }}, {{ second }})
{% endmacro %}


{% macro unnest_list(column) %}
    {#- In a select list: one output row per element of list `column`. -#}
    {{ return(adapter.dispatch('unnest_list', 'marketing_engine')(column)) }}
{% endmacro %}

{% macro duckdb__unnest_list(column) %}
    unnest({{ column }})
{% endmacro %}

{% macro spark__unnest_list(column) %}
    explode({{ column }})
{% endmacro %}


{% macro sorted_distinct_list(expression) %}
    {#- Aggregate: the sorted list of the distinct non-null values; NULL (not
        an empty list) when there are none, on both engines. -#}
    {{ return(adapter.dispatch('sorted_distinct_list', 'marketing_engine')(
        expression)) }}
{% endmacro %}

{% macro duckdb__sorted_distinct_list(expression) %}
    list_sort(list(distinct {{ expression }}) filter (where {{ expression }} is not null))
{% endmacro %}

{% macro spark__sorted_distinct_list(expression) %}
    {#- collect_set gives [] where DuckDB's list() gives NULL. -#}
    case
        when size(collect_set({{ expression }})) > 0
            then array_sort(collect_set({{ expression }}))
    end
{% endmacro %}


{% macro sorted_distinct_string_agg(expression, separator) %}
    {#- Aggregate: the distinct non-null values, sorted, joined by the
        `separator` text (a SQL string literal, e.g. "', '"); NULL when
        there are none, '' when the only value is ''. -#}
    {{ return(adapter.dispatch('sorted_distinct_string_agg', 'marketing_engine')(
        expression, separator)) }}
{% endmacro %}

{% macro duckdb__sorted_distinct_string_agg(expression, separator) %}
    string_agg(distinct {{ expression }}, {{ separator }} order by {{ expression }})
{% endmacro %}

{% macro spark__sorted_distinct_string_agg(expression, separator) %}
    case
        when size(collect_set({{ expression }})) > 0
            then array_join(array_sort(collect_set({{ expression }})), {{ separator }})
    end
{% endmacro %}
