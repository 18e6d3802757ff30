{#- Reading the user's raw files (var raw_data_dir) on each engine: whether
    a file exists, a relation that reads it, and its columns. Used by
    raw_table() in macros/staging. DuckDB reads files with table functions;
    Spark through a temporary view over the path (dbt-spark has no
    external_location: the shop sources are declared for lineage on both). -#}

{% macro raw_file_exists(raw_dir, path) %}
    {#- True when `path` (a file, or a glob such as dir/x/*.parquet) exists. -#}
    {{ return(adapter.dispatch('raw_file_exists', 'marketing_engine')(
        raw_dir, path)) }}
{% endmacro %}

{% macro duckdb__raw_file_exists(raw_dir, path) %}
    {%- set hits = run_query("select count(*) from glob('" ~ path ~ "')") -%}
    {{ return(hits.columns[0].values()[0] > 0) }}
{% endmacro %}

{% macro spark__raw_file_exists(raw_dir, path) %}
    {#- Spark has no glob(): list every file under raw_data_dir once per
        run (binaryFile reads only names when no content is selected) and
        match the path. -#}
    {%- call statement('raw_files_listing') -%}
        create or replace temporary view marketing_engine__raw_files
        using binaryFile
        options (path '{{ raw_dir }}', recursiveFileLookup 'true')
    {%- endcall -%}
    {%- set relative = path[(raw_dir | length) + 1:] -%}
    {%- set pattern = '/' ~ (relative | replace('*', '[^/]*')
        | replace('.', '[.]')) ~ '$' -%}
    {%- set hits = run_query(
        "select count(*) from marketing_engine__raw_files where path rlike '"
        ~ pattern ~ "'") -%}
    {{ return(hits.columns[0].values()[0] > 0) }}
{% endmacro %}


{% macro raw_file_reader(name, path, format) %}
    {#- A relation (as SQL text) reading `path` as parquet or csv; CSV is read
        as all text so a bad value becomes a quarantine row with a reason
        instead of failing the whole read. -#}
    {{ return(adapter.dispatch('raw_file_reader', 'marketing_engine')(
        name, path, format)) }}
{% endmacro %}

{% macro duckdb__raw_file_reader(name, path, format) %}
    {%- if format == 'parquet' -%}
        {{ return("read_parquet('" ~ path ~ "')") }}
    {%- else -%}
        {{ return("read_csv('" ~ path ~ "', header = true, "
            ~ "all_varchar = true, normalize_names = true)") }}
    {%- endif -%}
{% endmacro %}

{% macro spark__raw_file_reader(name, path, format) %}
    {#- A temporary view shop__<name> over the file(s): Spark reads a
        directory of Parquet parts by its directory path. -#}
    {%- set view = 'shop__' ~ name -%}
    {%- set location = path | replace('/*.parquet', '') -%}
    {%- call statement('raw_file_view_' ~ name) -%}
        create or replace temporary view {{ view }}
        using {{ format }}
        options (
            path '{{ location }}'
            {%- if format == 'csv' %},
            header 'true',
            inferSchema 'false',
            escape '"',
            multiLine 'true'
            {%- endif %}
        )
    {%- endcall -%}
    {{ return(view) }}
{% endmacro %}


{% macro raw_file_columns(reader) %}
    {#- {lowercase column name: DuckDB type name} of the relation `reader`.
        Spark's type names are translated to DuckDB's (string -> VARCHAR,
        int -> INTEGER, ...) so the staging rules read one vocabulary. -#}
    {{ return(adapter.dispatch('raw_file_columns', 'marketing_engine')(reader)) }}
{% endmacro %}

{% macro duckdb__raw_file_columns(reader) %}
    {%- set described = run_query(
        "select lower(column_name), column_type from (describe select * from "
        ~ reader ~ ")") -%}
    {%- set present = {} -%}
    {%- for row in described.rows -%}
        {%- do present.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(present) }}
{% endmacro %}

{% macro spark__raw_file_columns(reader) %}
    {%- set names = {'string': 'VARCHAR', 'int': 'INTEGER', 'integer': 'INTEGER',
        'bigint': 'BIGINT', 'smallint': 'SMALLINT', 'tinyint': 'TINYINT',
        'double': 'DOUBLE', 'float': 'FLOAT', 'boolean': 'BOOLEAN',
        'date': 'DATE', 'timestamp': 'TIMESTAMP', 'timestamp_ntz': 'TIMESTAMP'} -%}
    {%- set described = run_query("describe query select * from " ~ reader) -%}
    {%- set present = {} -%}
    {%- for row in described.rows -%}
        {%- set type = row[1] | lower -%}
        {%- do present.update({row[0] | lower:
            names.get(type, type | upper | replace(' ', ''))}) -%}
    {%- endfor -%}
    {{ return(present) }}
{% endmacro %}


{% macro source_reads_files() %}
    {#- True when a shop source relation reads its file itself (dbt-duckdb's
        meta.external_location); otherwise raw_table() reads the file through
        raw_file_reader() and the source is declared for lineage only. -#}
    {{ return(adapter.dispatch('source_reads_files', 'marketing_engine')()) }}
{% endmacro %}

{% macro duckdb__source_reads_files() %}
    {{ return(true) }}
{% endmacro %}

{% macro spark__source_reads_files() %}
    {{ return(false) }}
{% endmacro %}
