"""Evidence-style reports: markdown pages with named SQL queries and components.

A page in reports/pages/ is markdown with:
* front matter (`title`, `order`);
* fenced ```sql <name> blocks, run read-only against the marts (and only the
  marts: any other schema is refused);
* components referring to query results, Evidence style:
  <BarChart data={name} x=col y=col title="..." xlabel="..." ylabel="..."/>,
  LineChart (y may list several columns; band_low/band_high shade an
  interval), ScatterPlot, Heatmap, DataTable, BigValue, Insights (cluster
  cards with a button each) and PhoneMockup (SMS preview with selectors);
* Jinja expressions over the results for the written takeaways, e.g.
  {{ kpis[0].revenue | money }}.

Charts are drawn at build time as SVG (no CDN, works offline) and every chart
must have a title and axis labels. One Jinja Environment, StrictUndefined and
autoescaped, renders pages and layout, so data values are always escaped. A
page whose tables do not exist yet says so instead of failing the site; a page
whose optional source file was not given (front matter `needs_data:
query.column`, `needs_file`, `needs_what`) says in one sentence which file
would fill it.

Every figure a page shows in a sentence or a BigValue tile is recorded in
site/figures.json (page, label, query, source mart and column, row, raw value,
text shown) so tests can check it against an independent query. Sentence
figures have one shape only, `{{ query[row].column | format }}`: the page
presents a mart column, it computes nothing.

The site is rendered into a temporary folder and moved into place only when
every page rendered, so a failed render never leaves a half-written site.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import jinja2
import markdown
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from markupsafe import Markup

QUERY_BLOCK = re.compile(r"```sql[ \t]+(\w+)[ \t]*\n(.*?)```", re.DOTALL)
COMPONENT = re.compile(
    r"<(BarChart|LineChart|ScatterPlot|Heatmap|DataTable|BigValue|Insights|PhoneMockup)"
    r"\s+(.*?)/>",
    re.DOTALL,
)
ATTRIBUTE = re.compile(r'(\w+)=(?:"([^"]*)"|\{(\w+)\}|([^\s/>]+))')
# The one shape a sentence figure may take: {{ query[row].column | format(digits) }}
FIGURE = re.compile(r"\{\{\s*(\w+)\[(\d+)\]\.(\w+)\s*(?:\|\s*(\w+)(?:\((\d+)\))?)?\s*\}\}")
TABLE_REFERENCE = re.compile(r"\b(?:from|join)\s+([a-z_][\w]*)\.([a-z_][\w]*)", re.IGNORECASE)
ALLOWED_SCHEMAS = {"marts"}
PALETTE = [
    "#3b6ea8",
    "#e07b39",
    "#4c9f70",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
    "#2f4858",
]


class ReportError(Exception):
    """A page that cannot be rendered as written (names the page and the fix)."""


@dataclass
class Page:
    slug: str
    title: str
    order: int
    source: str
    queries: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)

    def mart(self, query: str) -> str | None:
        """The mart a query reads (the first marts.<name> it names)."""
        found = TABLE_REFERENCE.findall(self.queries.get(query, ""))
        return found[0][1] if found else None


# --- formatting ---------------------------------------------------------------------


def _missing(value) -> bool:
    """None or NaN: shown as "-" in tables, values and takeaways."""
    return value is None or (isinstance(value, float) and pd.isna(value))


def fmt_number(value, digits: int = 0) -> str:
    if _missing(value):
        return "-"
    return f"{float(value):,.{digits}f}"


def fmt_money(value) -> str:
    """Compact money: 5.30M, 12.4K, 950."""
    if _missing(value):
        return "-"
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:,.2f}{suffix}"
    return f"{value:,.0f}"


def fmt_pct(value, digits: int = 1) -> str:
    if _missing(value):
        return "-"
    return f"{100 * float(value):.{digits}f}%"


def fmt_ratio(value, digits: int = 2) -> str:
    """A ratio such as a lift: 2.99, never rounded to a whole number."""
    return fmt_number(value, digits)


def fmt_p(value, digits: int = 3) -> str:
    """A p-value: "<0.001" below the smallest step shown, never a bare 0 or 1.00."""
    if _missing(value):
        return "-"
    value = float(value)
    smallest = 10.0**-digits
    if value < smallest:
        return f"<{smallest:.{digits}f}"
    if value > 1 - smallest:
        return f">{1 - smallest:.{digits}f}"
    return f"{value:.{digits}f}"


def fmt_date(value) -> str:
    """An ISO date (the first 10 characters of a date or timestamp)."""
    return "-" if _missing(value) else str(value)[:10]


def fmt_month(value) -> str:
    """An ISO month, YYYY-MM."""
    return "-" if _missing(value) else str(value)[:7]


def fmt_text(value) -> str:
    return "-" if _missing(value) else str(value)


FORMATS = {
    "money": fmt_money,
    "pct": fmt_pct,
    "number": fmt_number,
    "ratio": fmt_ratio,
    "p": fmt_p,
    "date": fmt_date,
    "month": fmt_month,
    None: fmt_text,
}


def make_environment(templates: Path) -> jinja2.Environment:
    """The one Jinja environment: strict about undefined names, autoescaping everything."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=fmt_money,
        pct=fmt_pct,
        number=fmt_number,
        ratio=fmt_ratio,
        p=fmt_p,
        date=fmt_date,
        month=fmt_month,
    )
    return env


# --- pages and queries ------------------------------------------------------------------


def parse_page(path: Path) -> Page:
    text = path.read_text()
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        header, _, text = text[4:].partition("\n---\n")
        for line in header.splitlines():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    queries = {name: sql.strip() for name, sql in QUERY_BLOCK.findall(text)}
    body = QUERY_BLOCK.sub("", text)
    if "title" not in meta:
        raise ReportError(f"{path}: front matter needs a title (---\\ntitle: ...\\n---)")
    slug = re.sub(r"^\d+_", "", path.stem)  # 04_clusters.md -> clusters.html
    return Page(slug, meta["title"], int(meta.get("order", 99)), body, queries, meta)


def check_marts_only(page: Page) -> None:
    for name, sql in page.queries.items():
        for schema, table in TABLE_REFERENCE.findall(sql):
            if schema.lower() not in ALLOWED_SCHEMAS:
                raise ReportError(
                    f"page {page.slug}, query {name}: reads {schema}.{table}; report "
                    "queries may read the marts only (schema marts)."
                )


@dataclass
class QueryResults:
    frames: dict[str, pd.DataFrame]
    missing: list[str]


def run_queries(con: duckdb.DuckDBPyConnection, page: Page) -> QueryResults:
    frames, missing = {}, []
    for name, sql in page.queries.items():
        try:
            frames[name] = con.execute(sql).df()
        except duckdb.CatalogException as error:
            table = re.search(r"Table with name (\w+)", str(error))
            missing.append(table.group(1) if table else name)
        except duckdb.Error as error:
            raise ReportError(f"page {page.slug}, query {name} failed: {error}") from None
    return QueryResults(frames, missing)


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))


# --- components ----------------------------------------------------------------------------


def _attributes(text: str) -> dict[str, str]:
    found = {}
    for name, quoted, reference, bare in ATTRIBUTE.findall(text):
        found[name] = quoted or reference or bare
    return found


@dataclass
class RenderContext:
    page: Page
    frames: dict[str, pd.DataFrame]
    image_dir: Path
    env: jinja2.Environment
    counter: int = 0
    figures: list[dict] = field(default_factory=list)

    def figure(
        self,
        query: str,
        row: int,
        column: str,
        fmt: str | None,
        digits: int | None,
        label: str,
        kind: str,
    ) -> str:
        """Format one mart value for display and record it in the figure manifest."""
        frame = self.frames.get(query)
        if frame is None:
            raise ReportError(
                f"page {self.page.slug}: a figure reads {query}[{row}].{column}, but {query} "
                f"is not a query on the page ({', '.join(self.frames)})"
            )
        if column not in frame.columns:
            raise ReportError(
                f"page {self.page.slug}: a figure reads column {column} of query {query}, "
                f"which returns {', '.join(frame.columns)}"
            )
        if row >= len(frame):
            raise ReportError(
                f"page {self.page.slug}: a figure reads row {row} of query {query}, which "
                f"returned {len(frame)} row(s); give the page `needs_data:` for data that "
                "may be absent"
            )
        if fmt not in FORMATS:
            raise ReportError(
                f"page {self.page.slug}: unknown format {fmt!r} for {query}.{column} "
                f"(one of {', '.join(f for f in FORMATS if f)})"
            )
        value = _records(frame.iloc[[row]][[column]])[0][column]
        formatter = FORMATS[fmt]
        digits = int(digits) if digits is not None else None
        shown = formatter(value, digits) if digits is not None else formatter(value)
        self.figures.append(
            {
                "page": self.page.slug,
                "kind": kind,
                "label": label,
                "query": query,
                "mart": self.page.mart(query),
                "column": column,
                "row": row,
                "format": fmt,
                "digits": digits,
                "value": value,
                "shown": shown,
            }
        )
        return shown

    def frame(self, attrs: dict, component: str) -> pd.DataFrame:
        name = attrs.get("data")
        if name not in self.frames:
            raise ReportError(
                f"page {self.page.slug}: {component} uses data={{{name}}}, which "
                f"is not a query on the page ({', '.join(self.frames)})"
            )
        return self.frames[name]

    def require(self, attrs: dict, component: str, *names: str) -> None:
        lacking = [n for n in names if not attrs.get(n)]
        if lacking:
            raise ReportError(
                f"page {self.page.slug}: {component} needs {', '.join(lacking)} "
                "(every chart has a title and labelled axes)"
            )


def _save(fig, ctx: RenderContext, title: str) -> tuple[str, str]:
    ctx.counter += 1
    name = f"{ctx.page.slug}-{ctx.counter}.svg"
    fig.savefig(ctx.image_dir / name, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return name, title


def _tick(value, _position=None) -> str:
    """Compact tick labels: 1.5M, 250K, 0.35."""
    if abs(value) >= 1000:
        return fmt_money(value).replace(".00", "")
    return f"{value:g}"


def _axes(attrs: dict, size=(8, 3.6), numeric_y: bool = True):
    fig, ax = plt.subplots(figsize=size)
    if numeric_y:
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_tick))
    ax.set_title(attrs["title"], loc="left", fontsize=12, fontweight="bold")
    ax.set_xlabel(attrs["xlabel"])
    ax.set_ylabel(attrs["ylabel"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    return fig, ax


def bar_chart(attrs: dict, ctx: RenderContext):
    ctx.require(attrs, "BarChart", "data", "x", "y", "title", "xlabel", "ylabel")
    frame = ctx.frame(attrs, "BarChart")
    horizontal = attrs.get("horizontal") == "true"
    size = (8, max(3, 0.35 * len(frame))) if horizontal else (8, 4)
    fig, ax = _axes(attrs, size, numeric_y=not horizontal)
    labels = frame[attrs["x"]].astype(str).tolist()
    values = frame[attrs["y"]].astype(float).tolist()
    errors = None
    if attrs.get("err_low") and attrs.get("err_high"):
        # Asymmetric error bars from interval columns, e.g. a 95% uplift interval.
        low = frame[attrs["err_low"]].astype(float).to_numpy()
        high = frame[attrs["err_high"]].astype(float).to_numpy()
        errors = [
            [v - lo for v, lo in zip(values, low, strict=True)],
            [hi - v for v, hi in zip(values, high, strict=True)],
        ]
    if horizontal:
        reversed_errors = [e[::-1] for e in errors] if errors else None
        ax.barh(
            labels[::-1],
            values[::-1],
            color=PALETTE[0],
            xerr=reversed_errors,
            ecolor="#333333",
            capsize=3,
        )
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_tick))
        ax.grid(axis="x", alpha=0.3)
        ax.grid(axis="y", visible=False)
    else:
        ax.bar(labels, values, color=PALETTE[0], yerr=errors, ecolor="#333333", capsize=3)
        if len(frame) > 5:
            plt.setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    return _save(fig, ctx, attrs["title"])


def line_chart(attrs: dict, ctx: RenderContext):
    ctx.require(attrs, "LineChart", "data", "x", "y", "title", "xlabel", "ylabel")
    frame = ctx.frame(attrs, "LineChart")
    fig, ax = _axes(attrs)
    x = (
        pd.to_datetime(frame[attrs["x"]])
        if "date" in str(frame[attrs["x"]].dtype) or attrs.get("time") == "true"
        else frame[attrs["x"]]
    )
    if attrs.get("band_low") and attrs.get("band_high"):
        ax.fill_between(
            x,
            frame[attrs["band_low"]].astype(float),
            frame[attrs["band_high"]].astype(float),
            color=PALETTE[1],
            alpha=0.2,
            label=attrs.get("band_label", "interval"),
        )
    for index, column in enumerate(attrs["y"].split(",")):
        ax.plot(
            x,
            frame[column].astype(float),
            marker="o",
            markersize=3,
            color=PALETTE[index],
            label=column.replace("_", " "),
        )
    ax.legend(frameon=False, fontsize=8)
    fig.autofmt_xdate()
    return _save(fig, ctx, attrs["title"])


def scatter_plot(attrs: dict, ctx: RenderContext):
    ctx.require(attrs, "ScatterPlot", "data", "x", "y", "title", "xlabel", "ylabel")
    frame = ctx.frame(attrs, "ScatterPlot")
    fig, ax = _axes(attrs, (8, 5))
    series = attrs.get("series")
    groups = frame.groupby(series, sort=True) if series else [("", frame)]
    for index, (label, part) in enumerate(groups):
        ax.scatter(
            part[attrs["x"]],
            part[attrs["y"]],
            s=10,
            alpha=0.6,
            color=PALETTE[index % len(PALETTE)],
            label=str(label) or None,
        )
    if attrs.get("logy") == "true":
        ax.set_yscale("log")
    if series:
        ax.legend(frameon=False, fontsize=7, markerscale=2, ncol=2)
    return _save(fig, ctx, attrs["title"])


def heatmap(attrs: dict, ctx: RenderContext):
    ctx.require(attrs, "Heatmap", "data", "x", "y", "value", "title", "xlabel", "ylabel")
    frame = ctx.frame(attrs, "Heatmap")
    grid = frame.pivot_table(
        index=attrs["y"], columns=attrs["x"], values=attrs["value"], aggfunc="sum"
    )
    fig, ax = _axes(attrs, (9, max(3, 0.3 * len(grid))), numeric_y=False)
    ax.grid(False)
    image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="Blues")
    ax.set_xticks(
        range(len(grid.columns)),
        [str(c) for c in grid.columns],
        fontsize=7,
        rotation=90 if len(grid.columns) > 12 else 0,
    )
    ax.set_yticks(range(len(grid.index)), [str(i)[:10] for i in grid.index], fontsize=7)
    fig.colorbar(image, ax=ax, label=attrs.get("value_label", attrs["value"]))
    return _save(fig, ctx, attrs["title"])


def _figure_html(name: str, title: str) -> str:
    return (
        f'<figure class="chart"><img src="images/{html.escape(name)}" '
        f'alt="{html.escape(title)}"><figcaption>{html.escape(title)}</figcaption></figure>'
    )


def data_table(attrs: dict, ctx: RenderContext) -> str:
    frame = ctx.frame(attrs, "DataTable").head(int(attrs.get("rows", 20)))
    formats = dict(item.split(":") for item in attrs.get("formats", "").split(",") if item)
    unknown = sorted(set(formats.values()) - set(FORMATS))
    if unknown:
        raise ReportError(
            f"page {ctx.page.slug}: DataTable format {', '.join(unknown)} is not one of "
            f"{', '.join(f for f in FORMATS if f)}"
        )
    return ctx.env.get_template("table.html").render(
        title=attrs.get("title", ""),
        columns=list(frame.columns),
        rows=[
            [FORMATS.get(formats.get(c))(v) if formats.get(c) else _cell(v) for c, v in row.items()]
            for row in frame.to_dict("records")
        ],
    )


def _cell(value) -> str:
    if _missing(value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def big_value(attrs: dict, ctx: RenderContext) -> str:
    ctx.frame(attrs, "BigValue")  # names the page when data= is not a query
    title = attrs.get("title", attrs["value"])
    shown = ctx.figure(attrs["data"], 0, attrs["value"], attrs.get("fmt"), None, title, "tile")
    return ctx.env.get_template("big_value.html").render(title=title, value=shown)


def insights(attrs: dict, ctx: RenderContext) -> str:
    frame = ctx.frame(attrs, "Insights")
    clusters = [
        {
            "id": row["cluster_id"],
            "name": row["cluster_name"],
            "share": fmt_pct(row["customer_share"]),
            "revenue": fmt_pct(row["revenue_share"]),
            "insights": str(row["insights"]).split("\n"),
        }
        for row in frame.to_dict("records")
    ]
    return ctx.env.get_template("insights.html").render(clusters=clusters)


def phone_mockup(attrs: dict, ctx: RenderContext) -> str:
    frame = ctx.frame(attrs, "PhoneMockup")
    records = _records(frame)
    events = sorted({(r["event_id"], r["event_name"]) for r in records})
    offers = sorted({(r["offer_id"], r["offer_name"]) for r in records})
    return ctx.env.get_template("phone.html").render(
        messages=records,
        events=events,
        offers=offers,
        preview_name=attrs.get("name", "Priya"),
    )


CHARTS = {
    "BarChart": bar_chart,
    "LineChart": line_chart,
    "ScatterPlot": scatter_plot,
    "Heatmap": heatmap,
}
BLOCKS = {
    "DataTable": data_table,
    "BigValue": big_value,
    "Insights": insights,
    "PhoneMockup": phone_mockup,
}


# --- rendering -----------------------------------------------------------------------------


@dataclass
class RenderedPage:
    page: Page
    html: str
    markdown: str
    missing: list[str]
    figures: list[dict] = field(default_factory=list)
    notice: str | None = None


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
        empty = _missing(value) or value is pd.NA or value == 0
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
    page: Page, results: QueryResults, env: jinja2.Environment, image_dir: Path
) -> RenderedPage:
    if results.missing:
        notice = (
            f"This page needs {', '.join(sorted(set(results.missing)))}, which the "
            "warehouse does not have yet. Build the models that make them, then run "
            "`marketing-engine report` again."
        )
        return _notice_page(page, notice, results.missing)
    notice = _absent_data_notice(page, results.frames)
    if notice:
        return _notice_page(page, notice, [])
    ctx = RenderContext(page, results.frames, image_dir, env)
    html_parts, md_parts = {}, {}

    def replace(match: re.Match) -> str:
        kind, attrs = match.group(1), _attributes(match.group(2))
        token = f"COMPONENT{len(html_parts)}TOKEN"
        if kind in CHARTS:
            name, title = CHARTS[kind](attrs, ctx)
            html_parts[token] = _figure_html(name, title)
            md_parts[token] = f"![{title}](images/{name})"
        else:
            rendered = BLOCKS[kind](attrs, ctx)
            html_parts[token] = rendered
            md_parts[token] = _markdown_table(ctx.frame(attrs, kind), attrs)
        return f"\n\n{token}\n\n"

    def figure_call(match: re.Match) -> str:
        query, row, column, fmt, digits = match.groups()
        arguments = [repr(query), row, repr(column), repr(fmt), digits or "None"]
        return "{{ _figure(" + ", ".join(arguments) + ") }}"

    source = FIGURE.sub(figure_call, COMPONENT.sub(replace, page.source))
    context = {name: _records(frame) for name, frame in results.frames.items()}

    def record_text_figure(query, row, column, fmt, digits):
        return ctx.figure(query, row, column, fmt, digits, f"{query}.{column}", "text")

    try:
        text = env.from_string(source).render(**context, _figure=record_text_figure)
    except (jinja2.TemplateError, TypeError, ValueError, KeyError) as error:
        raise ReportError(f"page {page.slug}: the page text failed to render: {error}") from None
    body = markdown.markdown(text, extensions=["tables"])
    md_text = text
    for token, fragment in html_parts.items():
        body = body.replace(f"<p>{token}</p>", fragment)
        md_text = md_text.replace(token, md_parts[token])
    return RenderedPage(page, body, md_text, [], ctx.figures)


def _markdown_table(frame: pd.DataFrame, attrs: dict) -> str:
    frame = frame.head(int(attrs.get("rows", 20)))
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        cells = [_cell(v).replace("|", "/").replace("\n", " ") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_site(db_path: Path, reports_dir: Path, out_dir: Path) -> Path:
    """Render every page in reports_dir/pages to out_dir/site (HTML) and out_dir/markdown.

    Pages are rendered into a temporary folder inside out_dir; the previous
    site and markdown are replaced only after every page rendered.
    """
    if not db_path.exists():
        raise ReportError(f"no warehouse at {db_path}: run `marketing-engine build` first")
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
        _render_into(db_path, reports_dir, pages, staged / "site", staged / "markdown")
        for name in ("site", "markdown"):
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            (staged / name).rename(target)
    return out_dir / "site" / "index.html"


def _render_into(
    db_path: Path, reports_dir: Path, pages: list[Page], site: Path, md_dir: Path
) -> None:
    for directory in (site, md_dir):
        (directory / "images").mkdir(parents=True)
    shutil.copytree(reports_dir / "assets", site / "assets")
    env = make_environment(reports_dir / "templates")
    layout = env.get_template("layout.html")
    nav = [{"slug": p.slug, "title": p.title} for p in pages]
    manifest = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        for page in pages:
            rendered = render_page(page, run_queries(con, page), env, site / "images")
            target = "index" if page is pages[0] else page.slug
            (site / f"{target}.html").write_text(
                layout.render(
                    title=page.title,
                    nav=nav,
                    current=page.slug,
                    body=Markup(rendered.html),
                    index_slug=pages[0].slug,
                )
            )
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
    (site / "figures.json").write_text(json.dumps({"pages": manifest}, indent=2) + "\n")
    for image in (site / "images").iterdir():
        shutil.copy(image, md_dir / "images" / image.name)
