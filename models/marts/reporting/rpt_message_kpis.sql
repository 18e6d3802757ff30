-- One row: how many marketing messages are ready and how many of them a
-- language model wrote or the templates filled in.
with messages as (
    select * from {{ ref('marketing_messages') }}
),

final as (
    select
        cast(count(*) as bigint) as messages,
        cast(count(case when generator <> 'template' then 1 end) as bigint)
            as model_messages,
        cast(count(case when generator = 'template' then 1 end) as bigint)
            as template_messages
    from messages
)

select * from final
