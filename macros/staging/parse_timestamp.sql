{% macro parse_timestamp(text) %}
    {{ return(adapter.dispatch('parse_timestamp', 'marketing_engine')(text)) }}
{% endmacro %}

{% macro default__parse_timestamp(text) %}
    {{ try_cast(text, dbt.type_timestamp()) }}
{% endmacro %}

{% macro duckdb__parse_timestamp(text) %}
    {#- DuckDB can try several explicit formats at once: users' files mix
        "2025-03-01", "2025-03-01 10:00:00" and ISO "T" timestamps, and an
        ambiguous "03/04/2025" must not be guessed.
        A compact format with no separators ("%Y%m%d", CDNOW's 19970101) is
        tried only on text of exactly its width in digits: strptime would
        otherwise read "2025031" as 2025-03-01. An 8-digit day-first or
        month-first date of 1900-2099 ("01022025") never passes as
        YYYYMMDD: its month would be 19 or 20. -#}
    {%- set separated = [] -%}
    {%- set compact = [] -%}
    {%- for format in var('date_formats') -%}
        {%- set stripped = format | replace('%Y', '') | replace('%m', '')
            | replace('%d', '') | replace('%H', '') | replace('%M', '')
            | replace('%S', '') -%}
        {%- if stripped == '' -%}
            {%- do compact.append(format) -%}
        {%- else -%}
            {%- do separated.append(format) -%}
        {%- endif -%}
    {%- endfor -%}
    coalesce(
        {%- if separated %}
        try_strptime({{ text }}, [
            {%- for format in separated -%}
                '{{ format }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        ]),
        {%- endif %}
        {%- for format in compact %}
        {%- set width = (format | length) // 2 * 2 + (2 if '%Y' in format else 0) %}
        case
            when regexp_full_match({{ text }}, '[0-9]{{ '{' ~ width ~ '}' }}')
                then try_strptime({{ text }}, '{{ format }}')
        end,
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }})
    )
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

{% macro spark__try_cast(text, type) %}
    {#- Spark's try_cast gives null on unreadable input, like DuckDB's. -#}
    try_cast({{ text }} as {{ sql_type(type) }})
{% endmacro %}

{% macro spark__parse_timestamp(text) %}
    {#- The formats of var date_formats, tried in order, with Spark's
        try_to_timestamp (the strptime codes translated to Java patterns).
        As on DuckDB, a compact format with no separators is only tried on
        text of exactly its width in digits. -#}
    {%- set codes = {'%Y': 'yyyy', '%m': 'MM', '%d': 'dd', '%H': 'HH',
        '%M': 'mm', '%S': 'ss'} -%}
    coalesce(
        {%- for format in var('date_formats') %}
        {%- set stripped = format | replace('%Y', '') | replace('%m', '')
            | replace('%d', '') | replace('%H', '') | replace('%M', '')
            | replace('%S', '') -%}
        {#- Letters other than the codes are quoted as literals ('T'). -#}
        {%- set ns = namespace(pattern=format | replace('T', "\\'T\\'")) -%}
        {%- for code, java in codes.items() -%}
            {%- set ns.pattern = ns.pattern | replace(code, java) -%}
        {%- endfor -%}
        {%- if stripped == '' %}
        {%- set width = (format | length) // 2 * 2 + (2 if '%Y' in format else 0) %}
        case
            when {{ text }} rlike '^[0-9]{{ '{' ~ width ~ '}' }}$'
                then try_to_timestamp({{ text }}, '{{ ns.pattern }}')
        end,
        {%- else %}
        try_to_timestamp({{ text }}, '{{ ns.pattern }}'),
        {%- endif %}
        {%- endfor %}
        cast(null as timestamp)
    )
{% endmacro %}
