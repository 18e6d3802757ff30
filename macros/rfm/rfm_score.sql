{% macro rfm_score(measure, higher_is_better=true, partition_by=none) %}
    {#- A 1-5 score for `measure`.
        quantile (var rfm_method): the rank quintile; tied values share the
        lowest rank, so equal customers always get equal scores.
        cut_points: var rfm_cut_points[measure], four ascending thresholds;
        a value at a threshold belongs to the lower band. -#}
    {%- if var('rfm_method') == 'cut_points' -%}
        {%- set cuts = var('rfm_cut_points')[measure] -%}
        {%- if cuts | length != 4 -%}
            {{ exceptions.raise_compiler_error(
                "var rfm_cut_points." ~ measure ~ " needs 4 ascending thresholds, got "
                ~ cuts) }}
        {%- endif -%}
        case
        {%- for cut in cuts %}
            when {{ measure }} <= {{ cut }}
                then {{ loop.index if higher_is_better else 6 - loop.index }}
        {%- endfor %}
            else {{ 5 if higher_is_better else 1 }}
        end
    {%- elif var('rfm_method') == 'quantile' -%}
        {%- set partition = 'partition by ' ~ partition_by if partition_by else '' -%}
        {#- In double precision on every engine (Spark would divide the
            decimal 5.0 x rank and round the quotient to 6 places). -#}
        cast(1 + floor(
            cast(5 * (rank() over (
                {{ partition }}
                order by {{ measure }} {{ 'asc' if higher_is_better else 'desc' }}
            ) - 1) as double)
            / count(*) over ({{ partition }})
        ) as integer)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var rfm_method must be 'quantile' or 'cut_points', got '"
            ~ var('rfm_method') ~ "'") }}
    {%- endif -%}
{% endmacro %}
