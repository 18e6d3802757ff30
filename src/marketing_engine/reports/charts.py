"""Chart components: validated specs that app.js draws with the vendored Apache ECharts.

Each chart ships its rows (only the columns it uses, plus the page-filter
columns) as inline JSON; the browser draws it with hover tooltips in the
columns' formats, legend toggles, zoom on time axes, and redraws it when a page
filter changes. `agg=sum` re-aggregates additive measures over the filtered
rows (group by x and series, sum y); a share or rate is not additive and is
refused.
"""

from __future__ import annotations

import html

import pandas as pd

from marketing_engine.reports.components import RenderContext
from marketing_engine.reports.data import embed, sample_every
from marketing_engine.reports.parse import ReportError, split_list

NOT_ADDITIVE = {"pct", "p", "ratio"}


def _frame_for(ctx: RenderContext, attrs: dict, component: str, keys: tuple[str, ...]):
    frame = ctx.frame(attrs, component)
    ctx.columns_exist(attrs, component, frame, *keys)
    used = []
    for key in keys:
        used += [c for c in split_list(attrs.get(key)) if c not in used]
    filters = ctx.filter_columns(frame)
    used += [c for c in filters.values() if c not in used]
    return frame[used], filters


def _chart(ctx: RenderContext, attrs: dict, component: str, kind: str, keys, extra=None) -> str:
    frame, filters = _frame_for(ctx, attrs, component, keys)
    note = ""
    if kind == "scatter":
        cap = int(attrs.get("cap", ctx.scatter_cap))
        total = len(frame)
        frame, step = sample_every(frame, cap)
        if step > 1:
            note = (
                f"Showing every {step}th of {total:,} points ({len(frame):,}); "
                "filters apply to the points shown."
            )
    columns = ctx.describe(attrs, frame, component)
    agg = attrs.get("agg")
    if agg not in (None, "sum"):
        raise ReportError(f"page {ctx.page.slug}: {component} agg={agg}: only agg=sum exists")
    if agg:
        formats = {c.name: c.format for c in columns}
        shares = [c for c in split_list(attrs.get("y")) if formats.get(c) in NOT_ADDITIVE]
        if shares:
            raise ReportError(
                f"page {ctx.page.slug}: {component} agg=sum over {', '.join(shares)}: a share "
                "or rate is not additive; chart the counts or amounts it is made of"
            )
    spec = {
        "kind": kind,
        "title": attrs["title"],
        "xlabel": attrs.get("xlabel", ""),
        "ylabel": attrs.get("ylabel", ""),
        "x": attrs.get("x"),
        "y": split_list(attrs.get("y")),
        "series": attrs.get("series"),
        "agg": agg,
        "drill": attrs.get("drill"),
        "filters": filters,
        "note": note,
        "data": embed(frame, columns, list(filters.values()), None, None, ""),
        **(extra or {}),
    }
    block_id = ctx.add_block(spec)
    return _figure_html(block_id, attrs["title"], note, spec)


def _figure_html(block_id: str, title: str, note: str, spec: dict) -> str:
    height = spec.get("height", 360)
    note_html = f'<p class="chart-note">{html.escape(note)}</p>' if note else ""
    # A vertical chart's category axis is named under it in the page (its labels wrap
    # or turn, so a name drawn by the chart would collide with them); time axes need none.
    if spec["kind"] in ("bar", "line") and not spec.get("horizontal") and not spec.get("time"):
        note_html = f'<p class="axis-name">{html.escape(spec["xlabel"])}</p>' + note_html
    caption = spec.get("caption")
    caption_html = f'<p class="chart-note">{html.escape(caption)}</p>' if caption else ""
    return (
        f'<figure class="chart" id="{html.escape(block_id)}">'
        f'<figcaption class="chart-title">{html.escape(title)}</figcaption>{caption_html}'
        f'<p class="filter-state" hidden></p>'
        f'<div class="chart-box" style="height:{int(height)}px" role="img" '
        f'aria-label="{html.escape(title)}"></div>{note_html}</figure>'
    )


def bar_chart(attrs: dict, ctx: RenderContext) -> str:
    ctx.require(attrs, "BarChart", "data", "x", "y", "title", "xlabel", "ylabel")
    frame = ctx.frame(attrs, "BarChart")
    horizontal = attrs.get("horizontal") == "true"
    labels = frame[attrs["x"]] if attrs["x"] in frame.columns else pd.Series(dtype=object)
    rows = labels.nunique() if len(labels) else len(frame)
    longest = int(labels.astype(str).str.len().max()) if len(labels) else 0
    per_row = 26 if longest <= 24 else 40  # long names take two lines
    extra = {
        "horizontal": horizontal,
        "stack": attrs.get("stack") == "true",
        "err_low": attrs.get("err_low"),
        "err_high": attrs.get("err_high"),
        "height": max(300, per_row * rows + 90) if horizontal else 360,
    }
    keys = ("x", "y", "series", "err_low", "err_high")
    return _chart(ctx, attrs, "BarChart", "bar", keys, extra)


def line_chart(attrs: dict, ctx: RenderContext) -> str:
    ctx.require(attrs, "LineChart", "data", "x", "y", "title", "xlabel", "ylabel")
    frame = ctx.frame(attrs, "LineChart")
    x = frame[attrs["x"]] if attrs["x"] in frame.columns else pd.Series(dtype=object)
    time = attrs.get("time") == "true" or "date" in str(x.dtype)
    dashed = split_list(attrs.get("dashed"))
    unknown = [c for c in dashed if c not in split_list(attrs.get("y"))]
    if unknown:
        raise ReportError(
            f"page {ctx.page.slug}: LineChart dashed={','.join(unknown)} names no y column "
            f"(y={attrs.get('y')})"
        )
    extra = {
        "time": time,
        "dashed": dashed,
        "band_low": attrs.get("band_low"),
        "band_high": attrs.get("band_high"),
        "band_label": attrs.get("band_label", "Interval"),
        "height": 380,
    }
    keys = ("x", "y", "series", "band_low", "band_high")
    return _chart(ctx, attrs, "LineChart", "line", keys, extra)


def scatter_plot(attrs: dict, ctx: RenderContext) -> str:
    ctx.require(attrs, "ScatterPlot", "data", "x", "y", "title", "xlabel", "ylabel")
    extra = {"logy": attrs.get("logy") == "true", "logx": attrs.get("logx") == "true"}
    extra["height"] = 420
    return _chart(ctx, attrs, "ScatterPlot", "scatter", ("x", "y", "series", "label"), extra)


def _category_order(frame, attrs: dict, axis: str) -> list[str]:
    """`x_order`/`y_order`: the categories listed, or one column of the data to sort by
    (e.g. `y_order=from_segment_order`, so the order follows the mart, not the page)."""
    given = split_list(attrs.get(f"{axis}_order"))
    category = attrs.get(axis)
    if len(given) == 1 and given[0] in frame.columns and category in frame.columns:
        ranked = frame[[category, given[0]]].dropna().sort_values(given[0], kind="stable")
        return [str(v) for v in ranked[category].drop_duplicates()]
    return given


def heatmap(attrs: dict, ctx: RenderContext) -> str:
    """A grid; `diagonal=muted` greys the x == y cells and keeps them out of the colour
    scale (in a migration matrix the stayers would swamp the movers)."""
    ctx.require(attrs, "Heatmap", "data", "x", "y", "value", "title", "xlabel", "ylabel")
    frame = ctx.frame(attrs, "Heatmap")
    rows = frame[attrs["y"]].nunique() if attrs["y"] in frame.columns else 10
    extra = {
        "value": attrs["value"],
        "value_label": attrs.get("value_label", attrs["value"]),
        "diagonal": attrs.get("diagonal"),
        "x_order": _category_order(frame, attrs, "x"),
        "y_order": _category_order(frame, attrs, "y"),
        "height": max(320, 30 * rows + 150),
    }
    extra["caption"] = f"Rows: {attrs['ylabel']}; columns: {attrs['xlabel']}."
    return _chart(ctx, attrs, "Heatmap", "heatmap", ("x", "y", "value"), extra)


CHARTS = {
    "BarChart": bar_chart,
    "LineChart": line_chart,
    "ScatterPlot": scatter_plot,
    "Heatmap": heatmap,
}
