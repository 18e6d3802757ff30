{#- Numbers as text, byte for byte the same on every engine: DuckDB's
    printf('%.<p>g'), printf('%.<d>f') and cast(double as varchar).

    DuckDB rounds the double's exact binary value, ties to even (as C's
    printf does): 0.125 -> '0.12' with %.2f, 2.675 (really 2.67499...)
    -> '2.67', 100.5 -> '100' with %.3g. Spark's format_string() is Java's
    Formatter, which rounds the shortest printed form half up (0.13, 2.68,
    101) and never strips %g's trailing zeros, so the Spark versions below
    round exactly in SQL instead: the double is scaled by an exact power of
    ten and the rounding error of that one multiplication (or division) is
    recovered exactly (Dekker's two-product), which decides every tie.

    Exact on Spark for scaled values below 2^52 and powers of ten up to
    1e22, which covers %.3g of 1e-20 .. 1e24 and %.2f below 4.5e13; outside
    that the Spark versions stop the query with raise_error() naming the
    macro and the value, never a different text. -#}

{% macro format_significant(expression, precision=3) %}
    {#- printf('%.<precision>g'): `precision` significant digits, trailing
        zeros dropped, scientific (1.23e+05) below 1e-4 or from
        10^precision. NULL stays NULL. -#}
    {{ return(adapter.dispatch('format_significant', 'marketing_engine')(
        expression, precision)) }}
{% endmacro %}

{% macro duckdb__format_significant(expression, precision=3) %}
    printf('%.{{ precision }}g', cast({{ expression }} as double))
{% endmacro %}

{% macro spark__format_significant(expression, precision=3) %}
    {%- set p = precision | int -%}
    {%- if p < 1 or p > 15 -%}
        {{ exceptions.raise_compiler_error(
            "format_significant: precision must be 1 to 15, got " ~ precision) }}
    {%- endif -%}
    {%- set low = 10 ** (p - 1) -%}
    {%- set high = 10 ** p -%}
    element_at(transform(array(cast({{ expression }} as double)), fs_x ->
        case
            when fs_x is null then cast(null as string)
            when isnan(fs_x) then 'nan'
            when fs_x = cast('Infinity' as double) then 'inf'
            when fs_x = cast('-Infinity' as double) then '-inf'
            when fs_x = 0 then '0'
            else concat(
                case when fs_x < 0 then '-' else '' end,
                -- the exponent k with `p` digits n = round(|x| / 10^(k-p+1))
                -- in [10^(p-1), 10^p): log10 can be one off near powers of
                -- ten, so try k-1, k, k+1 and keep the smallest that fits
                element_at(transform(array(array_min(filter(
                    transform(
                        sequence(
                            cast(floor(log10(abs(fs_x))) as int) - 1,
                            cast(floor(log10(abs(fs_x))) as int) + 1
                        ),
                        fs_k -> named_struct(
                            'k', fs_k,
                            'n', {{ marketing_engine._spark_round_scaled(
                                'abs(fs_x)', (p - 1) ~ ' - fs_k',
                                'format_significant') }}
                        )
                    ),
                    fs_c -> fs_c.n >= {{ low }} and fs_c.n < {{ high }}
                ))), fs_c ->
                    case
                        when fs_c.k < -4 or fs_c.k >= {{ p }}
                            then concat(
                                {{ marketing_engine._spark_strip_fraction_zeros(
                                    "concat(substr(cast(fs_c.n as string), 1, 1), '.', "
                                    ~ "substr(cast(fs_c.n as string), 2))") }},
                                'e',
                                case when fs_c.k < 0 then '-' else '+' end,
                                {{ marketing_engine._spark_exponent_digits('fs_c.k') }}
                            )
                        when fs_c.k >= 0
                            then {{ marketing_engine._spark_strip_fraction_zeros(
                                "concat(substr(cast(fs_c.n as string), 1, fs_c.k + 1), '.', "
                                ~ "substr(cast(fs_c.n as string), fs_c.k + 2))") }}
                        else {{ marketing_engine._spark_strip_fraction_zeros(
                            "concat('0.', repeat('0', -fs_c.k - 1), cast(fs_c.n as string))") }}
                    end
                ), 1)
            )
        end
    ), 1)
{% endmacro %}


{% macro format_fixed(expression, decimals=2) %}
    {#- printf('%.<decimals>f'): exactly `decimals` digits after the point
        ('-0.00' for a small negative, as DuckDB). NULL stays NULL. -#}
    {{ return(adapter.dispatch('format_fixed', 'marketing_engine')(
        expression, decimals)) }}
{% endmacro %}

{% macro duckdb__format_fixed(expression, decimals=2) %}
    printf('%.{{ decimals }}f', cast({{ expression }} as double))
{% endmacro %}

{% macro spark__format_fixed(expression, decimals=2) %}
    {%- set d = decimals | int -%}
    {%- if d < 0 or d > 15 -%}
        {{ exceptions.raise_compiler_error(
            "format_fixed: decimals must be 0 to 15, got " ~ decimals) }}
    {%- endif -%}
    element_at(transform(array(cast({{ expression }} as double)), ff_x ->
        case
            when ff_x is null then cast(null as string)
            when isnan(ff_x) then 'nan'
            when ff_x = cast('Infinity' as double) then 'inf'
            when ff_x = cast('-Infinity' as double) then '-inf'
            else element_at(transform(
                array(cast({{ marketing_engine._spark_round_scaled(
                    'abs(ff_x)', d, 'format_fixed') }} as string)),
                -- at least d + 1 digits (lpad alone would cut longer ones)
                ff_r -> element_at(transform(
                    array(lpad(ff_r, greatest(length(ff_r), {{ d + 1 }}), '0')),
                ff_n -> concat(
                    case when ff_x < 0 then '-' else '' end,
                    {%- if d == 0 %}
                    ff_n
                    {%- else %}
                    substr(ff_n, 1, length(ff_n) - {{ d }}), '.',
                    substr(ff_n, length(ff_n) - {{ d - 1 }})
                    {%- endif %}
                )
            ), 1)), 1)
        end
    ), 1)
{% endmacro %}


{% macro double_to_text(expression) %}
    {#- cast(double as varchar) as DuckDB prints it: the shortest digits that
        read back as the same double, '1000000.0' style from 1e-4 up to
        1e16, '1.5e-05' / '1e+16' outside (as Python's repr). -#}
    {{ return(adapter.dispatch('double_to_text', 'marketing_engine')(
        expression)) }}
{% endmacro %}

{% macro duckdb__double_to_text(expression) %}
    cast(cast({{ expression }} as double) as varchar)
{% endmacro %}

{% macro spark__double_to_text(expression) %}
    {#- Spark's cast(double as string) is Java's Double.toString: digits that
        read back as the same double (Java 17 prints some with more than
        the fewest needed), laid out as 1.0E7 from 1e7 and as 1.0E-4 below
        1e-3. The digits and exponent are read from it, cut to the fewest
        that read back as the same double, and laid out as DuckDB does. -#}
    element_at(transform(array(cast({{ expression }} as double)), dt_x ->
        case
            when dt_x is null then cast(null as string)
            when isnan(dt_x) then 'nan'
            when dt_x = cast('Infinity' as double) then 'inf'
            when dt_x = cast('-Infinity' as double) then '-inf'
            when dt_x = 0 then '0.0'
            else element_at(transform(
                -- Java's mantissa (without its point) and exponent
                array(named_struct(
                    'mantissa', split_part(upper(cast(abs(dt_x) as string)), 'E', 1),
                    'exponent', coalesce(try_cast(nullif(split_part(
                        upper(cast(abs(dt_x) as string)), 'E', 2), '') as int), 0)
                )),
                dt_j -> element_at(transform(
                    -- significant digits d1 d2 ..., the value 0.d1d2.. x 10^(e+1)
                    array(named_struct(
                        'digits', regexp_replace(
                            regexp_replace(dt_j.mantissa, '[.]', ''), '^0+', ''),
                        'e', dt_j.exponent
                            + length(split_part(dt_j.mantissa, '.', 1)) - 1
                            - (length(regexp_replace(dt_j.mantissa, '[.]', ''))
                                - length(regexp_replace(
                                    regexp_replace(dt_j.mantissa, '[.]', ''),
                                    '^0+', '')))
                    )),
                    -- from 2^53 up a double is a whole number: its exact digits
                    -- (mantissa times 2^k in decimal arithmetic) replace Java's,
                    -- so that of two equally short candidates the nearer wins
                    dt_g -> element_at(transform(array(case
                        when abs(dt_x) >= 9007199254740992.0D and abs(dt_x) < 1.0E38D
                            then element_at(transform(
                                array(cast(aggregate(
                                    array_repeat(2, greatest(
                                        cast(floor(log2(abs(dt_x))) as int) - 53, 0)),
                                    cast(cast(abs(dt_x) / power(2.0D, greatest(
                                        cast(floor(log2(abs(dt_x))) as int) - 53, 0))
                                        as bigint) as decimal(38, 0)),
                                    (dt_acc, dt_two) -> cast(dt_acc * dt_two as decimal(38, 0))
                                ) as string)),
                                dt_w -> named_struct(
                                    'digits', substr(regexp_replace(dt_w, '0+$', ''), 1, 37),
                                    'e', length(dt_w) - 1
                                )
                            ), 1)
                        else dt_g
                    end),
                    -- the fewest digits that read back as the same double
                    -- (the given ones rounded, which are that close to it)
                    dt_l -> element_at(transform(
                        array(element_at(filter(
                            array(
                                {%- for n in range(1, 18) %}
                                cast(round(cast(concat('0.', dt_l.digits)
                                    as decimal(38, 37)), {{ n }}) as string),
                                {%- endfor %}
                                concat('0.', dt_l.digits)
                            ),
                            dt_c -> cast(concat(dt_c, 'E', dt_l.e + 1) as double)
                                = abs(dt_x)
                        ), 1)),
                        -- '1.0..' when 0.99.. rounded up: one more in the exponent
                        dt_c -> {{ marketing_engine._spark_lay_out_double(
                            "case when dt_x < 0 then '-' else '' end",
                            "case when dt_c like '1%' then '1' else coalesce(nullif("
                            ~ "regexp_replace(substr(dt_c, 3), '0+$', ''), ''), '0') end",
                            "(dt_l.e + case when dt_c like '1%' then 1 else 0 end)") }}
                    ), 1)
                ), 1)), 1)
            ), 1)
        end
    ), 1)
{% endmacro %}

{% macro _spark_lay_out_double(sign, digits, e) %}
    {#- DuckDB's layout of a double's shortest digits with exponent e (of the
        first digit): scientific below 1e-4 and from 1e16. -#}
    concat(
        {{ sign }},
        case
            when {{ e }} < -4 or {{ e }} >= 16
                then concat(
                    substr({{ digits }}, 1, 1),
                    case when length({{ digits }}) > 1
                        then concat('.', substr({{ digits }}, 2))
                        else '' end,
                    'e',
                    case when {{ e }} < 0 then '-' else '+' end,
                    {{ marketing_engine._spark_exponent_digits(e) }}
                )
            when {{ e }} < 0
                then concat('0.', repeat('0', -{{ e }} - 1), {{ digits }})
            when length({{ digits }}) <= {{ e }} + 1
                then concat(rpad({{ digits }}, {{ e }} + 1, '0'), '.0')
            else concat(
                substr({{ digits }}, 1, {{ e }} + 1), '.',
                substr({{ digits }}, {{ e }} + 2))
        end
    )
{% endmacro %}



{#- Spark helpers (not dispatched). -#}

{% macro _spark_strip_fraction_zeros(text) %}
    {#- '1.00' -> '1', '10.50' -> '10.5', '100.' -> '100': `text` always
        has a point, so only zeros after it go. -#}
    regexp_replace(regexp_replace({{ text }}, '0+$', ''), '[.]$', '')
{% endmacro %}

{% macro _spark_exponent_digits(exponent) %}
    {#- abs(exponent) with at least two digits, as printf writes it. -#}
    case
        when abs({{ exponent }}) < 10
            then concat('0', cast(abs({{ exponent }}) as string))
        else cast(abs({{ exponent }}) as string)
    end
{% endmacro %}

{% macro _two_product_error(a, b, product) %}
    {#- a * b - product exactly, for product = a * b in double precision
        (Dekker: each factor split into 26-bit halves). -#}
    {%- set hi_a = '((134217729.0D * ' ~ a ~ ') - ((134217729.0D * ' ~ a ~ ') - ' ~ a ~ '))' -%}
    {%- set hi_b = '((134217729.0D * ' ~ b ~ ') - ((134217729.0D * ' ~ b ~ ') - ' ~ b ~ '))' -%}
    {%- set lo_a = '(' ~ a ~ ' - ' ~ hi_a ~ ')' -%}
    {%- set lo_b = '(' ~ b ~ ' - ' ~ hi_b ~ ')' -%}
    ((({{ hi_a }} * {{ hi_b }} - {{ product }}) + {{ hi_a }} * {{ lo_b }}
        + {{ lo_a }} * {{ hi_b }}) + {{ lo_a }} * {{ lo_b }})
{% endmacro %}

{% macro _spark_round_scaled(value, scale, caller_name) %}
    {#- round(value * 10^scale) as a bigint, for value > 0: the exact product
        rounded to the nearest integer, ties to even. `scale` is an integer
        expression (a negative scale divides). -#}
    element_at(transform(
        array(named_struct(
            'scale', cast({{ scale }} as int),
            'ten', cast(concat('1E', abs(cast({{ scale }} as int))) as double)
        )),
        rs_w -> element_at(transform(
            array(case
                when abs(rs_w.scale) > 22
                    or ({{ value }}) * rs_w.ten >= 4503599627370496.0D
                        and rs_w.scale >= 0
                    then named_struct(
                        'q', cast(raise_error(concat(
                            '{{ caller_name }}: ', cast({{ value }} as string),
                            ' is outside the range Spark formats exactly',
                            ' (scaled below 2^52, powers of ten to 1e22)'
                        )) as double),
                        's', 0.0D
                    )
                when rs_w.scale >= 0
                    then named_struct(
                        'q', ({{ value }}) * rs_w.ten,
                        's', sign({{ marketing_engine._two_product_error(
                            '(' ~ value ~ ')', 'rs_w.ten',
                            '((' ~ value ~ ') * rs_w.ten)') }})
                    )
                -- value / ten: the remainder value - q * ten, exactly
                else named_struct(
                    'q', ({{ value }}) / rs_w.ten,
                    's', sign(
                        (({{ value }}) - (({{ value }}) / rs_w.ten) * rs_w.ten)
                        - {{ marketing_engine._two_product_error(
                            '((' ~ value ~ ') / rs_w.ten)', 'rs_w.ten',
                            '(((' ~ value ~ ') / rs_w.ten) * rs_w.ten)') }}
                    )
                )
            end),
            -- q - floor(q) is exact below 2^52 and a multiple of q's ulp, so
            -- the error of q (sign s) decides only an exact half
            rs_z -> cast(floor(rs_z.q) as bigint) + case
                when rs_z.q - floor(rs_z.q) > 0.5D then 1
                when rs_z.q - floor(rs_z.q) < 0.5D then 0
                when rs_z.s > 0 then 1
                when rs_z.s < 0 then 0
                when cast(floor(rs_z.q) as bigint) % 2 = 1 then 1
                else 0
            end
        ), 1)
    ), 1)
{% endmacro %}
