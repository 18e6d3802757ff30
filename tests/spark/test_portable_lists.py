"""The list aggregates of macros/portable/lists.sql give the same answer on DuckDB and Spark
where the engines' own functions differ: no values at all (Spark's collect_set gives []
where DuckDB's list() gives NULL), only NULLs, an empty string (Spark's old nullif turned a
lone '' into NULL), repeats and order. Each engine runs its own implementation through
`dbt show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.spark.dbt_env import dbt_show

# (group, value): group 1 has repeats out of order, 2 only NULLs, 3 a lone '', 4 '' among
# others, 5 one value.
ROWS = [
    (1, "b"),
    (1, "a"),
    (1, "b"),
    (1, None),
    (1, "c"),
    (2, None),
    (2, None),
    (3, ""),
    (4, ""),
    (4, "x"),
    (5, "z"),
]
EXPECTED = {
    1: (["a", "b", "c"], "a, b, c"),
    2: (None, None),
    3: ([""], ""),
    4: (["", "x"], ", x"),
    5: (["z"], "z"),
}


def show(target: str, workdir: Path) -> dict[int, tuple]:
    literals = ", ".join(
        f"({group}, cast({'null' if value is None else repr(value)} as string))"
        for group, value in ROWS
    )
    sql = (
        "select g, {{ sorted_distinct_list('v') }} as listed, "
        "{{ sorted_distinct_string_agg('v', \"', '\") }} as joined "
        f"from (values {literals}) as t(g, v) group by g"
    )
    rows = dbt_show(target, workdir, sql)
    return {row["g"]: (row["listed"], row["joined"]) for row in rows}


@pytest.mark.parametrize("target", ["dev", "spark"])
def test_sorted_distinct_aggregates_agree_on_both_engines(target, tmp_path):
    shown = show(target, tmp_path)
    # dbt show writes a list cell as JSON text
    listed = {
        g: (json.loads(v[0]) if isinstance(v[0], str) else v[0], v[1]) for g, v in shown.items()
    }
    assert listed == EXPECTED
