{#- The score half of the clustering fit/score split: every customer
    standardized with the fitted scaler and assigned to the nearest fitted
    centre (KMeans) or Ward centroid, in SQL, so it runs where the data lives.
    Ties go to the first centre (centre_position), as numpy's argmin breaks
    them; customers Ward labelled itself (its sample) keep that label. The
    label is the fit's own (fitted_label); cluster_assignments numbers the
    clusters canonically and keeps the previous build's ids. The sum
    of squares is written left to right, the order numpy adds fewer than 8
    features in (the default is 5; from 8 numpy's order differs), so on
    DuckDB the labels equal the Python fit's
    (tests/integration/test_clustering_scoring_in_sql.py). DuckDB has no
    log1p: ln(1 + x) can differ from numpy's log1p in the last bit, which moves
    a customer only if its two nearest centres are equally far to about 1e-15
    (relative); at 194,066 generated customers the closest call was 6e-7
    (Ward) and 2e-5 (KMeans). DBSCAN is scored in cluster_assignments with a
    KD-tree (fit_table in src/marketing_engine/clustering.py says why). -#}
{%- set features = config.get('clustering')['features'] -%}
-- One row per clustered customer and algorithm scored in SQL (kmeans,
-- hierarchical): the fitted label of the nearest centre, and the fit it came
-- from (fit_id), before the numbering cluster_assignments applies.
with customer_features as (
    select * from {{ ref('int_customer_features') }}
),

fit as (
    select * from {{ ref('cluster_fit') }}
),

fit_identity as (
    select max(fit_id) as fit_id from fit
),

scaler as (
    select
        {%- for feature in features %}
            max(case when feature = '{{ feature }}' and parameter = 'median'
                    then value
            end) as median_{{ loop.index0 }},
            max(case when feature = '{{ feature }}' and parameter = 'mean'
                    then value
            end) as mean_{{ loop.index0 }},
            max(case when feature = '{{ feature }}' and parameter = 'std'
                    then value
            end) as std_{{ loop.index0 }},
            max(case when feature = '{{ feature }}' and is_log_transformed
                    then 1
                else 0
            end) = 1 as is_log_{{ loop.index0 }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from fit
    where algorithm = 'scaler'
),

centres as (
    select
        algorithm,
        centre_position,
        fitted_label,
        {%- for feature in features %}
            max(case when feature = '{{ feature }}' then value end)
                as centre_{{ loop.index0 }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from fit
    where parameter = 'centre' and algorithm in ('kmeans', 'hierarchical')
    group by algorithm, centre_position, fitted_label
),

members as (
    select
        algorithm,
        customer_id,
        fitted_label
    from fit
    where parameter = 'member' and algorithm in ('kmeans', 'hierarchical')
),

as_double as (
    select
        customer_id,
        {%- for feature in features %}
            cast({{ feature }} as double) as raw_{{ loop.index0 }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from customer_features
),

transformed as (
    select
        as_double.customer_id,
        {%- for feature in features %}
            case
                when not scaler.is_log_{{ loop.index0 }}
                    then as_double.raw_{{ loop.index0 }}
                when as_double.raw_{{ loop.index0 }} < 0 then 0.0
                else ln(1 + as_double.raw_{{ loop.index0 }})
            end as value_{{ loop.index0 }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from as_double
    cross join scaler
),

standardized as (
    select
        transformed.customer_id,
        {%- for feature in features %}
            (
                coalesce(
                    transformed.value_{{ loop.index0 }},
                    scaler.median_{{ loop.index0 }},
                    0.0
                )
                - scaler.mean_{{ loop.index0 }}
            ) / scaler.std_{{ loop.index0 }} as z_{{ loop.index0 }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from transformed
    cross join scaler
),

distances as (
    select
        standardized.customer_id,
        centres.algorithm,
        centres.centre_position,
        centres.fitted_label,
        {%- for feature in features %}
            {% if not loop.first %}+ {% endif -%}
            (
                standardized.z_{{ loop.index0 }}
                - centres.centre_{{ loop.index0 }}
            )
            * (
                standardized.z_{{ loop.index0 }}
                - centres.centre_{{ loop.index0 }}
            )
        {%- endfor %}
            as squared_distance
    from standardized
    cross join centres
),

ranked as (
    select
        customer_id,
        algorithm,
        fitted_label,
        row_number() over (
            partition by customer_id, algorithm
            order by squared_distance asc, centre_position asc
        ) as nearness_rank
    from distances
),

final as (
    select
        ranked.customer_id,
        ranked.algorithm,
        coalesce(members.fitted_label, ranked.fitted_label) as fitted_label,
        members.fitted_label is not null as is_fit_member,
        fit_identity.fit_id
    from ranked
    cross join fit_identity
    left join members
        on
            ranked.customer_id = members.customer_id
            and ranked.algorithm = members.algorithm
    where ranked.nearness_rank = 1
)

select * from final
