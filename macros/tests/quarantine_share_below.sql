{% test quarantine_share_below(model, source_table, total_model, threshold) %}
    {#- Fails when more than `threshold` of the rows read from `source_table`
        were quarantined. Rows dated on or after a chosen as_of_date are out of
        the build's scope, not defects: they count on neither side. -#}
    with quarantined as (
        select count(*) as n_quarantined
        from {{ model }}
        where
            source_table = '{{ source_table }}'
            and quarantine_reason not like '% on or after as_of_date %'
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
