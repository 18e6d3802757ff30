{% macro is_daily_run() %}
    {#- True on a daily run (`marketing-engine build --daily`, dbt var
        daily_run): the order-line models append the new day instead of
        being rebuilt. -#}
    {{ return(var('daily_run', false) in (true, 'true', 'True', 1, '1')) }}
{% endmacro %}


{% macro daily_full_refresh() %}
    {#- The `full_refresh` config of the daily (incremental) models: always
        rebuilt in full except on a daily run, where dbt's own --full-refresh
        flag still applies. A plain `marketing-engine build` therefore keeps
        its full-build meaning. -#}
    {{ return(none if is_daily_run() else true) }}
{% endmacro %}


{% macro daily_materialization() %}
    {#- The materialization of the daily (incremental) models. On Spark they
        are tables, rebuilt in full on every build, a daily run included: its
        delete of the re-read day and delete+insert by order_id need a table
        format with row-level deletes (Delta, Iceberg), and this project's
        Spark tables are plain Parquet (dbt-spark offers only append and
        insert_overwrite there). A daily run on Spark says so and builds in
        full: the same tables, only not faster. -#}
    {{ return(adapter.dispatch('daily_materialization', 'marketing_engine')()) }}
{% endmacro %}

{% macro default__daily_materialization() %}
    {{ return('incremental') }}
{% endmacro %}

{% macro spark__daily_materialization() %}
    {%- if execute and is_daily_run() and model is defined and model
        and model.name == 'base_shop__order_lines' -%}
        {{ log("Daily run on Spark: base_shop__order_lines and "
            ~ "int_order_lines_aggregated_to_orders are rebuilt in full "
            ~ "(appending a day needs row-level deletes, which Parquet tables "
            ~ "on Spark lack); the result is the same as a full build.",
            info=true) }}
    {%- endif -%}
    {{ return('table') }}
{% endmacro %}


{% macro lines_loaded_until(relation) %}
    {#- The daily run's watermark: the latest ordered_at already loaded into
        `relation` (base_shop__order_lines) that is not in the future. Raw
        rows dated after it are the new day; rows at or before it are the
        loaded history. -#}
    (
        select
            coalesce(
                max(ordered_at),
                cast('0001-01-01' as {{ dbt.type_timestamp() }})
            )
        from {{ relation }}
        where ordered_at < {{ future_cutoff() }}
    )
{% endmacro %}


{% macro is_future_reason(column) %}
    {#- True when `column` (a quarantine_reason) is future_reason('ordered_at'),
        under any as_of_date. -#}
    ({{ column }} = 'future ordered_at'
        or {{ column }} like 'ordered_at on or after as_of_date %')
{% endmacro %}


{% macro assert_history_unchanged(relation) %}
    {#- A daily run appends the rows dated after lines_loaded_until(); it is
        only right when everything at or before that time is what the last
        build loaded. Stops with one sentence naming the cause and the fix
        (a full build) when it is not:
        - the raw file holds a different number of rows dated at or before
          the watermark, or undated (a late-arriving, undated or removed row);
        - a loaded row was quarantined as future but is no longer;
        - a loaded row was quarantined for an unknown customer or product
          that the customers or products file now has.
        The message starts "Full build needed": the CLI's --daily reruns a
        full build on it and says so. -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set watermark = lines_loaded_until(relation) -%}
    {%- set checks = run_query(
        "with watermark as (select " ~ watermark ~ " as loaded_until), "
        ~ "raw_rows as (select count(*) as n from (" ~ raw_table('transactions')
        ~ ") as raw_lines cross join watermark "
        ~ "where not (ordered_at > loaded_until) or ordered_at is null), "
        ~ "loaded as (select count(*) as n, "
        ~ "count(case when " ~ is_future_reason('quarantine_reason') ~ " then 1 end)"
        ~ " as n_future from " ~ relation ~ " cross join watermark "
        ~ "where not (ordered_at > loaded_until) or ordered_at is null), "
        ~ "resolved as (select count(*) as n from " ~ relation ~ " as loaded_lines "
        ~ "where (quarantine_reason like 'customer % quarantined: %' "
        ~ "or quarantine_reason = 'unknown customer_id') "
        ~ "and customer_id in (select customer_id from "
        ~ ref('stg_shop__customers') ~ ") "
        ~ "or (quarantine_reason like 'product % quarantined: %' "
        ~ "or quarantine_reason = 'unknown product_id') "
        ~ "and product_id in (select product_id from "
        ~ ref('stg_shop__products') ~ ")) "
        ~ "select raw_rows.n, loaded.n, loaded.n_future, resolved.n, "
        ~ "cast((select loaded_until from watermark) as varchar) "
        ~ "from raw_rows cross join loaded cross join resolved") -%}
    {%- set row = checks.rows[0] -%}
    {%- set fix = " A daily run (--daily) only appends rows dated after the last "
        ~ "loaded order time; run a full build: `marketing-engine build` "
        ~ "without --daily." -%}
    {%- if row[0] != row[1] -%}
        {{ exceptions.raise_compiler_error(
            "Full build needed: the raw transactions hold " ~ row[0]
            ~ " rows dated on or before the last loaded order time " ~ row[4]
            ~ " (or undated), but the warehouse loaded " ~ row[1]
            ~ ": rows were added before that time, left undated, or removed."
            ~ fix) }}
    {%- endif -%}
    {%- if row[2] > 0 -%}
        {{ exceptions.raise_compiler_error(
            "Full build needed: " ~ row[2] ~ " loaded transaction rows were "
            ~ "quarantined as future but are dated on or before " ~ row[4]
            ~ " now." ~ fix) }}
    {%- endif -%}
    {%- if row[3] > 0 -%}
        {{ exceptions.raise_compiler_error(
            "Full build needed: " ~ row[3] ~ " loaded transaction rows were "
            ~ "quarantined for an unknown customer or product that the raw "
            ~ "files now have." ~ fix) }}
    {%- endif -%}
{% endmacro %}
