{% macro raw_text(column, source_type) %}
    {#- The value as trimmed text, null when blank or absent. -#}
    {%- if source_type is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
    {%- endif -%}
{% endmacro %}


{% macro is_native(target_type, source_type) %}
    {#- True when the file already stores the column in a compatible type
        (Parquet), so it is cast directly with no text round trip. -#}
    {%- set source = (source_type or 'VARCHAR') | upper -%}
    {%- set target = target_type | lower -%}
    {%- set numeric = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT',
        'USMALLINT', 'UINTEGER', 'UBIGINT', 'FLOAT', 'DOUBLE', 'REAL'] -%}
    {%- if source == 'VARCHAR' -%}
        {{ return(false) }}
    {%- elif target == 'varchar' -%}
        {{ return(true) }}
    {%- elif target in ('date', 'timestamp') -%}
        {{ return(source.startswith('DATE') or source.startswith('TIMESTAMP')) }}
    {%- elif target == 'boolean' -%}
        {{ return(source == 'BOOLEAN') }}
    {%- else -%}
        {{ return(source in numeric or source.startswith('DECIMAL')) }}
    {%- endif -%}
{% endmacro %}


{% macro typed_column(column, target_type, source_type) %}
    {#- The column cast to its documented type; null when absent or unparseable
        (parse_errors then says why). -#}
    {%- set text = raw_text(column, source_type) -%}
    {%- set target = target_type | lower -%}
    {%- if source_type is none -%}
        cast(null as {{ target_type }})
    {%- elif is_native(target_type, source_type) -%}
        cast({{ column }} as {{ target_type }})
    {%- elif target == 'varchar' -%}
        {{ text }}
    {%- elif target == 'timestamp' -%}
        {{ parse_timestamp(text) }}
    {%- elif target == 'date' -%}
        cast({{ parse_timestamp(text) }} as date)
    {%- elif target == 'boolean' -%}
        case
            when lower({{ text }}) in ('true', 't', 'yes', 'y', '1') then true
            when lower({{ text }}) in ('false', 'f', 'no', 'n', '0') then false
        end
    {%- else -%}
        {{ try_cast(text, target_type) }}
    {%- endif -%}
{% endmacro %}


{% macro parse_errors(spec, source_types) %}
    {#- '; '-separated reasons a row's values can't be used: a required value
        missing, or text that does not parse as the column's type. Null when
        the row is fine. -#}
    {%- set checks = [] -%}
    {%- for column in spec.required_columns -%}
        {%- do checks.append(
            "case when " ~ raw_text(column, source_types.get(column))
            ~ " is null then 'missing " ~ column ~ "' end") -%}
    {%- endfor -%}
    {%- for column, type in spec.columns.items() -%}
        {%- set source_type = source_types.get(column) -%}
        {%- if source_type is not none and type | lower != 'varchar'
            and not is_native(type, source_type) -%}
            {%- set text = raw_text(column, source_type) -%}
            {%- set hint = " (expected " ~ (type | lower) ~ ")" -%}
            {%- if type | lower in ('date', 'timestamp') -%}
                {%- set hint = " (expected one of var date_formats)" -%}
            {%- endif -%}
            {%- do checks.append(
                "case when " ~ text ~ " is not null and "
                ~ typed_column(column, type, source_type)
                ~ " is null then 'unparseable " ~ column ~ " ''' || "
                ~ "left(" ~ text ~ ", 40) || '''" ~ hint ~ "' end") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if checks -%}
        nullif(concat_ws('; ', {{ checks | join(', ') }}), '')
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{% endmacro %}
