-- One row per raw table: rows read, kept and quarantined, the share
-- quarantined and its most common reason (quoted raw values folded, so one
-- cause counts once, as in the build summary), and whether the share is above
-- var quarantine_warn_share, so the report site can say when its figures
-- leave out part of a file (quarantine_rank 1: the largest share). Every raw
-- row is either kept (its stg_shop__ model) or quarantined, so rows read =
-- kept + quarantined. Rows dated on or after a chosen as_of_date are out of
-- the build's scope, not defects: they are counted apart
-- (rows_after_as_of_date) and left out of the rest.
{%- set tables = [
    ('customers', 'stg_shop__customers'),
    ('transactions', 'stg_shop__order_lines'),
    ('products', 'stg_shop__products'),
    ('coupons', 'stg_shop__coupons'),
    ('cities', 'stg_shop__cities'),
    ('merchants', 'stg_shop__merchants'),
    ('branches', 'stg_shop__branches'),
    ('events', 'stg_shop__events'),
    ('offers', 'stg_shop__offers'),
    ('campaign_sends', 'stg_shop__campaign_sends'),
    ('campaign_responses', 'stg_shop__campaign_responses'),
] %}

with all_quarantined_rows as (
    select * from {{ ref('stg_shop__quarantined_rows') }}
),

quarantined_rows as (
    select * from all_quarantined_rows
    where quarantine_reason not like '% on or after as_of_date %'
),

after_as_of_date as (
    select
        source_table as table_name,
        count(*) as rows_after_as_of_date
    from all_quarantined_rows
    where quarantine_reason like '% on or after as_of_date %'
    group by source_table
),

kept as (
    {%- for table_name, model in tables %}
        select
            {{ loop.index }} as table_order,
            '{{ table_name }}' as table_name,
            count(*) as rows_kept
        from {{ ref(model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

reasons as (
    select
        source_table as table_name,
        regexp_replace(
            coalesce(quarantine_reason, '(no reason given)'),
            '''[^'']*''',
            '''…''',
            'g'
        ) as reason_pattern,
        min(coalesce(quarantine_reason, '(no reason given)')) as example_reason,
        count(*) as n_rows
    from quarantined_rows
    group by source_table, reason_pattern
),

ranked_reasons as (
    select
        *,
        sum(n_rows) over (partition by table_name) as rows_quarantined,
        row_number() over (
            partition by table_name order by n_rows desc, reason_pattern asc
        ) as reason_rank
    from reasons
),

final as (
    select
        kept.table_order,
        kept.table_name,
        kept.rows_kept
        + coalesce(ranked_reasons.rows_quarantined, 0) as rows_read,
        kept.rows_kept,
        coalesce(ranked_reasons.rows_quarantined, 0) as rows_quarantined,
        coalesce(ranked_reasons.rows_quarantined, 0)
        / nullif(
            kept.rows_kept + coalesce(ranked_reasons.rows_quarantined, 0), 0
        )
            as quarantined_share,
        coalesce(after_as_of_date.rows_after_as_of_date, 0)
            as rows_after_as_of_date,
        ranked_reasons.example_reason as top_reason,
        ranked_reasons.n_rows as top_reason_rows,
        coalesce(
            coalesce(ranked_reasons.rows_quarantined, 0)
            / nullif(
                kept.rows_kept + coalesce(ranked_reasons.rows_quarantined, 0), 0
            )
            > {{ var('quarantine_warn_share') }},
            false
        ) as is_above_warn_share
    from kept
    left join ranked_reasons
        on
            kept.table_name = ranked_reasons.table_name
            and ranked_reasons.reason_rank = 1
    left join after_as_of_date
        on kept.table_name = after_as_of_date.table_name
)

select
    table_name,
    cast(rows_read as bigint) as rows_read,
    cast(rows_kept as bigint) as rows_kept,
    cast(rows_quarantined as bigint) as rows_quarantined,
    cast(quarantined_share as double) as quarantined_share,
    top_reason,
    cast(top_reason_rows as bigint) as top_reason_rows,
    is_above_warn_share,
    cast(rows_after_as_of_date as bigint) as rows_after_as_of_date,
    row_number() over (
        order by coalesce(quarantined_share, 0) desc, table_order asc
    ) as quarantine_rank
from final
order by table_order
