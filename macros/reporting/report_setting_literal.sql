{#- The value of a report-site var (report_currency, report_currency_symbol,
    report_locale) as a SQL string literal, after checking it: a wrong value
    stops the build with a message naming the var, what it must look like and
    where to set it, instead of a site that formats money wrongly. -#}
{% macro report_setting_literal(name) %}
    {%- set value = var(name) -%}
    {%- set rules = {
        'report_currency': ('^[A-Z]{3}$',
            'a 3-letter ISO 4217 code in capitals, such as INR or USD'),
        'report_currency_symbol': ("^[^'\\\\]{1,5}$",
            '1-5 characters without quotes or backslashes, such as ₹ or $'),
        'report_locale': ('^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
            'a BCP 47 locale such as en-IN or en-US'),
    } -%}
    {%- if name not in rules -%}
        {{ exceptions.raise_compiler_error(
            "report_setting_literal: unknown setting " ~ name
            ~ "; one of " ~ (rules.keys() | list | join(', '))) }}
    {%- endif -%}
    {%- set pattern, wanted = rules[name] -%}
    {%- if value is not string or not modules.re.match(pattern, value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be " ~ wanted ~ ", got " ~ (value | string)
            ~ ": fix it in dbt_project.yml (vars) or in --vars") }}
    {%- endif -%}
    '{{ value }}'
{%- endmacro %}
