{#- The opt-out footer of the messaging config (set on customer_messages in
    dbt_project.yml) as a SQL string literal, so tests read the one setting. -#}
{% macro messaging_opt_out_footer() %}
    {%- set config_of = namespace(footer='Reply STOP to opt out') -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.name == 'customer_messages' -%}
                {%- set config_of.footer = node.config.messaging.opt_out_footer -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    '{{ config_of.footer | replace("'", "''") }}'
{%- endmacro %}
