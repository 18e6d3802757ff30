"""Report rendering: marts only, escaping, missing tables, chart rules, offline assets."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from marketing_engine.reports import (
    FIGURE,
    FORMATS,
    ReportError,
    fmt_p,
    fmt_ratio,
    parse_page,
    render_site,
)

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


# --- no business logic in pages -------------------------------------------------------

PAGES = sorted((PROJECT / "reports" / "pages").glob("*.md"))
STRING = re.compile(r"'(?:[^']|'')*'")
LOGIC = {
    "a join": re.compile(r"\bjoin\b"),
    "group by": re.compile(r"\bgroup\s+by\b"),
    "a union": re.compile(r"\b(union|intersect|except)\b"),
    "a case expression": re.compile(r"\bcase\b"),
    "a window": re.compile(r"\bover\s*\("),
    "a subquery": re.compile(r"\(\s*select\b"),
    "a filter clause": re.compile(r"\bfilter\s*\("),
    "an aggregate": re.compile(
        r"\b(count|sum|avg|mean|min|max|median|mode|quantile\w*|percentile\w*|stddev\w*|"
        r"variance|var_\w+|string_agg|listagg|list|array_agg|first|last|any_value|"
        r"arg_max|arg_min|max_by|min_by|bool_and|bool_or|approx_\w+)\s*\("
    ),
    "arithmetic": re.compile(r"[+*/%]|(?<![-<])-(?!>)"),
}


def sql_logic(sql: str) -> list[str]:
    """What a page query computes beyond select / filter / order / limit from one mart."""
    text = STRING.sub("''", re.sub(r"--[^\n]*", "", sql.lower()))
    text = re.sub(r"\bselect\s+\*", "select", text)
    found = [name for name, pattern in LOGIC.items() if pattern.search(text)]
    marts = set(re.findall(r"\bmarts\.(\w+)", text))
    if len(marts) != 1:
        found.append(f"{len(marts)} marts")
    return found


@pytest.mark.parametrize(
    "sql",
    [
        "select count(*) from marts.a",
        "select a.x from marts.a cross join marts.b",
        "select x, sum(y) from marts.a group by all",
        "select x * 1.0 / y as rate from marts.a",
        "select x - y from marts.a",
        "select x from marts.a union all select x from marts.b",
        "select case when x < 2 then 'a' end from marts.a",
        "select x from (select x from marts.a)",
    ],
)
def test_sql_logic_finds_what_a_page_must_not_compute(sql):
    assert sql_logic(sql)


def test_sql_logic_allows_select_filter_order():
    sql = """select a, b as c, d || ' -> ' || e as rule, strftime(m, '%Y-%m') as month
             from marts.rpt_x where k = 'Can''t - Lose' and n between 1 and 12
             order by a desc nulls last limit 15"""
    assert sql_logic(sql) == []
    assert sql_logic("select * from marts.rpt_customer_kpis") == []


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_queries_only_select_filter_and_order_one_mart(path):
    """Business logic lives in marts; the Churn page's cross join showed 196,020 of 2,000."""
    page = parse_page(path)
    assert {name: sql_logic(sql) for name, sql in page.queries.items() if sql_logic(sql)} == {}


TAG = re.compile(r"\{[{%].*?[}%]\}", re.DOTALL)
CONDITION = re.compile(r"\{%\s*(if\s+\w+\[\d+\]\.\w+|else|endif)\s*%\}")


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_sentence_figures_read_a_reporting_mart_column(path):
    """Only {{ query[row].column | format }}; conditions only test such a column; each
    figure's query reads a one-row rpt_ mart, so tests/integration/report_checks.py
    can check it against an independent query."""
    page = parse_page(path)
    for tag in TAG.findall(page.source):
        figure = FIGURE.fullmatch(tag)
        assert figure or CONDITION.fullmatch(tag), f"{path.name}: {tag} computes in the page"
        if figure:
            query, _, _, fmt, _ = figure.groups()
            assert fmt in FORMATS, f"{path.name}: {tag} has unknown format {fmt}"
            assert (page.mart(query) or "").startswith("rpt_"), f"{path.name}: {tag}"
    for attrs in re.findall(r"<BigValue\s+(.*?)/>", page.source, re.DOTALL):
        query = re.search(r"data=\{(\w+)\}", attrs).group(1)
        assert (page.mart(query) or "").startswith("rpt_"), f"{path.name}: BigValue {attrs}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_an_interval_is_the_same_in_text_and_chart(path):
    """The Sales page said 80% interval in the text and shaded 95% in the chart."""
    text = path.read_text()
    stated = set(re.findall(r"(\d+)% interval", text))
    columns = set(re.findall(r"(?:lower|upper)_(\d+)\b", text))
    assert len(stated | columns) <= 1, (stated, columns)


# --- formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.0, "<0.001"), (0.00004, "<0.001"), (0.0386, "0.039"), (0.5, "0.500"), (1.0, ">0.999")],
)
def test_p_values_are_never_a_bare_0_or_1(value, shown):
    assert fmt_p(value) == shown


def test_a_lift_keeps_two_decimals():
    assert fmt_ratio(2.9985566) == "3.00"
    assert fmt_ratio(1.234) == "1.23"
    assert fmt_p(None) == fmt_ratio(None) == "-"


# --- figures, notices, links, atomic writes -------------------------------------------

KPI_PAGE = """---
title: KPIs
order: 1
needs_data: kpis.amount
needs_file: things.csv
needs_what: things
---

```sql kpis
select name, amount from marts.things order by amount desc limit 1
```

The biggest thing is {{ kpis[0].name }} with {{ kpis[0].amount | number(1) }}.

<BigValue data={kpis} value=amount title="Biggest amount" fmt=money/>
"""


def test_every_figure_is_recorded_with_its_mart_and_column(site, tmp_path):
    db, reports = site
    page(reports, "01_kpis", KPI_PAGE)
    render_site(db, reports, tmp_path / "out")
    manifest = json.loads((tmp_path / "out/site/figures.json").read_text())
    (kpis,) = manifest["pages"]
    assert kpis["notice"] is None and kpis["file"] == "index.html"
    recorded = {
        (f["kind"], f["mart"], f["column"], f["value"], f["shown"]) for f in kpis["figures"]
    }
    assert recorded == {
        ("text", "things", "name", "b & c", "b & c"),
        ("text", "things", "amount", 5.0, "5.0"),
        ("tile", "things", "amount", 5.0, "5"),
    }


def test_a_page_without_its_optional_file_says_which_file_in_one_sentence(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    empty = KPI_PAGE.replace("order by", "where amount < 0 order by")
    page(reports, "02_kpis", empty.replace("order: 1", "order: 2"))
    render_site(db, reports, tmp_path / "out")
    html = (tmp_path / "out/site/kpis.html").read_text()
    assert "Add things.csv to your raw data folder to see things." in html
    manifest = json.loads((tmp_path / "out/site/figures.json").read_text())
    assert manifest["pages"][1]["notice"].startswith("Add things.csv")


def test_a_figure_from_an_empty_result_names_the_page_and_query(site, tmp_path):
    db, reports = site
    text = KPI_PAGE.replace("order by", "where amount < 0 order by").replace("needs_data", "x")
    page(reports, "01_kpis", text)
    with pytest.raises(ReportError, match=r"page kpis.*row 0 of query kpis.*0 row"):
        render_site(db, reports, tmp_path / "out")


def test_every_link_resolves_to_a_file(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    page(reports, "02_kpis", KPI_PAGE.replace("order: 1", "order: 2"))
    site_dir = render_site(db, reports, tmp_path / "out").parent
    for html_page in site_dir.glob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#?]+)"', html_page.read_text()):
            assert (site_dir / target).is_file(), (html_page.name, target)


def test_a_failed_render_leaves_the_previous_site_whole(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    out = tmp_path / "out"
    render_site(db, reports, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    page(reports, "02_broken", GOOD.replace("things[0].name", "thingz[0].name"))
    with pytest.raises(ReportError, match="thingz"):
        render_site(db, reports, out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in out.iterdir()) == ["markdown", "site"]
