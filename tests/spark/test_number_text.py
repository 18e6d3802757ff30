"""The number-to-text macros (macros/portable/number_text.sql) give byte-equal text on DuckDB
and Spark: format_significant = printf('%.3g'), format_fixed = printf('%.2f') and
double_to_text = cast(double as varchar), as DuckDB prints them. Each engine renders and runs
its own implementation through `dbt show`; DuckDB's printf is the reference.

The values: the tricky ones (0, 1e-5, 123456, 0.1 + 0.2, negatives, NULL, exact ties such as
0.125, 100.5 and 999.5 that DuckDB rounds to even, 2.675 that is really 2.67499..., powers
of ten where log10 may be one off, doubles that Java 17 prints with a digit too many) and
seeded random ones over every magnitude the Spark versions support.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

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
# Where the Spark versions are exact (beyond, they stop the query with raise_error).
SIGNIFICANT_RANGE = (1e-19, 1e22)
FIXED_BELOW = 4e13


def values() -> list[float]:
    rng = random.Random(17)
    drawn = list(TRICKY)
    for _ in range(600):
        drawn.append(rng.uniform(1, 10) * 10 ** rng.randint(-19, 21) * rng.choice([1, -1]))
    for _ in range(300):
        drawn.append((rng.randint(100, 999) + 0.5) * 10.0 ** rng.randint(-6, 6))  # %.3g ties
        drawn.append((rng.randint(0, 99999) + 0.5) / 100)  # %.2f ties and near-ties
        drawn.append(rng.randint(1, 999999) / 100)  # prices
    return drawn


def show(target: str, workdir: Path, rows: list[float | None]) -> list[dict]:
    """The macros applied to `rows` on `target`, through `dbt show --inline`."""
    low, high = SIGNIFICANT_RANGE
    literals = ", ".join(
        f"({i}, cast({'null' if x is None else repr(repr(x))} as double))"
        for i, x in enumerate(rows)
    )
    sql = (
        "select id, "
        f"{{{{ format_significant('case when abs(x) between {low!r} and {high!r}"
        " or x = 0 then x end', 3) }} as significant, "
        f"{{{{ format_fixed('case when abs(x) < {FIXED_BELOW!r} then x end', 2) }}}} as fixed, "
        "{{ double_to_text('x') }} as text "
        f"from (values {literals}) as v(id, x)"
    )
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MARKETING_ENGINE_BUILD_DB": str(workdir / "build.duckdb"),
        "MARKETING_ENGINE_SPARK_WAREHOUSE": str(workdir / "spark" / "warehouse"),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
    }
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "--quiet",
        "show",
        "--target",
        target,
        "--inline",
        sql,
        "--limit",
        "-1",
        "--output",
        "json",
    ]
    result = subprocess.run(
        command, cwd=PROJECT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    start = result.stdout.index("{")
    return sorted(json.loads(result.stdout[start:])["show"], key=lambda row: row["id"])


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> tuple[list[float | None], list[dict], list[dict]]:
    rows: list[float | None] = [*values(), None]
    workdir = tmp_path_factory.mktemp("number_text")
    return rows, show("dev", workdir, rows), show("spark", workdir, rows)


def test_duckdb_macros_are_duckdb_printf(shown) -> None:
    import duckdb

    rows, duck, _ = shown
    con = duckdb.connect()
    low, high = SIGNIFICANT_RANGE
    for x, row in zip(rows, duck, strict=True):
        significant, fixed, text = con.execute(
            "select printf('%.3g', ?), printf('%.2f', ?), cast(? as varchar)", [x, x, x]
        ).fetchone()
        in_range = x is not None and (x == 0 or low <= abs(x) <= high)
        assert row["significant"] == (significant if in_range else None), x
        assert row["fixed"] == (fixed if x is not None and abs(x) < FIXED_BELOW else None), x
        assert row["text"] == text, x
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
    assert not mismatches, mismatches[:20]
