-- Warns when more than var message_fallback_warn_share of the messages are
-- template fallbacks (Ollama down, model missing, or answers kept failing
-- validation). The build still passes; validation_reasons says why.
{{ config(severity='warn') }}

with messages as (
    select * from {{ ref('marketing_messages') }}
),

shares as (
    select
        count(*) as messages,
        count(case when generator = 'template' then 1 end) as fallbacks
    from messages
)

select
    messages,
    fallbacks,
    1.0 * fallbacks / messages as fallback_share
from shares
where
    messages > 0
    and 1.0 * fallbacks / messages > {{ var('message_fallback_warn_share') }}
