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

    The exact rounding needs the scaled value below 2^52 and a power of ten
    up to 1e22: %.3g of values whose decimal exponent is -19 .. 23 (about
    1e-19 .. 1e24), %.2f below 2^51 / 100 (about 2.25e13). Beyond, no value
    stops the query (these format user data: one absurd value in a defective
    file must not fail the build):
    - format_fixed splits the value into its whole part and its fraction
      (each exact, and the fraction rounded exactly) below 2^53, and prints
      the exact digits of a whole-number double from 2^53 to 1e38, so it is
      byte-equal to DuckDB below 1e38; from 1e38 it is Java's %.<d>f, whose
      digits are Java's shortest ones padded with zeros (1e40 is
      '10000000000000000000000000000000000000000.00', DuckDB prints the
      double's exact 10000000000000000303786028427003666890752.00);
    - format_significant uses Java's %.<p-1>e laid out as %g (trailing zeros
      dropped, 'e+24' style exponent of at least two digits), which rounds
      Java's shortest digits half up: it differs from DuckDB only where those
      digits end exactly on a half at the last kept place (a tie of the
      printed digits, not necessarily of the double: 9.995e25 is really
      9.99499..e25, '9.99e+25' on DuckDB, '1e+26' here). A subnormal
      (below 2.2e-308), whose shortest digits can be fewer than p, is
      m x 2^-1074 multiplied out with 21 digits of 2^-1074 instead (right
      unless within 1e-21, relative, of a half).
    tests/spark/test_number_text.py compares both engines from 1e-300 to
    1e300 (subnormals included). -#}

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
    {#- 13 at most: the candidate n below is then under 10^15 < 2^52 even
        when log10 is one off, so the exact path never needs more. -#}
    {%- if p < 1 or p > 13 -%}
        {{ exceptions.raise_compiler_error(
            "format_significant: precision must be 1 to 13, got " ~ precision) }}
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
            -- outside exponents {{ p - 22 }} .. {{ p + 20 }} a candidate below
            -- would need a power of ten beyond 1e22: Java's %e instead,
            -- decided here, before the exact path (CASE evaluates only the
            -- branch taken, so its raise_error is never reached)
            when cast(floor(log10(abs(fs_x))) as int) not between {{ p - 22 }}
                    and {{ p + 20 }}
                then concat(
                    case when fs_x < 0 then '-' else '' end,
                    case when abs(fs_x) < 2.2250738585072014E-308D then
                    -- a subnormal is m x 2^-1074 (m below 2^52, got by exact
                    -- scaling): its digits are m times 2^-1074's first 21
                    -- (494065645841246544177 x 10^-344), as Java's shortest
                    -- digits are too few here (4.9E-324 for 4.94e-324);
                    -- rounded on the next digit: a subnormal is never a tie,
                    -- and the 21 digits are off by under 1e-21 (relative),
                    -- which could only matter that close to a half
                    element_at(transform(
                        array(cast(cast(cast(abs(fs_x) * power(2.0D, 537)
                            * power(2.0D, 537) as bigint) as decimal(20, 0))
                            * 494065645841246544177BD as string)),
                        fs_d -> element_at(transform(
                            array(cast(substr(fs_d, 1, {{ p }}) as bigint)
                                + case when substr(fs_d, {{ p + 1 }}, 1) >= '5'
                                    then 1 else 0 end),
                            fs_n -> concat(
                                {{ marketing_engine._spark_strip_fraction_zeros(
                                    "concat(substr(cast(fs_n as string), 1, 1), '.', "
                                    ~ "substr(cast(fs_n as string), 2))") }},
                                'e-',
                                cast(345 - length(fs_d)
                                    - case when fs_n >= {{ 10 ** p }} then 1 else 0 end
                                    as string)
                            )
                        ), 1)
                    ), 1)
                    else element_at(transform(
                        array(format_string('%.{{ p - 1 }}e', abs(fs_x))),
                        fs_j -> concat(
                            {%- if p > 1 %}
                            {{ marketing_engine._spark_strip_fraction_zeros(
                                "split_part(fs_j, 'e', 1)") }},
                            {%- else %}
                            split_part(fs_j, 'e', 1),
                            {%- endif %}
                            'e',
                            split_part(fs_j, 'e', 2)
                        )
                    ), 1)
                    end
                )
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
            -- the digits of round(|x| * 10^d), each range exact where it
            -- can be, chosen before any path is evaluated (CASE evaluates
            -- only the branch taken: the exact path's raise_error is never
            -- reached)
            else element_at(transform(
                array(case
                    -- scaled below 2^51: one exact rounding
                    when abs(ff_x) * cast('1E{{ d }}' as double)
                            < 2251799813685248.0D
                        then cast({{ marketing_engine._spark_round_scaled(
                            'abs(ff_x)', d, 'format_fixed') }} as string)
                    -- below 2^53: the whole part and the fraction are exact
                    -- doubles; the fraction is rounded exactly, any carry
                    -- goes to the whole part
                    when abs(ff_x) < 9007199254740992.0D
                        then element_at(transform(
                            array(named_struct(
                                'whole', cast(floor(abs(ff_x)) as bigint),
                                'fraction', {{ marketing_engine._spark_round_scaled(
                                    '(abs(ff_x) - floor(abs(ff_x)))', d,
                                    'format_fixed') }}
                            )),
                            ff_s -> concat(
                                cast(ff_s.whole + ff_s.fraction div {{ 10 ** d }}
                                    as string)
                                {%- if d > 0 %},
                                lpad(cast(ff_s.fraction % {{ 10 ** d }} as string),
                                    {{ d }}, '0')
                                {%- endif %}
                            )
                        ), 1)
                    -- a whole number below 1e38: its exact digits
                    when abs(ff_x) < 1.0E38D
                        then concat(
                            {{ marketing_engine._spark_whole_number_digits('abs(ff_x)') }},
                            repeat('0', {{ d }}))
                    -- Java's shortest digits padded with zeros
                    else regexp_replace(
                        format_string('%.{{ d }}f', abs(ff_x)), '[.]', '')
                end),
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
                                array({{ marketing_engine._spark_whole_number_digits(
                                    'abs(dt_x)') }}),
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

{% macro _spark_whole_number_digits(value) %}
    {#- The exact decimal digits of `value`, a double from 2^53 to 1e38 (a
        whole number): its 53-bit mantissa times 2^k, multiplied out in
        decimal(38, 0). floor(log2()) one off still leaves a whole mantissa
        below 2^54. -#}
    cast(aggregate(
        array_repeat(2, greatest(
            cast(floor(log2({{ value }})) as int) - 53, 0)),
        cast(cast({{ value }} / power(2.0D, greatest(
            cast(floor(log2({{ value }})) as int) - 53, 0))
            as bigint) as decimal(38, 0)),
        (wd_acc, wd_two) -> cast(wd_acc * wd_two as decimal(38, 0))
    ) as string)
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
