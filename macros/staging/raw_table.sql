{% macro raw_table(name) %}
    {#- A select over raw table `name` with every documented column typed as
        in var('raw_tables'), plus `parse_errors` (why a required value could
        not be read: the row is quarantined), `field_issues` (optional values
        that could not be read and are null: the row is kept, the issue goes
        to the data-quality mart) and `row_key` (the row's key as written).

        The embedded sample comes from the `raw_<name>` seed. When var
        raw_data_dir is set the user's file is the declared source
        shop.<name> (models/staging/shop/_shop__sources.yml): read through its
        external_location when that is the file found, else from whichever of
        <name>.parquet, <name>/*.parquet, <name>.csv or <name>.csv.gz exists. -#}
    {%- set spec = var('raw_tables')[name] -%}
    {%- set raw_dir = var('raw_data_dir', none) -%}
    {%- if raw_dir is not none -%}
        {#- Lineage and freshness: the file is a declared source. -#}
        {%- set declared = source('shop', name) -%}
    {%- endif -%}
    {%- if raw_dir is none -%}
        {%- set reader = ref('raw_' ~ name) -%}
        {%- set source_types = {} -%}
        {%- for column in spec.columns -%}
            {%- do source_types.update({column: 'VARCHAR'}) -%}
        {%- endfor -%}
    {%- elif not execute -%}
        {#- Parsing: no files are read yet; any typed select will do. -#}
        {%- set reader = none -%}
        {%- set source_types = {} -%}
    {%- else -%}
        {%- set found = locate_raw_file(raw_dir, name) -%}
        {%- if found is none and spec.required -%}
            {{ exceptions.raise_compiler_error(
                "Required raw table '" ~ name ~ "' not found in raw_data_dir '"
                ~ raw_dir ~ "'. Add " ~ name ~ ".csv or " ~ name
                ~ ".parquet there (columns: " ~ (spec.columns.keys() | join(', '))
                ~ "), or unset raw_data_dir to use the embedded sample.") }}
        {%- endif -%}
        {%- set reader = found.reader if found is not none else none -%}
        {%- if found is not none and source_reads_files()
            and found.path == raw_dir ~ '/' ~ name ~ '.parquet' -%}
            {%- set reader = declared -%}
        {%- endif -%}
        {%- set source_types = raw_column_types(found, name, spec) if found is not none
            else {} -%}
    {%- endif -%}

    {%- if reader is none %}
    select
        {%- for column, type in spec.columns.items() %}
        cast(null as {{ sql_type(type) }}) as {{ column }},
        {%- endfor %}
        cast(null as {{ dbt.type_string() }}) as parse_errors,
        {{ empty_field_issues() }} as field_issues,
        cast(null as {{ dbt.type_string() }}) as row_key
    where 1 = 0
    {%- else %}
    select
        {%- for column, type in spec.columns.items() %}
        {{ typed_column(column, type, source_types.get(column)) }} as {{ column }},
        {%- endfor %}
        {{ parse_errors(spec, source_types) }} as parse_errors,
        {{ field_issues(spec, source_types) }} as field_issues,
        {%- set first_column = (spec.columns.keys() | list)[0] %}
        {%- set key_column = spec.required_columns[0] %}
        coalesce(
            {{ raw_text(first_column, source_types.get(first_column)) }},
            {{ raw_text(key_column, source_types.get(key_column)) }}
        ) as row_key
    from {{ reader }}
    {%- endif %}
{% endmacro %}


{% macro locate_raw_file(raw_dir, name) %}
    {#- The first of <name>.parquet, <name>/*.parquet, <name>.csv, <name>.csv.gz
        that exists, as {path, reader}; none when there is none. -#}
    {%- set candidates = [
        (raw_dir ~ '/' ~ name ~ '.parquet', 'parquet'),
        (raw_dir ~ '/' ~ name ~ '/*.parquet', 'parquet'),
        (raw_dir ~ '/' ~ name ~ '.csv', 'csv'),
        (raw_dir ~ '/' ~ name ~ '.csv.gz', 'csv'),
    ] -%}
    {%- for path, format in candidates -%}
        {%- if raw_file_exists(raw_dir, path) -%}
            {{ return({'path': path,
                'reader': raw_file_reader(name, path, format)}) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}


{% macro raw_column_types(found, name, spec) %}
    {#- DuckDB type name of every documented column present in the file
        (raw_file_columns gives DuckDB's names on every engine); fails,
        naming the file, when a required column is missing. -#}
    {%- set present = raw_file_columns(found.reader) -%}
    {%- set missing = [] -%}
    {%- for column in spec.required_columns -%}
        {%- if column not in present -%}{%- do missing.append(column) -%}{%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ found.path ~ " is missing required column(s) "
            ~ (missing | join(', ')) ~ ". It has: " ~ (present.keys() | join(', '))
            ~ ". Rename or add the column(s); see README 'Your own data'.") }}
    {%- endif -%}
    {%- set types = {} -%}
    {%- for column in spec.columns -%}
        {%- if column in present -%}
            {%- do types.update({column: present[column] | upper}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}
