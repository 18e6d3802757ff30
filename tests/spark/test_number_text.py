"""The number-to-text macros (macros/portable/number_text.sql) give byte-equal text on DuckDB
and Spark: format_significant = printf('%.3g'), format_fixed = printf('%.2f') and
double_to_text = cast(double as varchar), as DuckDB prints them. Each engine renders and runs
its own implementation through `dbt show`; DuckDB's printf is the reference.

The values: the tricky ones (0, 1e-5, 123456, 0.1 + 0.2, negatives, NULL, exact ties such as
0.125, 100.5 and 999.5 that DuckDB rounds to even, 2.675 that is really 2.67499..., powers
of ten where log10 may be one off, doubles that Java 17 prints with a digit too many),
seeded random ones over every magnitude, and the junk magnitudes a defective file can hold,
where Spark's exact rounding gives way to Java's format_string instead of stopping the query:
1e-300 .. 1e300 (powers of ten, random mantissas, both signs), subnormals, the largest
double, 1e21 .. 1e25 around %.3g's exact limit and 4.5e13 .. 1e38 for %.2f. Two sets differ,
and the test asserts exactly them:
- %.2f from 1e38, where Spark prints Java's shortest digits padded with zeros (text that
  reads back as the same double) and DuckDB the double's exact digits;
- %.3g beyond its exact range where Java's shortest digits end exactly on a half at the
  third digit, which Java rounds up: among these values only +-9.995e25 (really
  9.99499..e25: '9.99e+25' on DuckDB, '1e+26' on Spark).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.spark.dbt_env import dbt_show

TRICKY = [
    0.0,
    1e-5,
    -1e-5,
    123456.0,
    -123456.0,
    0.1 + 0.2,
    -(0.1 + 0.2),
    0.125,
    -0.125,
    100.5,
    999.5,
    9995.0,
    99950.0,
    2.675,
    -2.675,
    1.005,
    0.5,
    1.5,
    2.5,
    12.5,
    0.15,
    0.25,
    -0.001,
    0.001,
    1e-4,
    9.9999e-5,
    0.00009995,
    0.00012,
    1.5e-5,
    1.0 / 3,
    1.0,
    10.0,
    100.0,
    1000.0,
    99.96,
    996.0,
    999.7,
    1e7,
    12345678.9,
    1e15,
    9999999999999998.0,
    1e16,
    1e20,
    1e22,
    2.82879384806159e17,
    1e-19,
]
# Where Spark's %.2f is Java's (digits padded with zeros), not the double's exact digits.
FIXED_JAVA_FROM = 1e38
SUBNORMALS = [5e-324, -5e-324, 1e-310, 2.2250738585072009e-308, 1.5e-323, 4.9406564584124654e-322]


def junk_magnitudes(rng: random.Random) -> list[float]:
    """Values a defective file can hold, beyond the exact ranges, both signs."""
    drawn = [10.0**k for k in range(-300, 301, 3)] + [-(10.0**k) for k in range(-299, 300, 10)]
    drawn += [1.7976931348623157e308, -1.7976931348623157e308, *SUBNORMALS]
    drawn += [m * 10.0**k for k in range(21, 26) for m in (1.0, 1.5, 2.5, 9.995, 9.9999)]
    drawn.append(-9.995e25)
    for _ in range(300):  # random mantissas over every exponent
        drawn.append(rng.uniform(1, 10) * 10.0 ** rng.randint(-300, 299) * rng.choice([1, -1]))
    for _ in range(300):  # %.2f past its one exact rounding: 2.25e13 .. 1e20, then to 1e38
        drawn.append(rng.uniform(1, 10) * 10.0 ** rng.randint(13, 19) * rng.choice([1, -1]))
        drawn.append(rng.uniform(1, 10) * 10.0 ** rng.randint(20, 38))
    for _ in range(100):  # fractions of a cent and ties in 4.5e13 .. 2^53
        drawn.append(rng.randint(45_000_000_000_000, 9_007_199_254_740_991) / 8)
    return drawn


def values() -> list[float]:
    rng = random.Random(17)
    drawn = list(TRICKY)
    for _ in range(600):
        drawn.append(rng.uniform(1, 10) * 10 ** rng.randint(-19, 21) * rng.choice([1, -1]))
    for _ in range(300):
        drawn.append((rng.randint(100, 999) + 0.5) * 10.0 ** rng.randint(-6, 6))  # %.3g ties
        drawn.append((rng.randint(0, 99999) + 0.5) / 100)  # %.2f ties and near-ties
        drawn.append(rng.randint(1, 999999) / 100)  # prices
    return drawn + junk_magnitudes(rng)


def show(target: str, workdir: Path, rows: list[float | None]) -> list[dict]:
    """The macros applied to `rows` on `target`, through `dbt show --inline`."""
    literals = ", ".join(
        f"({i}, cast({'null' if x is None else repr(repr(x))} as double))"
        for i, x in enumerate(rows)
    )
    sql = (
        "select id, "
        "{{ format_significant('x', 3) }} as significant, "
        "{{ format_fixed('x', 2) }} as fixed, "
        "{{ double_to_text('x') }} as text "
        f"from (values {literals}) as v(id, x)"
    )
    return sorted(dbt_show(target, workdir, sql), key=lambda row: row["id"])


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> tuple[list[float | None], list[dict], list[dict]]:
    rows: list[float | None] = [*values(), None]
    workdir = tmp_path_factory.mktemp("number_text")
    return rows, show("dev", workdir, rows), show("spark", workdir, rows)


def test_duckdb_macros_are_duckdb_printf(shown) -> None:
    import duckdb

    rows, duck, _ = shown
    con = duckdb.connect()
    for x, row in zip(rows, duck, strict=True):
        significant, fixed, text = con.execute(
            "select printf('%.3g', ?), printf('%.2f', ?), cast(? as varchar)", [x, x, x]
        ).fetchone()
        assert (row["significant"], row["fixed"], row["text"]) == (significant, fixed, text), x
    assert duck[TRICKY.index(0.125)]["fixed"] == "0.12"  # ties to even
    assert duck[TRICKY.index(100.5)]["significant"] == "100"
    assert duck[TRICKY.index(123456.0)]["significant"] == "1.23e+05"
    assert duck[TRICKY.index(1e-5)]["significant"] == "1e-05"
    assert duck[TRICKY.index(0.1 + 0.2)]["significant"] == "0.3"
    assert duck[TRICKY.index(-(0.1 + 0.2))]["text"] == "-0.30000000000000004"
    assert duck[-1] == {"id": len(rows) - 1, "significant": None, "fixed": None, "text": None}


def test_spark_text_equals_duckdb_text(shown) -> None:
    rows, duck, spark = shown
    assert len(spark) == len(duck) == len(rows)
    mismatches = [
        (x, column, d[column], s[column])
        for x, d, s in zip(rows, duck, spark, strict=True)
        for column in ("significant", "fixed", "text")
        if d[column] != s[column]
    ]
    java_fixed = {(x, "fixed") for x in rows if x is not None and abs(x) >= FIXED_JAVA_FROM}
    assert len(java_fixed) > 100
    java_tie = {(9.995e25, "significant"), (-9.995e25, "significant")}
    differing = {(x, column) for x, column, _, _ in mismatches}
    assert differing == java_fixed | java_tie, (
        [m for m in mismatches if (m[0], m[1]) not in java_fixed | java_tie][:20],
        sorted((java_fixed | java_tie) - differing)[:20],
    )
    assert [(d, s) for x, column, d, s in mismatches if (x, column) in java_tie] == [
        ("9.99e+25", "1e+26"),
        ("-9.99e+25", "-1e+26"),
    ]
    # From 1e38 %.2f is Java's: its shortest digits padded with zeros, so the text differs
    # from DuckDB's exact digits but reads back as the same double, and it never stops the
    # query.
    for x, column, duck_text, spark_text in mismatches:
        if column == "fixed":
            assert float(spark_text) == x and duck_text.endswith(".00"), (x, spark_text)
    print(f"{len(rows)} values x 3 columns: {len(mismatches)} differ (%.2f from 1e38, 9.995e25)")
