-- Every personalized SMS fits one GSM-7 message (160 characters) and keeps
-- the opt-out footer.
{{ config(
    meta={'explain': '{failures} personalized SMS are longer than 160'
        ~ ' characters, lack the opt-out footer or keep an unfilled first_name'
        ~ ' placeholder. Fix: shorten the message templates or offers in the'
        ~ ' messaging config, or check the first_name values in the customers'
        ~ ' file.'}
) }}
with customer_messages as (
    select * from {{ ref('customer_messages') }}
)

select *
from customer_messages
where
    length(personalized_text) > 160
    or personalized_text not like '%Reply STOP to opt out'
    or personalized_text like '%{first_name}%'
