{% macro raw_text(column, source_type) %}
    {#- The value as trimmed text, null when blank or absent. -#}
    {%- if source_type is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
    {%- endif -%}
{% endmacro %}


{% macro is_blank(column, source_type) %}
    {#- True when the value is absent: null, or blank text. A typed (Parquet)
        column is never turned into text just to ask. -#}
    {%- if source_type is none -%}
        true
    {%- elif (source_type | upper) == 'VARCHAR' -%}
        {{ raw_text(column, source_type) }} is null
    {%- else -%}
        {{ column }} is null
    {%- endif -%}
{% endmacro %}


{% macro is_lossless(target_type, source_type) %}
    {#- True when a typed source can never be rounded by the cast to
        target_type (an integer into a decimal, a decimal with no more places):
        try_cast then either keeps every digit or gives null (out of range). -#}
    {%- set source = (source_type or 'VARCHAR') | upper | replace(' ', '') -%}
    {%- set target = target_type | lower | replace(' ', '') -%}
    {%- set integers = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT',
        'USMALLINT', 'UINTEGER', 'UBIGINT'] -%}
    {%- set target_scale = (target.split(',')[1].rstrip(')') | int)
        if target.startswith('decimal(') and ',' in target
        else (0 if target in ('integer', 'bigint', 'smallint', 'tinyint', 'hugeint')
        else none) -%}
    {%- if target_scale is none -%}
        {{ return(false) }}
    {%- elif source in integers -%}
        {{ return(true) }}
    {%- elif source.startswith('DECIMAL(') and ',' in source -%}
        {{ return((source.split(',')[1].rstrip(')') | int) <= target_scale) }}
    {%- else -%}
        {{ return(false) }}
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


{% macro is_numeric_target(target_type) %}
    {%- set target = target_type | lower -%}
    {{ return(target not in ('varchar', 'date', 'timestamp', 'boolean')) }}
{% endmacro %}


{% macro is_money(target_type) %}
    {#- Money columns are decimal(p, 2): they are rounded to the cent, and
        every rounding is listed in field_issues (a per-unit price such as
        29.33 / 2 = 14.665 is ordinary in real exports). -#}
    {%- set compact = target_type | lower | replace(' ', '') -%}
    {{ return(compact.startswith('decimal(') and compact.endswith(',2)')) }}
{% endmacro %}


{% macro number_as_double(column, target_type, source_type) %}
    {%- if is_native(target_type, source_type) -%}
        cast({{ column }} as double)
    {%- else -%}
        {{ try_cast(raw_text(column, source_type), 'double') }}
    {%- endif -%}
{% endmacro %}


{% macro cast_number(column, target_type, source_type) %}
    {#- try_cast to target_type: rounds, null when out of range. -#}
    {%- if is_native(target_type, source_type) -%}
        {{ try_cast(column, target_type) }}
    {%- else -%}
        {{ try_cast(raw_text(column, source_type), target_type) }}
    {%- endif -%}
{% endmacro %}


{% macro is_exact(column, target_type, source_type) %}
    {#- True when the cast kept every digit (up to float noise: a Parquet
        0.1 + 0.2 is 0.3), false when it rounded. -#}
    {%- set value = number_as_double(column, target_type, source_type) -%}
    abs(
        cast({{ cast_number(column, target_type, source_type) }} as double)
        - {{ value }}
    ) <= 1e-9 * greatest(1, abs({{ value }}))
{% endmacro %}


{% macro exact_number(column, target_type, source_type) %}
    {#- A number cast to target_type only when no digit is lost: '1.5' and
        a Parquet double 1.5 fit decimal(18, 3); '1.2345' or 2.5 into an
        integer do not and give null (the issue then says why), never a
        silently rounded value. Money is rounded to the cent (is_money). -#}
    {%- if is_money(target_type) or is_lossless(target_type, source_type) -%}
        {{ cast_number(column, target_type, source_type) }}
    {%- else -%}
        case
            when {{ is_exact(column, target_type, source_type) }}
                then {{ cast_number(column, target_type, source_type) }}
        end
    {%- endif -%}
{% endmacro %}


{% macro rounding_issue(column, target_type, source_type) %}
    {#- For money: 'unit_price 14.665 rounded to 14.67', null when exact. -#}
    {%- if is_lossless(target_type, source_type) -%}
    cast(null as {{ dbt.type_string() }})
    {%- else %}
    case
        when not ({{ is_exact(column, target_type, source_type) }})
            then '{{ column }} ' || {{ raw_text(column, source_type) }}
                || ' rounded to '
                || cast({{ cast_number(column, target_type, source_type) }}
                    as {{ dbt.type_string() }})
                || ' ({{ target_type | lower }})'
    end
    {%- endif -%}
{% endmacro %}


{% macro typed_column(column, target_type, source_type) %}
    {#- The column cast to its documented type; null when absent, unparseable
        or not exactly representable (parse_errors or field_issues say why). -#}
    {%- set text = raw_text(column, source_type) -%}
    {%- set target = target_type | lower -%}
    {%- if source_type is none -%}
        cast(null as {{ sql_type(target_type) }})
    {%- elif is_numeric_target(target_type) -%}
        {{ exact_number(column, target_type, source_type) }}
    {%- elif is_native(target_type, source_type) -%}
        cast({{ column }} as {{ sql_type(target_type) }})
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
    {%- endif -%}
{% endmacro %}


{% macro value_issue(column, type, source_type) %}
    {#- Why a present value of `column` could not be read, null when it was
        read: unparseable text, or a number the type cannot hold exactly. -#}
    {%- set text = raw_text(column, source_type) -%}
    {%- if is_native(type, source_type) and not is_numeric_target(type) -%}
    {#- A typed date, timestamp, boolean or text column casts as it is. -#}
    cast(null as {{ dbt.type_string() }})
    {%- else -%}
    {%- set shown = "'''' || left(" ~ text ~ ", 40) || ''''" -%}
    {%- set hint = "' (expected " ~ (type | lower) ~ ")'" -%}
    {%- if type | lower in ('date', 'timestamp') -%}
        {%- set hint = "' (expected one of var date_formats)'" -%}
    {%- elif is_numeric_target(type) -%}
        {#- 11,77 (a decimal comma) or 1,234.50 (a thousands separator): say
            how the number must be written. -#}
        {%- set written = "with . as the decimal point and no thousands "
            ~ "separators, e.g. 1234.50" if 'decimal' in (type | lower)
            or 'double' in (type | lower) else "with no thousands separators, "
            ~ "e.g. 1234" -%}
        {%- set hint = "case when " ~ text ~ " like '%,%' then ' (expected "
            ~ (type | lower) ~ ", written " ~ written
            ~ ": re-export the file that way)' else " ~ hint ~ " end" -%}
    {%- endif -%}
    case
        when {{ is_blank(column, source_type) }}
            or {{ typed_column(column, type, source_type) }} is not null
            then null
        {%- if is_numeric_target(type) %}
        when {{ try_cast(text, 'double') }} is not null
            then '{{ column }} ' || {{ shown }}
                || ' does not fit {{ type | lower }}'
                {%- if is_money(type) %}
                || ' (too many digits)'
                {%- else %}
                || ' exactly (too many decimals or digits; not rounded)'
                {%- endif %}
        {%- endif %}
        else 'unparseable {{ column }} ' || {{ shown }} || {{ hint }}
    end
    {%- endif -%}
{% endmacro %}


{% macro checked_columns(spec, source_types, required) %}
    {#- The typed (non-text) columns present in the file, required or
        optional ones. -#}
    {%- set columns = [] -%}
    {%- for column, type in spec.columns.items() -%}
        {%- if source_types.get(column) is not none
            and type | lower != 'varchar'
            and (column in spec.required_columns) == required -%}
            {%- do columns.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{% macro parse_errors(spec, source_types) %}
    {#- '; '-separated reasons a row can't be used: a required value missing,
        or unreadable. Null when the row is fine. Optional columns never
        quarantine a row: see field_issues. -#}
    {%- set checks = [] -%}
    {%- for column in spec.required_columns -%}
        {%- do checks.append(
            "case when " ~ is_blank(column, source_types.get(column))
            ~ " then 'missing " ~ column ~ "' end") -%}
    {%- endfor -%}
    {%- for column in checked_columns(spec, source_types, true) -%}
        {%- do checks.append(value_issue(
            column, spec.columns[column], source_types[column])) -%}
    {%- endfor -%}
    {%- if checks -%}
        nullif(concat_ws('; ', {{ checks | join(', ') }}), '')
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{% endmacro %}


{% macro field_issue(column, raw_value, issue) %}
    {#- One data-quality finding on one value: the column, the value as
        written and the issue. Null when there is no issue: the raw value is
        only turned into text for the rare rows that have one. -#}
    case
        when ({{ issue }}) is not null
            then {{ named_struct([
                ('column_name', "'" ~ column ~ "'"),
                ('raw_value',
                    'cast(' ~ raw_value ~ ' as ' ~ dbt.type_string() ~ ')'),
                ('issue', 'cast(' ~ issue ~ ' as ' ~ dbt.type_string() ~ ')'),
            ]) }}
    end
{% endmacro %}


{% macro field_issue_list(issues) %}
    {#- The list of field_issue() structs whose issue is not null. -#}
    {%- if issues -%}
        case
            when coalesce({{ issues | join(', ') }}) is null
                then {{ empty_field_issues() }}
            else {{ list_without_nulls(issues) }}
        end
    {%- else -%}
        {{ empty_field_issues() }}
    {%- endif -%}
{% endmacro %}


{% macro empty_field_issues() %}
    {{ empty_struct_list([
        ('column_name', dbt.type_string()),
        ('raw_value', dbt.type_string()),
        ('issue', dbt.type_string()),
    ]) }}
{% endmacro %}


{% macro field_issues(spec, source_types) %}
    {#- Optional values that could not be read: each becomes null in its
        column and one entry here, and the row is kept. Money rounded to the
        cent, in any column, is listed here too. -#}
    {%- set issues = [] -%}
    {%- for column in checked_columns(spec, source_types, false) -%}
        {%- do issues.append(field_issue(
            column,
            raw_text(column, source_types[column]),
            value_issue(column, spec.columns[column], source_types[column]))) -%}
    {%- endfor -%}
    {%- for column, type in spec.columns.items() -%}
        {%- if source_types.get(column) is not none and is_money(type) -%}
            {%- do issues.append(field_issue(
                column,
                raw_text(column, source_types[column]),
                rounding_issue(column, type, source_types[column]))) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ field_issue_list(issues) }}
{% endmacro %}
