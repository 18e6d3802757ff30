{% macro median_from_counts(relation, partition_by, value, weight, alias) %}
    {#- One row per `partition_by` with n_lines (the sum of `weight`) and
        `alias`, the exact median of `value` where each row of `relation`
        stands for `weight` equal values: the mean of the middle value(s),
        as median() over the expanded rows would give. From a histogram
        (distinct values and their counts) this is a few thousand rows, not
        a sort of every line; plain window sums, so it runs on every engine. -#}
    select
        {{ partition_by }},
        n_lines,
        (
            min(
                case
                    when running_n >= floor((n_lines - 1) / 2) + 1
                        then {{ value }}
                end
            )
            + min(
                case when running_n >= floor(n_lines / 2) + 1 then {{ value }} end
            )
        ) / 2 as {{ alias }}
    from (
        select
            {{ partition_by }},
            {{ value }},
            sum({{ weight }}) over (
                partition by {{ partition_by }}
                order by {{ value }}
                rows between unbounded preceding and current row
            ) as running_n,
            sum({{ weight }}) over (partition by {{ partition_by }}) as n_lines
        from {{ relation }}
    ) as cumulative
    group by {{ partition_by }}, n_lines
{% endmacro %}
