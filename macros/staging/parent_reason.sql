{% macro quarantined_parents(model, key) %}
    {#- One row per `key` of `model` that has no usable row, with the reason
        its rows were quarantined (the first reason, alphabetically). -#}
    select
        {{ key }},
        min(quarantine_reason) as parent_reason
    from {{ ref(model) }}
    where {{ key }} is not null
    group by {{ key }}
    having count(case when quarantine_reason is null then 1 end) = 0
{% endmacro %}


{% macro unknown_parent_reason(label, key, value, parent_reason) %}
    {#- Why a row's parent key does not resolve: the parent was quarantined
        ("customer CUS1 quarantined: duplicate ...") or never existed
        ("unknown customer_id"). -#}
    coalesce(
        '{{ label }} ' || {{ value }} || ' quarantined: ' || {{ parent_reason }},
        'unknown {{ key }}'
    )
{% endmacro %}
