{#- Lint-only stand-ins for the project's macros: sqlfluff renders models with
    plain Jinja, so each macro returns SQL of the same shape. -#}
{% macro raw_table(name) %}select 'key' as customer_id, null as parse_errors, 'key' as row_key{% endmacro %}
{% macro future_cutoff() %}current_timestamp{% endmacro %}
{% macro rfm_score(measure, higher_is_better=true, partition_by=none) %}ntile(5) over (order by {{ measure }}){% endmacro %}
{% macro age_band(age_years) %}case when {{ age_years }} < 25 then '18-24' end{% endmacro %}
{% macro try_cast(text, type) %}try_cast({{ text }} as {{ type }}){% endmacro %}
{% macro clv_summary(purchase_days, observation_end) %}select customer_id, count(*) as x from {{ purchase_days }} group by customer_id{% endmacro %}
{% macro sql_string_list(values) %}'a'{% endmacro %}
{% macro future_reason(column) %}'future'{% endmacro %}
{% macro quarantined_parents(model, key) %}select {{ key }}, 'reason' as parent_reason from {{ ref(model) }}{% endmacro %}
{% macro unknown_parent_reason(label, key, value, parent_reason) %}coalesce({{ parent_reason }}, 'unknown'){% endmacro %}
{% macro field_issue(column, raw_value, issue) %}'{{ column }}'{% endmacro %}
{% macro field_issue_list(issues) %}list_value({{ issues | join(', ') }}){% endmacro %}
{% macro assert_usable_transactions() %}{% endmacro %}
{% macro messaging_opt_out_footer() %}'Reply STOP to opt out'{% endmacro %}
{% macro report_setting_literal(name) %}'x'{% endmacro %}
