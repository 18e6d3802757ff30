-- Every personalized SMS fits one GSM-7 message (160 characters) and keeps
-- the opt-out footer.
with customer_messages as (
    select * from {{ ref('customer_messages') }}
)

select *
from customer_messages
where
    length(personalized_text) > 160
    or personalized_text not like '%Reply STOP to opt out'
    or personalized_text like '%{first_name}%'
