-- Lists the sale lines whose unit_price or line amount is implausible for
-- this data (rule in fct_data_quality_issues). Warn only: the lines stay in
-- every mart; check them in the raw file (a misplaced decimal point, cents
-- written as units, a test order) and fix or remove them there.
{{ config(severity='warn') }}

select
    row_key as line_id,
    column_name,
    raw_value,
    issue
from {{ ref('fct_data_quality_issues') }}
where issue like 'implausible %'
