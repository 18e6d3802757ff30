{% test expression_is_true(model, expression, column_name=none) %}
    {#- Every row satisfies the SQL boolean `expression` (on a column or the
        whole model). -#}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
