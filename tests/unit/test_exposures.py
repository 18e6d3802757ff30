"""Exposures list what the report pages really read.

Every page in reports/pages has an exposure `report_<slug>` in
models/marts/_marts__exposures.yml whose depends_on is exactly the set of marts its
```sql blocks name (marts.<name>), so dbt's lineage and `dbt ls -s +exposure:...`
show the tables each page needs. A page that starts reading another mart, or stops,
fails here until the exposure says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT

PAGES = sorted((PROJECT / "reports" / "pages").glob("*.md"))
EXPOSURES = PROJECT / "models" / "marts" / "_marts__exposures.yml"
SQL_BLOCK = re.compile(r"```sql[^\n]*\n(.*?)```", re.DOTALL)
MART = re.compile(r"\bmarts\.([a-z_][a-z0-9_]*)", re.IGNORECASE)
REF = re.compile(r"""ref\(\s*['"]([a-z0-9_]+)['"]\s*\)""")


def page_marts(path: Path) -> set[str]:
    """The marts a page's SQL blocks read."""
    return {
        name.lower()
        for block in SQL_BLOCK.findall(path.read_text())
        for name in MART.findall(block)
    }


def slug(path: Path) -> str:
    return re.sub(r"^\d+_", "", path.stem)


def report_exposures() -> dict[str, set[str]]:
    exposures = yaml.safe_load(EXPOSURES.read_text())["exposures"]
    return {
        exposure["name"]: {REF.search(dep).group(1) for dep in exposure["depends_on"]}
        for exposure in exposures
        if exposure["name"].startswith("report_")
    }


def test_page_marts_finds_every_mart_in_sql_blocks_only(tmp_path):
    page = tmp_path / "01_x.md"
    page.write_text(
        "Text naming marts.not_read\n```sql a\nselect * from marts.rpt_a\n```\n"
        "```sql b\nselect x from MARTS.fct_b where y in (1)\n```\n"
    )
    assert page_marts(page) == {"rpt_a", "fct_b"}


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_each_page_has_an_exposure_listing_exactly_what_it_reads(path):
    exposures = report_exposures()
    name = f"report_{slug(path)}"
    assert name in exposures, f"{EXPOSURES.name}: add exposure {name} for {path.name}"
    read = page_marts(path)
    declared = exposures[name]
    assert declared == read, (
        f"{EXPOSURES.name}: exposure {name} should depend on exactly the marts "
        f"{path.name} reads; missing {sorted(read - declared)}, "
        f"not read {sorted(declared - read)}"
    )


def test_no_exposure_for_a_page_that_does_not_exist():
    pages = {f"report_{slug(path)}" for path in PAGES}
    assert set(report_exposures()) - pages == set()
