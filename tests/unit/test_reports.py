"""Report rendering: marts only, escaping, missing tables, chart rules, offline assets."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from marketing_engine.reports import ReportError, render_site

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(tmp_path) -> tuple[Path, Path]:
    """A tiny warehouse and a reports folder with the project's templates and assets."""
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.things as select * from (values "
            "('<script>alert(1)</script>', 3.0), ('b & c', 5.0)) as t(name, amount)"
        )
        con.execute("create schema raw")
        con.execute("create table raw.secrets as select 1 as x")
    reports = tmp_path / "reports"
    for folder in ("templates", "assets"):
        shutil.copytree(PROJECT / "reports" / folder, reports / folder)
    (reports / "pages").mkdir()
    return db, reports


def page(reports: Path, name: str, text: str) -> None:
    (reports / "pages" / f"{name}.md").write_text(text)


GOOD = """---
title: Things
order: 1
---

```sql things
select name, amount from marts.things order by amount
```

Top thing: {{ things[0].name }}, total {{ things | sum(attribute='amount') | number }}.

<BarChart data={things} x=name y=amount title="Amount by thing"
          xlabel="Thing" ylabel="Amount (units)"/>

<DataTable data={things} title="Things"/>
"""


def test_renders_html_markdown_and_svg_charts(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    index = render_site(db, reports, tmp_path / "out")
    html = index.read_text()
    assert "Top thing:" in html and "total 8" in html
    image = r'<img src="images/things-1\.svg" alt="Amount by thing">'
    assert re.search(image, html)
    svg = (tmp_path / "out/site/images/things-1.svg").read_text()
    assert svg.startswith("<?xml") and "Amount by thing" in svg
    markdown = (tmp_path / "out/markdown/things.md").read_text()
    assert "![Amount by thing](images/things-1.svg)" in markdown
    assert (tmp_path / "out/markdown/images/things-1.svg").exists()


def test_horizontal_bars_are_labelled_with_the_category_names(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD.replace("<BarChart ", "<BarChart horizontal=true "))
    render_site(db, reports, tmp_path / "out")
    svg = (tmp_path / "out/site/images/things-1.svg").read_text()
    # matplotlib writes tick labels as text comments in the SVG
    assert "b &amp; c" in svg or "b & c" in svg


def test_data_values_are_escaped(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    html = render_site(db, reports, tmp_path / "out").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "b &amp; c" in html


def test_queries_may_read_the_marts_only(site, tmp_path):
    db, reports = site
    page(reports, "01_bad", "---\ntitle: Bad\n---\n```sql s\nselect * from raw.secrets\n```\n")
    with pytest.raises(ReportError, match=r"raw\.secrets.*marts only"):
        render_site(db, reports, tmp_path / "out")


def test_a_page_whose_tables_are_missing_says_so(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    page(
        reports,
        "02_later",
        "---\ntitle: Later\norder: 2\n---\n"
        "```sql t\nselect * from marts.campaign_results\n```\n<DataTable data={t}/>\n",
    )
    render_site(db, reports, tmp_path / "out")
    later = (tmp_path / "out/site/later.html").read_text()
    assert "needs campaign_results" in later


def test_charts_need_a_title_and_axis_labels(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD.replace(' xlabel="Thing"', ""))
    with pytest.raises(ReportError, match="BarChart needs xlabel"):
        render_site(db, reports, tmp_path / "out")


def test_undefined_names_fail_with_the_page_named(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD.replace("things[0].name", "thingz[0].name"))
    with pytest.raises(ReportError, match=r"page things.*thingz"):
        render_site(db, reports, tmp_path / "out")


def test_site_references_no_remote_asset(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    site_dir = render_site(db, reports, tmp_path / "out").parent
    for path in site_dir.rglob("*"):
        if path.suffix in {".html", ".css", ".js"}:
            text = path.read_text()
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), path
            assert "@import" not in text, path
