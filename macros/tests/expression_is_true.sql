{% test expression_is_true(model, expression) %}
    {#- Every row satisfies the SQL boolean `expression`. -#}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
