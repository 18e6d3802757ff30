{% macro duplicate_order(name, key, first) %}
    {#- The ORDER BY items that rank rows sharing raw table `name`'s `key`:
        `first` (the table's own rule for which row counts), then every other
        column of var('raw_tables')[name] in the contract's order (as the
        calling select sees it: the typed value, or its cleaned form where the
        model cleans it first), then the row's parse errors and field issues,
        nulls last on every engine. Rows still tied are equal in all of these,
        so which one is kept (and every figure after it) never depends on the
        order the engine happened to read the file in. -#}
    {%- set rest = var('raw_tables')[name].columns.keys()
        | reject('in', first + [key]) | list -%}
    {%- for column in first + rest -%}
        {{ column }} nulls last,
    {%- endfor %}
    parse_errors nulls last,
    cast(field_issues as {{ dbt.type_string() }}) nulls last
{%- endmacro %}
