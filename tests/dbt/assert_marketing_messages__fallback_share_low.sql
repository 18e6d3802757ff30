-- Warns when more than var message_fallback_warn_share of the messages are
-- template fallbacks (Ollama down, model missing, or answers kept failing
-- validation). The build still passes; validation_reasons says why.
{{ config(
    severity='warn',
    meta={'explain': 'more than var message_fallback_warn_share of the'
        ~ ' messages are template fallbacks, not written by Ollama. Fix: start'
        ~ ' Ollama (`ollama serve`, OLLAMA_HOST) and pull the configured model,'
        ~ ' then rebuild; validation_reasons in marketing_messages says why each'
        ~ ' message fell back.'}
) }}

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
