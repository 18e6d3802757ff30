"""Render every page into a static site: HTML, markdown copies, figures.json, CSV files.

The site is rendered into a temporary folder and moved into place only when
every page rendered (and none is over the page-weight limit), so a failed
render never leaves a half-written site. The vendored ECharts script is copied
to site/assets/vendor/; pages load it with relative script tags, so the site
works from file:// and from any static server, with no network.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import jinja2
import markdown  # type: ignore[import-untyped]
import pandas as pd
from markupsafe import Markup

from marketing_engine.reports import formats as formats_mod
from marketing_engine.reports.charts import CHARTS
from marketing_engine.reports.components import (
    RenderContext,
    big_value,
    filters,
    insights,
    page_weight_error,
    phone_mockup,
    read_filters,
    vendor_dir,
)
from marketing_engine.reports.data import CsvWriter, QueryResults, run_queries, script_json
from marketing_engine.reports.labels import load_docs
from marketing_engine.reports.parse import (
    COMPONENT,
    FIGURE,
    Page,
    ReportError,
    attributes,
    check_marts_only,
    parse_page,
)
from marketing_engine.reports.tables import data_table, markdown_table

BLOCKS = {
    "DataTable": data_table,
    "BigValue": big_value,
    "Insights": insights,
    "PhoneMockup": phone_mockup,
    "Filters": filters,
}
PAGE_WEIGHT_LIMIT = 3_000_000  # bytes of one page's HTML (data included)
# Characters Markdown reads as syntax inside a line (emphasis, code, links, escapes):
# backslash-escaped in a figure, so a value shows as the text it is.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]])")


def make_environment(templates: Path) -> jinja2.Environment:
    """The one Jinja environment: strict about undefined names, autoescaping everything."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({name: fn for name, fn in formats_mod.FORMATS.items() if name})
    return env


@dataclass
class RenderedPage:
    page: Page
    html: str
    markdown: str
    missing: list[str]
    figures: list[dict] = field(default_factory=list)
    notice: str | None = None
    blocks: dict[str, dict] = field(default_factory=dict)


@dataclass
class SiteSettings:
    config: formats_mod.FormatConfig = field(default_factory=formats_mod.FormatConfig)
    docs: dict = field(default_factory=dict)
    table_cap: int = 1000
    scatter_cap: int = 3000
    page_weight_limit: int = PAGE_WEIGHT_LIMIT
    as_of: str = "rpt_customer_kpis.as_of_date"
    built_at: str | None = None


def _absent_data_notice(page: Page, frames: dict[str, pd.DataFrame]) -> str | None:
    """The one-sentence notice of a page whose optional source file was not given.

    Front matter `needs_data: query.column` names the figure that is empty (no
    row, NULL or 0) without that file; `needs_file` and `needs_what` fill the
    sentence "Add <file> to your raw data folder to see <what>."
    """
    need = page.meta.get("needs_data")
    if not need:
        return None
    query, _, column = need.partition(".")
    frame = frames.get(query)
    if frame is None or (column and column not in frame.columns):
        raise ReportError(
            f"page {page.slug}: needs_data {need!r} names no query column on the page"
        )
    empty = len(frame) == 0
    if not empty and column:
        value = frame[column].iloc[0]
        empty = formats_mod._missing(value) or value == 0
    if not empty:
        return None
    file = page.meta.get("needs_file", "the optional files")
    what = page.meta.get("needs_what", page.title.lower())
    return f"Add {file} to your raw data folder to see {what}."


def _notice_page(page: Page, notice: str, missing: list[str]) -> RenderedPage:
    return RenderedPage(
        page, f'<p class="notice">{html.escape(notice)}</p>', notice, missing, [], notice
    )


def render_page(
    page: Page,
    results: QueryResults,
    env: jinja2.Environment,
    settings: SiteSettings | None = None,
    writer: CsvWriter | None = None,
) -> RenderedPage:
    settings = settings or SiteSettings()
    if results.missing:
        notice = (
            f"This page needs {', '.join(sorted(set(results.missing)))}, which the "
            "warehouse does not have yet. Build the models that make them, then run "
            "`marketing-engine report` again."
        )
        return _notice_page(page, notice, results.missing)
    absent = _absent_data_notice(page, results.frames)
    if absent:
        return _notice_page(page, absent, [])
    ctx = RenderContext(
        page,
        results.frames,
        env,
        config=settings.config,
        docs=settings.docs,
        filters=read_filters(page.source),
        writer=writer,
        table_cap=settings.table_cap,
        scatter_cap=settings.scatter_cap,
    )
    html_parts: dict[str, str] = {}
    md_parts: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        kind, attrs = match.group(1), attributes(match.group(2))
        token = f"COMPONENT{len(html_parts)}TOKEN"
        if kind in CHARTS:
            html_parts[token] = CHARTS[kind](attrs, ctx)
            md_parts[token] = f"*Chart: {attrs.get('title', '')}* (interactive in the site)"
        else:
            html_parts[token] = BLOCKS[kind](attrs, ctx)
            if kind in ("DataTable", "BigValue", "Insights", "PhoneMockup"):
                md_parts[token] = markdown_table(ctx.frame(attrs, kind), ctx, attrs)
            else:
                md_parts[token] = ""
        return f"\n\n{token}\n\n"

    def figure_call(match: re.Match) -> str:
        query, row, column, fmt, digits = match.groups()
        arguments = [repr(query), row, repr(column), repr(fmt), digits or "None"]
        return "{{ _figure(" + ", ".join(arguments) + ") }}"

    source = FIGURE.sub(figure_call, COMPONENT.sub(replace, page.source))
    from marketing_engine.reports.data import records

    # Sentences read query[row].column through _figure; only {% if %} conditions read
    # the context, so a long result (a customer list) is not turned into dicts whole.
    context = {name: records(frame.head(1000)) for name, frame in results.frames.items()}

    def record_text_figure(query, row, column, fmt, digits):
        shown = ctx.figure(query, row, column, fmt, digits, f"{query}.{column}", "text")
        # A value is text, never Markdown: a raw cell "[l](http://x)" quoted in a
        # quarantine reason must not become a link (HTML is escaped by autoescape).
        return MARKDOWN_SPECIAL.sub(r"\\\1", shown)

    try:
        text = env.from_string(source).render(**context, _figure=record_text_figure)
    except (jinja2.TemplateError, TypeError, ValueError, KeyError) as error:
        raise ReportError(f"page {page.slug}: the page text failed to render: {error}") from None
    body = markdown.markdown(text, extensions=["tables"])
    md_text = text
    for token, fragment in html_parts.items():
        body = body.replace(f"<p>{token}</p>", fragment)
        md_text = md_text.replace(token, md_parts[token])
    return RenderedPage(page, body, md_text, [], ctx.figures, None, ctx.blocks)


def _load_settings(project: Path) -> SiteSettings:
    config, extra = formats_mod.load_config(project)
    settings = SiteSettings(config=config, docs=load_docs(project))
    for key, attribute in (("table_cap", "table_cap"), ("scatter_cap", "scatter_cap")):
        if key in extra:
            setattr(settings, attribute, int(extra[key]))
    if "page_weight_limit_mb" in extra:
        settings.page_weight_limit = int(float(extra["page_weight_limit_mb"]) * 1_000_000)
    if "as_of" in extra:
        settings.as_of = str(extra["as_of"])
    return settings


def built_at() -> str:
    """When the site was built: SOURCE_DATE_EPOCH if set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _data_as_of(con: duckdb.DuckDBPyConnection, where: str) -> str | None:
    """The data's as-of date from `mart.column` (vars.reports.as_of), None if absent."""
    mart, _, column = where.partition(".")
    if not re.fullmatch(r"\w+", mart) or not re.fullmatch(r"\w+", column):
        raise ReportError(f"vars.reports.as_of {where!r}: write it as mart.column")
    try:
        value = con.execute(f'select max("{column}") from marts."{mart}"').fetchone()[0]
    except duckdb.Error:
        return None
    return None if value is None else formats_mod.fmt_date(value)


def _recorded_settings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """marts.rpt_report_settings (what the build formatted for), None if absent."""
    try:
        return con.execute("select * from marts.rpt_report_settings").df()
    except duckdb.CatalogException:
        return None


def render_site(
    db_path: Path,
    reports_dir: Path,
    out_dir: Path,
    settings: SiteSettings | None = None,
) -> Path:
    """Render every page in reports_dir/pages to out_dir/site (HTML) and out_dir/markdown.

    Currency, symbol and locale are what the build recorded in
    marts.rpt_report_settings; formats and caps come from the `reports` var of the
    dbt_project.yml beside reports_dir, labels from the models' YAML there.
    Pages are rendered into a temporary folder inside out_dir; the previous
    site and markdown are replaced only after every page rendered.
    """
    if not db_path.exists():
        raise ReportError(f"no warehouse at {db_path}: run `marketing-engine build` first")
    settings = settings or _load_settings(reports_dir.resolve().parent)
    formats_mod.activate(settings.config)
    pages = sorted(
        (parse_page(p) for p in (reports_dir / "pages").glob("*.md")),
        key=lambda p: (p.order, p.slug),
    )
    if not pages:
        raise ReportError(f"no pages in {reports_dir / 'pages'}")
    for page in pages:
        check_marts_only(page)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".render-", dir=out_dir) as staging:
        staged = Path(staging)
        _render_into(db_path, reports_dir, pages, staged / "site", staged / "markdown", settings)
        for name in ("site", "markdown"):
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            (staged / name).rename(target)
    return out_dir / "site" / "index.html"


def _render_into(
    db_path: Path,
    reports_dir: Path,
    pages: list[Page],
    site: Path,
    md_dir: Path,
    settings: SiteSettings,
) -> None:
    import json

    site.mkdir(parents=True)
    md_dir.mkdir(parents=True)
    shutil.copytree(reports_dir / "assets", site / "assets")
    shutil.copytree(vendor_dir(), site / "assets" / "vendor")
    env = make_environment(reports_dir / "templates")
    layout = env.get_template("layout.html")
    nav = [{"slug": p.slug, "title": p.title} for p in pages]
    manifest = []
    stamp = settings.built_at or built_at()
    with duckdb.connect(str(db_path), read_only=True) as con:
        settings.config = formats_mod.from_build(settings.config, _recorded_settings(con))
        formats_mod.activate(settings.config)
        as_of = _data_as_of(con, settings.as_of)
        writer = CsvWriter(con, site)
        for page in pages:
            rendered = render_page(page, run_queries(con, page), env, settings, writer)
            target = "index" if page is pages[0] else page.slug
            text = layout.render(
                title=page.title,
                nav=nav,
                current=page.slug,
                body=Markup(rendered.html),
                index_slug=pages[0].slug,
                blocks=Markup(script_json(rendered.blocks)),
                config=Markup(script_json(settings.config.to_json())),
                built_at=stamp,
                as_of=as_of,
            )
            size = len(text.encode())
            if size > settings.page_weight_limit:
                for block in rendered.blocks.values():
                    block["weight"] = len(script_json(block))
                raise ReportError(
                    page_weight_error(page.slug, size, settings.page_weight_limit, rendered.blocks)
                )
            (site / f"{target}.html").write_text(text)
            (md_dir / f"{page.slug}.md").write_text(f"# {page.title}\n\n{rendered.markdown}\n")
            manifest.append(
                {
                    "page": page.slug,
                    "file": f"{target}.html",
                    "title": page.title,
                    "notice": rendered.notice,
                    "figures": rendered.figures,
                }
            )
    (site / "figures.json").write_text(
        json.dumps({"built_at": stamp, "data_as_of": as_of, "pages": manifest}, indent=2) + "\n"
    )
