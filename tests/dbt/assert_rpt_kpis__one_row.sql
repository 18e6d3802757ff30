-- Every one-row reporting mart has exactly one row, also when optional data
-- is absent: the pages read row 0 of each.
with counts as (
    select
        'rpt_customer_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_customer_kpis') }}
    union all
    select
        'rpt_segment_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_segment_kpis') }}
    union all
    select
        'rpt_sales_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_sales_kpis') }}
    union all
    select
        'rpt_coupon_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_coupon_kpis') }}
    union all
    select
        'rpt_demographic_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_demographic_kpis') }}
    union all
    select
        'rpt_campaign_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_campaign_kpis') }}
    union all
    select
        'rpt_cluster_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_cluster_kpis') }}
    union all
    select
        'rpt_message_kpis' as model_name,
        count(*) as row_count
    from {{ ref('rpt_message_kpis') }}
)

select * from counts
where row_count <> 1
