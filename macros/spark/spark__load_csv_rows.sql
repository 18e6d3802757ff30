{% macro spark__load_csv_rows(model, agate_table) %}
    {#- Seeds on Spark: Spark reads the CSV file itself (every cell as text,
        empty cells null), then casts to the seed's column_types. Replaces
        dbt-spark's row-by-row insert, which in the session method formats
        values into the SQL unescaped (a quote in "Can't Lose Them" breaks
        the statement, an empty cell becomes the text 'None') and takes
        minutes on the 50,000-line sample. The file must be readable where
        Spark runs (always true for the local session method). -#}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set path = model.root_path ~ '/' ~ model.original_file_path -%}
    {%- set view = model.name ~ '__csv' -%}
    {%- call statement('seed_csv_view') -%}
        create or replace temporary view {{ view }}
        using csv
        options (
            path '{{ path | replace("'", "\\'") }}',
            header 'true',
            inferSchema 'false',
            escape '"',
            multiLine 'true'
        )
    {%- endcall -%}
    {%- set sql -%}
        insert into {{ this.render() }}
        select
            {%- for col_name in agate_table.column_names %}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) %}
            {%- set type = column_override.get(col_name, inferred_type) %}
            cast(`{{ col_name }}` as {{ type }})
                {{- ',' if not loop.last }}
            {%- endfor %}
        from {{ view }}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {{ return(sql) }}
{% endmacro %}
