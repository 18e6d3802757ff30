-- Every personalized SMS fits one message as the network counts it (GSM-7:
-- 160 septets, extension characters such as [ ] { } ^ ~ | \ and the euro sign
-- count two; otherwise UCS-2: 70 UTF-16 units), ends with the opt-out footer
-- from the messaging config exactly once, and keeps no placeholder.
{{ config(
    meta={'explain': '{failures} personalized SMS do not fit one SMS (GSM-7'
        ~ ' septets or UCS-2 units), lack the opt-out footer of the messaging'
        ~ ' config or repeat it, or keep an unfilled placeholder. Fix: shorten'
        ~ ' the offer code, category or sender_name, or check the first_name'
        ~ ' values in the customers file.'}
) }}
{%- set footer_sql = messaging_opt_out_footer() %}

with customer_messages as (
    select * from {{ ref('customer_messages') }}
),

measured as (
    select
        customer_id,
        personalized_text,
        regexp_full_match(
            personalized_text,
            '[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&''()*+,\-./'
            || '0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà\^{}\\\[~\]|€\f]*'
        ) as is_gsm7,
        length(personalized_text) + length(regexp_replace(
            personalized_text, '[^\^{}\\\[~\]|€\f]', '', 'g'
        )) as gsm7_septets,
        length(personalized_text) + length(regexp_replace(
            personalized_text, '[^\x{10000}-\x{10FFFF}]', '', 'g'
        )) as ucs2_units,
        len(string_split(
            lower(personalized_text), lower({{ footer_sql }})
        )) - 1 as footer_count
    from customer_messages
)

select *
from measured
where
    (is_gsm7 and gsm7_septets > 160)
    or (not is_gsm7 and ucs2_units > 70)
    or not ends_with(personalized_text, {{ footer_sql }})
    or footer_count <> 1
    or contains(personalized_text, chr(123))
    or contains(personalized_text, chr(125))
