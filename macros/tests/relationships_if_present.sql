{% test relationships_if_present(model, column_name, to, field) %}
    {#- Like relationships, for a parent from an optional raw table: when the
        parent table is empty (the user supplied no such file) there is
        nothing to resolve against and the test passes. -#}
    with parent as (
        select {{ field }} as parent_key from {{ to }}
    ),

    orphans as (
        select child.{{ column_name }}
        from {{ model }} as child
        left join parent
            on child.{{ column_name }} = parent.parent_key
        where
            child.{{ column_name }} is not null
            and parent.parent_key is null
    )

    select * from orphans
    where exists (select 1 from parent)
{% endtest %}
