{% test quarantine_share_below(model, source_table, total_model, threshold) %}
    {#- Fails (use severity warn) when more than `threshold` of the rows read
        from `source_table` were quarantined. -#}
    with quarantined as (
        select count(*) as n_quarantined
        from {{ model }}
        where source_table = '{{ source_table }}'
    ),

    kept as (
        select count(*) as n_kept
        from {{ total_model }}
    )

    select
        n_quarantined,
        n_kept,
        1.0 * n_quarantined / nullif(n_quarantined + n_kept, 0) as quarantined_share
    from quarantined
    cross join kept
    where 1.0 * n_quarantined / nullif(n_quarantined + n_kept, 0) > {{ threshold }}
{% endtest %}
