{% macro assert_usable_transactions() %}
    {#- Stops the build with one actionable sentence when no transaction row
        is usable (a header-only file, or every row quarantined, e.g. every
        date unparseable): naming the file, the columns at fault and the fix,
        rather than a failing test far downstream. Runs when the model that
        calls it is built, after base_shop__order_lines exists. -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set base = ref('base_shop__order_lines') -%}
    {#- Compiling without a build (sqlfluff's dbt templater, `dbt compile` on a
        fresh file): nothing to check yet. -#}
    {%- if adapter.get_relation(base.database, base.schema, base.identifier)
        is none -%}{{ return('') }}{%- endif -%}
    {%- set counts = run_query(
        "select count(*), count(case when quarantine_reason is null then 1 end) "
        ~ "from " ~ base) -%}
    {%- set total = counts.rows[0][0] -%}
    {%- set usable = counts.rows[0][1] -%}
    {%- if usable > 0 -%}{{ return('') }}{%- endif -%}
    {%- set raw_dir = var('raw_data_dir', none) -%}
    {%- if raw_dir is none -%}
        {%- set file = 'the embedded sample (seeds/sample/raw_transactions.csv)' -%}
    {%- else -%}
        {%- set found = locate_raw_file(raw_dir, 'transactions') -%}
        {%- set file = found.path if found is not none
            else raw_dir ~ '/transactions' -%}
    {%- endif -%}
    {%- set spec = var('raw_tables')['transactions'] -%}
    {%- if total == 0 -%}
        {{ exceptions.raise_compiler_error(
            "No usable transactions: " ~ file ~ " has a header but no data rows. "
            ~ "Add one row per order line with at least "
            ~ (spec.required_columns | join(', '))
            ~ " filled in, then rebuild.") }}
    {%- endif -%}
    {%- set reasons = run_query(
        "select quarantine_reason, count(*) as n_rows from " ~ base
        ~ " group by quarantine_reason order by n_rows desc, quarantine_reason"
        ~ " limit 3") -%}
    {%- set shown = [] -%}
    {%- for row in reasons.rows -%}
        {%- do shown.append(row[1] ~ " x " ~ row[0]) -%}
    {%- endfor -%}
    {%- set after_as_of = run_query(
        "select count(*) from " ~ base ~ " where quarantine_reason like "
        ~ "'% on or after as_of_date %'") -%}
    {%- if after_as_of.rows[0][0] == total -%}
        {{ exceptions.raise_compiler_error(
            "No usable transactions: all " ~ total ~ " rows of " ~ file
            ~ " are dated on or after var as_of_date " ~ var('as_of_date')
            ~ ", which leaves them out of the build. Give a later as_of_date "
            ~ "(or none: the day after the last order), then rebuild.") }}
    {%- endif -%}
    {#- The defaults plus day-first dates, as a --vars the user can paste. -#}
    {%- set suggested = var('date_formats')
        + ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y'] -%}
    {{ exceptions.raise_compiler_error(
        "No usable transactions: all " ~ total ~ " rows of " ~ file
        ~ " were rejected (most common: " ~ (shown | join('; '))
        ~ "). Fix the named column(s) in the file (numbers with . as the "
        ~ "decimal point and no thousands separators; dates in one of var "
        ~ "date_formats: " ~ (var('date_formats') | join(', '))
        ~ "), or, for dates written another way, list every format the file "
        ~ "uses, e.g. day-first: marketing-engine build --vars "
        ~ "'{date_formats: " ~ tojson(suggested) ~ "}'"
        ~ "; then rebuild. Every rejected row is listed in "
        ~ "staging.stg_shop__quarantined_rows.") }}
{% endmacro %}
