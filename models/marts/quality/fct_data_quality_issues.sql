-- One row per raw table x row key x column with a data-quality finding on a
-- row that was KEPT: an optional value that could not be read (now null),
-- or an implausible price. Rows that could not be used at all are in
-- stg_shop__quarantined_rows.
--
-- Implausible: a sale line whose unit_price, or line amount (quantity x
-- unit_price), lies far outside the data's own distribution on a log10
-- scale: more than var implausible_mad_multiplier x 1.4826 x MAD (a robust
-- standard deviation) from the median of all sale lines, and never within
-- a factor of 10 of the median. A log scale because prices are skewed; the
-- median and MAD because one 1e12 price cannot move them. With fewer than
-- 20 sale lines the MAD is no guide: a line is then implausible when it is
-- more than 1000x from the median. Flagged lines stay in every mart (see the
-- warn-level test).
with field_issues as (
    select * from {{ ref('stg_shop__data_quality_issues') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

measured as (
    select
        line_id,
        unit_price,
        abs(quantity * unit_price) as line_amount
    from order_lines
    where not is_return and unit_price > 0 and quantity <> 0
),

values_by_measure as (
    select
        line_id,
        'unit_price' as column_name,
        cast(unit_price as double) as measure_value
    from measured
    union all
    select
        line_id,
        'line_amount' as column_name,
        cast(line_amount as double) as measure_value
    from measured
),

logged as (
    select
        *,
        log10(measure_value) as log_value
    from values_by_measure
),

-- The medians are exact, computed from each measure's distinct values and
-- their counts: prices repeat, so this is a few thousand rows, not a sort
-- of every line.
histogram as (
    select
        column_name,
        log10(measure_value) as log_value,
        count(*) as n_values
    from values_by_measure
    group by column_name, measure_value
),

medians as (
    {{ median_from_counts(
        'histogram', 'column_name', 'log_value', 'n_values', 'median_log') }}
),

deviations as (
    select
        histogram.column_name,
        abs(histogram.log_value - medians.median_log) as deviation,
        sum(histogram.n_values) as n_values
    from histogram
    inner join medians
        on histogram.column_name = medians.column_name
    group by histogram.column_name, deviation
),

-- The median absolute deviation (of the logs) per measure.
spreads as (
    {{ median_from_counts(
        'deviations', 'column_name', 'deviation', 'n_values', 'mad_log') }}
),

implausible as (
    select
        'transactions' as table_name,
        logged.line_id as row_key,
        logged.column_name,
        {{ double_to_text('logged.measure_value') }} as raw_value,
        'implausible ' || logged.column_name || ': '
        || {{ format_significant(
            'power(10, logged.log_value - medians.median_log)', 3) }}
        || ' x the median of '
        || {{ format_fixed('power(10, medians.median_log)', 2) }}
        || case
            when medians.n_lines >= 20
                then ' (beyond {{ var("implausible_mad_multiplier") }}'
                    || ' robust SDs on a log scale)'
            else ' (over 1000x off the median of fewer than 20 lines)'
        end
        || '; row kept' as issue
    from logged
    inner join medians
        on logged.column_name = medians.column_name
    inner join spreads
        on logged.column_name = spreads.column_name
    where
        abs(logged.log_value - medians.median_log) > case
            when medians.n_lines >= 20
                then greatest(
                        {{ var('implausible_mad_multiplier') }}
                        * 1.4826 * spreads.mad_log,
                        1
                    )
            -- too few lines for a spread: only 1000x off the median
            else 3
        end
),

final as (
    select
        table_name,
        row_key,
        column_name,
        raw_value,
        issue
    from field_issues
    union all
    select
        table_name,
        row_key,
        column_name,
        raw_value,
        issue
    from implausible
)

select * from final
