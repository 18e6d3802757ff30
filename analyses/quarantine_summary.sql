-- Data quality audit: how many rows each raw table lost, and why.
with quarantined as (
    select * from {{ ref('stg_shop__quarantined_rows') }}
),

final as (
    select
        source_table,
        quarantine_reason,
        count(*) as n_rows,
        min(row_key) as example_key
    from quarantined
    group by source_table, quarantine_reason
    order by source_table, n_rows desc
)

select * from final
