"""Report rendering: marts only, escaping, missing tables, chart rules, offline assets."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine.reports import (
    FIGURE,
    FORMATS,
    FormatConfig,
    ReportError,
    SiteSettings,
    fmt_p,
    fmt_ratio,
    parse_page,
    render_site,
)
from marketing_engine.reports.data import spreadsheet_safe
from marketing_engine.reports.formats import group_digits, load_config
from marketing_engine.reports.labels import humanize
from tests.formula_cases import TEXT_CELLS

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


def blocks_of(html: str) -> dict:
    """The component specs a page hands to app.js."""
    found = re.search(r'<script type="application/json" id="report-blocks">(.*?)</script>', html)
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_charts_are_interactive_specs_with_their_rows_inline(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    index = render_site(db, reports, tmp_path / "out")
    html = index.read_text()
    assert "Top thing:" in html and "total 8" in html
    assert html.count(">Amount by thing</") == 1  # the title is shown once, above the chart
    (chart,) = [b for b in blocks_of(html).values() if b["kind"] == "bar"]
    assert chart["title"] == "Amount by thing" and chart["x"] == "name" and chart["y"] == ["amount"]
    assert chart["data"]["rows"] == [["<script>alert(1)</script>", 3.0], ["b & c", 5.0]]
    assert [c["label"] for c in chart["data"]["columns"]] == ["Name", "Amount"]
    assert '<script src="assets/vendor/echarts.min.js"></script>' in html
    vendored = tmp_path / "out/site/assets/vendor"
    assert (vendored / "echarts.min.js").stat().st_size > 500_000
    assert "Apache License" in (vendored / "ECHARTS-LICENSE").read_text()
    markdown = (tmp_path / "out/markdown/things.md").read_text()
    assert "*Chart: Amount by thing*" in markdown


def test_horizontal_bars_keep_the_category_names(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD.replace("<BarChart ", "<BarChart horizontal=true "))
    html = render_site(db, reports, tmp_path / "out").read_text()
    (chart,) = [b for b in blocks_of(html).values() if b["kind"] == "bar"]
    assert chart["horizontal"] is True
    assert [row[0] for row in chart["data"]["rows"]] == ["<script>alert(1)</script>", "b & c"]


def test_a_vertical_chart_names_its_category_axis_under_it(site, tmp_path):
    """ECharts' own axis name collided with wrapped labels, so it was dropped: the page
    then showed "3 4 5 6" under a chart with nothing saying what they count."""
    db, reports = site
    page(reports, "01_things", GOOD)
    html = render_site(db, reports, tmp_path / "out").read_text()
    assert '<p class="axis-name">Thing</p>' in html
    page(reports, "01_things", GOOD.replace("<BarChart ", "<BarChart horizontal=true "))
    html = render_site(db, reports, tmp_path / "out").read_text()
    assert 'class="axis-name"' not in html  # a horizontal chart's value axis is named by the chart


def test_dashed_lines_must_be_y_columns(site, tmp_path):
    db, reports = site
    line = GOOD.replace("<BarChart ", "<LineChart dashed=amount ")
    page(reports, "01_things", line)
    html = render_site(db, reports, tmp_path / "out").read_text()
    (chart,) = [b for b in blocks_of(html).values() if b["kind"] == "line"]
    assert chart["dashed"] == ["amount"]
    page(reports, "01_things", GOOD.replace("<BarChart ", "<LineChart dashed=name "))
    with pytest.raises(ReportError, match="dashed=name names no y column"):
        render_site(db, reports, tmp_path / "out")


def test_data_values_are_escaped(site, tmp_path):
    db, reports = site
    page(reports, "01_things", GOOD)
    html = render_site(db, reports, tmp_path / "out").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the sentence
    # table and chart rows travel as JSON that cannot close its <script> element
    assert "<\\/script>" in html
    rows = [b["data"]["rows"] for b in blocks_of(html).values() if "data" in b]
    assert ["b & c", 5.0] in rows[0]


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
        ("tile", "things", "amount", 5.0, "₹5"),
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


# --- engine: caps, CSV files, page weight, labels, filters, formats ---------------------

CUSTOMERS = """---
title: Customers
order: 1
---

```sql customers
select customer_id, segment, city, spend, is_active from marts.customers order by customer_id
```

<Filters segment=segment city=city/>

<BarChart data={customers} x=segment y=spend agg=sum drill=segment title="Spend by segment"
          xlabel="Segment" ylabel="Spend"/>

<DataTable data={customers} cap=25 drill=segment title="Customer list"/>
"""


@pytest.fixture
def customers_db(site) -> tuple[Path, Path]:
    db, reports = site
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create table marts.customers as select 'C' || lpad(i::varchar, 5, '0') as customer_id,"
            " ['Champions', 'At Risk', 'Lost'][i % 3 + 1] as segment,"
            " ['Pune', 'Delhi'][i % 2 + 1] as city, (i % 7) * 10.5 as spend,"
            " i % 4 = 0 as is_active from range(5000) as t(i)"
        )
    return db, reports


def test_a_long_list_is_capped_in_the_page_with_full_csv_files(customers_db, tmp_path):
    db, reports = customers_db
    page(reports, "01_customers", CUSTOMERS)
    html = render_site(db, reports, tmp_path / "out").read_text()
    (table,) = [b for b in blocks_of(html).values() if b["kind"] == "table"]
    data = table["data"]
    assert data["capped"] and data["total"] == 5000
    # the first 25 rows overall and per filter value are in the page, not 5000
    assert 25 <= len(data["rows"]) <= 25 * 6
    by_segment = {}
    for combo in data["counts"]["combos"]:
        by_segment[combo[0]] = by_segment.get(combo[0], 0) + combo[-1]
    with duckdb.connect(str(db), read_only=True) as con:
        expected = dict(
            con.execute("select segment, count(*) from marts.customers group by 1").fetchall()
        )
        full = con.execute("select * from marts.customers order by customer_id").df()
        site_dir = tmp_path / "out/site"
        written = pd.read_csv(site_dir / data["files"]["all"])
        lost = pd.read_csv(site_dir / data["files"]["by"]["segment"]["Lost"])
    assert by_segment == expected
    assert written.shape == full.shape
    assert written["customer_id"].tolist() == full["customer_id"].tolist()
    assert written["spend"].tolist() == pytest.approx(full["spend"].tolist())
    assert len(lost) == expected["Lost"] and set(lost["segment"]) == {"Lost"}
    # booleans are never shown as True/False
    columns = {c["name"]: c for c in data["columns"]}
    assert columns["is_active"]["format"] == "bool" and columns["is_active"]["label"] == "Is active"
    assert columns["spend"]["numeric"] and not columns["segment"]["numeric"]
    # a capped list is not date-filtered (its counts cannot be) and names its filters
    assert table["filters"] == {"segment": "segment", "city": "city"}


def test_csv_files_never_hand_a_spreadsheet_a_formula(customers_db, tmp_path):
    db, reports = customers_db
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.customers set city = case customer_id"
            " when 'C00000' then '=HYPERLINK(\"http://x\",\"y\")' when 'C00001' then '+1+2'"
            " when 'C00002' then '-3+4' when 'C00003' then '@SUM(A1)' else city end,"
            " spend = case when customer_id = 'C00004' then -12.5 else spend end"
        )
    page(reports, "01_customers", CUSTOMERS)
    html = render_site(db, reports, tmp_path / "out").read_text()
    (table,) = [b for b in blocks_of(html).values() if b["kind"] == "table"]
    written = pd.read_csv(tmp_path / "out/site" / table["data"]["files"]["all"])
    cities = dict(zip(written["customer_id"], written["city"], strict=True))
    assert cities["C00000"] == '\'=HYPERLINK("http://x","y")'
    assert [cities[c] for c in ("C00001", "C00002", "C00003")] == ["'+1+2", "'-3+4", "'@SUM(A1)"]
    assert cities["C00005"] in {"Pune", "Delhi"}
    # numbers keep their sign, and a filter file holds the same defused text
    assert written.set_index("customer_id").loc["C00004", "spend"] == -12.5
    by_segment = table["data"]["files"]["by"]["segment"]
    at_risk = pd.read_csv(tmp_path / "out/site" / by_segment["At Risk"])
    assert at_risk.set_index("customer_id").loc["C00001", "city"] == "'+1+2"


def test_the_csv_formula_rule_covers_every_text_cell_and_no_number():
    # The same vector the browser test runs through the page's csvCell.
    texts = [text for text, _ in TEXT_CELLS]
    with duckdb.connect() as con:
        con.execute("create type label as enum (select unnest(?))", [sorted(set(texts))])
        con.execute(
            "create table cells as select unnest(?) as text, unnest(?)::label as label, "
            "-12.5::decimal(18, 2) as amount, -3 as count, date '2024-01-02' as day",
            [texts, texts],
        )
        sql = "select * from cells"
        out = con.execute(spreadsheet_safe(con, sql)).df()
    expected = [written for _, written in TEXT_CELLS]
    assert out["text"].tolist() == expected
    assert out["label"].tolist() == expected
    assert out["amount"].astype(float).unique().tolist() == [-12.5]
    assert out["count"].unique().tolist() == [-3]


def test_a_page_over_the_weight_limit_names_the_page_and_the_fix(customers_db, tmp_path):
    db, reports = customers_db
    page(reports, "01_customers", CUSTOMERS.replace("cap=25", "cap=100000"))
    settings = SiteSettings(page_weight_limit=250_000)
    with pytest.raises(ReportError, match=r"page customers weighs 0\.\d+ MB.*Customer list.*cap="):
        render_site(db, reports, tmp_path / "out", settings)
    assert not (tmp_path / "out/site").exists()
    page(reports, "01_customers", CUSTOMERS)  # capped at 25 rows per value: light
    index = render_site(db, reports, tmp_path / "out", settings)
    assert index.stat().st_size < 250_000


def test_additive_measures_only_are_re_aggregated(customers_db, tmp_path):
    db, reports = customers_db
    text = CUSTOMERS.replace("select customer_id,", "select customer_id, 0.5 as spend_share,")
    page(reports, "01_customers", text.replace("y=spend agg=sum", "y=spend_share agg=sum"))
    with pytest.raises(ReportError, match="spend_share: a share or rate is not additive"):
        render_site(db, reports, tmp_path / "out")


def test_a_drill_down_needs_a_page_filter(customers_db, tmp_path):
    db, reports = customers_db
    page(
        reports,
        "01_customers",
        CUSTOMERS.replace(
            "<DataTable data={customers} cap=25 drill=segment",
            "<DataTable data={customers} drill=cluster",
        ),
    )
    with pytest.raises(ReportError, match="drill=cluster names no page filter"):
        render_site(db, reports, tmp_path / "out")


def test_chart_attributes_must_name_query_columns(customers_db, tmp_path):
    db, reports = customers_db
    page(reports, "01_customers", CUSTOMERS.replace("x=segment y=spend", "x=segmnt y=spend"))
    with pytest.raises(ReportError, match=r"BarChart x=segmnt is not a column of query customers"):
        render_site(db, reports, tmp_path / "out")


def test_labels_and_formats_come_from_the_model_docs(customers_db, tmp_path):
    db, reports = customers_db
    (reports.parent / "models").mkdir()
    (reports.parent / "models" / "_x__models.yml").write_text(
        "models:\n  - name: customers\n    columns:\n"
        "      - name: spend\n        description: Net spend to date.\n"
        "        meta: {label: Lifetime spend, format: money}\n"
    )
    page(reports, "01_customers", CUSTOMERS)
    html = render_site(db, reports, tmp_path / "out").read_text()
    (table,) = [b for b in blocks_of(html).values() if b["kind"] == "table"]
    spend = next(c for c in table["data"]["columns"] if c["name"] == "spend")
    assert spend == {
        "name": "spend",
        "label": "Lifetime spend",
        "format": "money_full",
        "description": "Net spend to date.",
        "numeric": True,
        "wide": False,
    }


def test_footer_states_the_build_time_and_the_data_as_of_date(customers_db, tmp_path):
    db, reports = customers_db
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create table marts.rpt_customer_kpis as select date '2024-03-31' as as_of_date"
        )
    page(reports, "01_customers", CUSTOMERS)
    settings = SiteSettings(built_at="2026-01-02 03:04 UTC")
    html = render_site(db, reports, tmp_path / "out", settings).read_text()
    assert '<strong id="data-as-of">2024-03-31</strong>' in html
    assert '<strong id="built-at">2026-01-02 03:04 UTC</strong>' in html


@pytest.mark.parametrize(
    ("locale", "value", "shown"),
    [
        ("en-IN", 12345678.5, "1,23,45,678.50"),
        ("en-US", 12345678.5, "12,345,678.50"),
        ("de-DE", 1234.5, "1.234,50"),
        ("en-IN", -999.0, "-999.00"),
    ],
)
def test_digits_are_grouped_for_the_locale(locale, value, shown):
    assert group_digits(value, 2, FormatConfig(locale=locale)) == shown


def test_money_carries_the_configured_currency_and_booleans_read_yes_no():
    assert FORMATS["money"](5_300_000) == "₹5.30M" and FORMATS["money"](-950) == "-₹950"
    assert FORMATS["bool"](True) == "Yes" and FORMATS[None](False) == "No"
    assert humanize("aov_by_segment") == "AOV by segment" and humanize("ab_winner") == "A/B winner"


def test_report_settings_come_from_the_project_vars(tmp_path):
    (tmp_path / "dbt_project.yml").write_text(
        "vars:\n  report_currency: EUR\n  report_currency_symbol: '€'\n"
        "  report_locale: de-DE\n  reports:\n    month_format: '%b %Y'\n"
    )
    config, _ = load_config(tmp_path)
    assert (config.currency, config.currency_symbol, config.locale) == ("EUR", "€", "de-DE")
    assert config.month_format == "%b %Y"
    (tmp_path / "dbt_project.yml").write_text("vars:\n  reports:\n    curency: EUR\n")
    with pytest.raises(
        ReportError, match=r"dbt_project.yml: vars.reports has unknown key\(s\) curency"
    ):
        load_config(tmp_path)


def test_a_currency_in_the_reports_var_is_refused_naming_the_build_var(tmp_path):
    """One source of truth: vars.reports.currency would silently disagree with the build."""
    (tmp_path / "dbt_project.yml").write_text("vars:\n  reports:\n    currency: EUR\n")
    with pytest.raises(
        ReportError,
        match=r"vars.reports.currency .* set the top-level var "
        r"report_currency",
    ):
        load_config(tmp_path)


def test_the_site_formats_money_with_what_the_build_recorded(site, tmp_path, monkeypatch):
    """rpt_report_settings (the build's --vars) wins over the project's defaults."""
    from marketing_engine.reports import formats

    monkeypatch.setattr(formats, "_active", formats.active())  # restored after the test
    db, reports = site
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create table marts.rpt_report_settings as select 'USD' as currency_code, "
            "'$' as currency_symbol, 'en-US' as locale, date '2024-01-31' as as_of_date"
        )
        con.execute("create table marts.rpt_total as select 1234567.0 as revenue")
    page(
        reports,
        "01_total",
        "---\ntitle: Total\norder: 1\n---\n\n```sql total\nselect revenue from "
        "marts.rpt_total\n```\n\nRevenue {{ total[0].revenue | money }}.\n",
    )
    html = render_site(db, reports, tmp_path / "out").read_text()
    assert "Revenue $1.23M." in html and "₹" not in html
    config = json.loads(
        re.search(r'<script type="application/json" id="report-config">(.*?)</script>', html).group(
            1
        )
    )
    assert (config["currency"], config["currency_symbol"], config["locale"]) == (
        "USD",
        "$",
        "en-US",
    )
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.rpt_report_settings set locale = ''")
    with pytest.raises(
        ReportError, match=r"rpt_report_settings\.locale is empty: set the var report_locale"
    ):
        render_site(db, reports, tmp_path / "out2")


PHONE = """---
title: Messages
order: 1
---

```sql messages
select * from marts.messages order by event_id, offer_id, segment_name
```

```sql names
select segment_name, first_name from marts.people order by customer_id
```

<PhoneMockup data={messages} customers={names} sender="Saree House" time="09:41"/>
"""


def test_the_phone_preview_gets_existing_choices_and_a_real_first_name(site, tmp_path):
    db, reports = site
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create table marts.messages as select * from (values "
            "('E1', 'Diwali', 'O1', '20% off', 'Champions', 'Hi {first_name}! Reply STOP'),"
            "('E1', 'Diwali', 'O2', 'Free gift', 'Lost', 'We miss you {first_name}')) "
            "as t(event_id, event_name, offer_id, offer_name, segment_name, message_text)"
        )
        con.execute(
            "create table marts.people as select * from (values "
            "('C1', 'Lost', null), ('C2', 'Lost', 'Asha'), ('C3', 'Champions', 'Ravi'),"
            "('C4', 'Champions', 'Meera')) as t(customer_id, segment_name, first_name)"
        )
    page(reports, "01_messages", PHONE)
    html = render_site(db, reports, tmp_path / "out").read_text()
    (phone,) = [b for b in blocks_of(html).values() if b["kind"] == "phone"]
    assert {(m["event_id"], m["offer_id"], m["segment_name"]) for m in phone["messages"]} == {
        ("E1", "O1", "Champions"),
        ("E1", "O2", "Lost"),
    }
    assert phone["names"] == {"Lost": "Asha", "Champions": "Ravi"}
    assert (phone["sender"], phone["time"]) == ("Saree House", "09:41")
    page(reports, "01_messages", PHONE.replace("first_name from", "null as first_name from"))
    html = render_site(db, reports, tmp_path / "out").read_text()
    (phone,) = [b for b in blocks_of(html).values() if b["kind"] == "phone"]
    assert phone["names"] == {} and "not in the published data" in phone["fallback_why"]


def test_model_meta_formats_share_and_count_mean_pct_and_number():
    """The models' YAML says `format: share` / `count`; charts and tables must show %."""
    from marketing_engine.reports.labels import describe

    frame = pd.DataFrame({"moved_share": [0.25], "moved_customers": [3], "x": ["a"]})
    docs = {
        "rpt_m": {
            "moved_share": {"format": "share"},
            "moved_customers": {"format": "count"},
            "x": {"format": "csv"},
        }
    }
    shown = {c.name: c.format for c in describe(frame, "rpt_m", docs, {}, {})}
    assert shown == {"moved_share": "pct", "moved_customers": "number", "x": "text"}


def test_project_pages_have_no_unit_placeholders_in_their_labels():
    """Money carries the build's currency and shares show as %: no "(currency units)"."""
    for path in sorted((PROJECT / "reports" / "pages").glob("*.md")):
        text = path.read_text()
        assert "(currency units)" not in text and "(0-1)" not in text, path.name


def test_a_cluster_card_says_its_share_is_of_buyers(site, tmp_path):
    # cluster_profiles.customer_share is over the clustered customers, who are the
    # buyers; the overview's "of customers" counts prospects too, so the card must
    # not call the same word a different denominator.
    db, reports = site
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create table marts.profiles as select * from (values "
            "(0, 'Big spenders', 0.25, 0.8, 'a'), (1, 'Lapsed', 0.75, 0.2, 'b')) "
            "as t(cluster_id, cluster_name, customer_share, revenue_share, insights)"
        )
    page(
        reports,
        "01_clusters",
        "---\ntitle: Clusters\norder: 1\n---\n\n"
        "```sql profiles\nselect * from marts.profiles order by cluster_id\n```\n\n"
        "<Insights data={profiles}/>\n",
    )
    html = render_site(db, reports, tmp_path / "out").read_text()
    assert "25.0% of buyers · 80.0% of revenue" in html
    assert "of customers" not in html


def test_the_phone_facts_describe_the_previewed_text_not_the_token(site, tmp_path):
    db, reports = site
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create table marts.messages as select * from (values "
            "('E1', 'Diwali', 'O1', '20% off', 'Champions', 'Hi {first_name}! Reply STOP'),"
            "('E1', 'Diwali', 'O2', 'Free gift', 'Lost', 'We miss you {first_name}')) "
            "as t(event_id, event_name, offer_id, offer_name, segment_name, message_text)"
        )
        con.execute(
            "create table marts.people as select * from (values "
            "('C1', 'Champions', 'Ravi')) as t(customer_id, segment_name, first_name)"
        )
    page(reports, "01_messages", PHONE)
    html = render_site(db, reports, tmp_path / "out").read_text()
    (phone,) = [b for b in blocks_of(html).values() if b["kind"] == "phone"]
    facts = {
        m["segment_name"]: (m["preview_character_count"], m["preview_sms_parts"])
        for m in phone["messages"]
    }
    # "Hi Ravi! Reply STOP" is 19 characters; the token text would count 28 septets
    # (12 characters, the braces two septets each); Lost has no name: the sample name.
    assert facts == {"Champions": (19, 1), "Lost": (len("We miss you Priya"), 1)}


def test_a_text_figure_shows_its_value_as_text_not_markdown(site, tmp_path):
    """A quarantine reason quotes a raw cell: '[l](http://x) **bold**' in the file must
    show as those characters, not as a link and bold text."""
    db, reports = site
    value = "see [l](http://x) **bold** _it_ `code` back\\slash"
    with duckdb.connect(str(db)) as con:
        con.execute("create table marts.notes as select ? as note", [value])
    query = "```sql notes\nselect note from marts.notes\n```\n\n"
    page(reports, "01_notes", "---\ntitle: Notes\n---\n\n" + query + "Note: {{ notes[0].note }}.\n")
    html = render_site(db, reports, tmp_path / "out").read_text()
    assert "<a " not in html.split('id="report-blocks"')[0].split("<main")[-1]
    assert "<strong>" not in html and "<em>" not in html and "<code>" not in html
    assert f"Note: {value}." in html
