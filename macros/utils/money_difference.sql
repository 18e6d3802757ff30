{% macro money_difference(minuend, subtrahend) %}
    {#- cast(minuend - subtrahend as decimal(18, 2)), exactly, but fast.
        Two decimals of 18 digits subtract into a 19-digit decimal, which
        DuckDB computes in 128-bit arithmetic: on the order lines that one
        expression took 20-30x the time of the rest of the line. Below 10^12
        both fit decimal(17, 5), whose difference fits 64 bits; the rare
        larger value takes the 128-bit path. Same digits, same rounding
        (half away from zero) either way. -#}
    case
        when abs({{ minuend }}) < 1000000000000
            and abs({{ subtrahend }}) < 1000000000000
            then cast(
                cast({{ minuend }} as decimal(17, 5))
                - cast({{ subtrahend }} as decimal(17, 5))
                as decimal(18, 2)
            )
        else cast({{ minuend }} - {{ subtrahend }} as decimal(18, 2))
    end
{% endmacro %}
