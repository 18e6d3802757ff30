"""DataTable: a sortable, searchable, paged table with a CSV download of the whole result.

Columns get human labels and formats from the model docs (labels.py). A result
longer than `cap` (default vars.reports.table_cap) is capped in the page and
its full rows are written as CSV files (data.py); the table always says
"N of M" with the true M. `rows=` is the page size (it no longer truncates),
`drill=<filter kind>` makes that column's cells set the page filter.
"""

from __future__ import annotations

import html

import pandas as pd

from marketing_engine.reports.components import RenderContext
from marketing_engine.reports.data import embed
from marketing_engine.reports.formats import FORMATS
from marketing_engine.reports.parse import ReportError, split_list


def data_table(attrs: dict, ctx: RenderContext) -> str:
    frame = ctx.frame(attrs, "DataTable")
    ctx.columns_exist(attrs, "DataTable", frame, "columns")
    shown = split_list(attrs.get("columns")) or list(frame.columns)
    filters = ctx.filter_columns(frame)
    drill = attrs.get("drill")
    if drill and drill not in filters and drill not in ctx.filters:
        raise ReportError(
            f"page {ctx.page.slug}: DataTable drill={drill} names no page filter "
            f"(<Filters {drill}=column .../> on the page; filters: {', '.join(ctx.filters)})"
        )
    cap = int(attrs["cap"]) if attrs.get("cap") else ctx.table_cap
    columns = ctx.describe(attrs, frame, "DataTable")
    stem = f"{ctx.page.slug}-{attrs['data']}"
    if len(frame) > cap:
        # A capped list carries row counts per filter value, not per date: the date
        # filter does not apply to it (the page says so), rather than a wrong "of M".
        filters.pop("date", None)
    drill_column = filters.get(drill) if drill else None
    block = embed(
        frame,
        columns,
        list(filters.values()),
        cap,
        ctx.writer,
        stem,
        [drill_column] if drill_column else [],
    )
    spec = {
        "kind": "table",
        "title": attrs.get("title", ""),
        "shown": shown,
        "page_size": int(attrs.get("rows", 10)),
        "drill": drill,
        "drill_column": drill_column,
        "filters": filters,
        "stem": stem,
        "data": block,
    }
    block_id = ctx.add_block(spec)
    title = attrs.get("title", "")
    return (
        f'<section class="table-card" id="{html.escape(block_id)}">'
        + (f'<h3 class="table-title">{html.escape(title)}</h3>' if title else "")
        + '<p class="filter-state" hidden></p><div class="table-mount"></div></section>'
    )


def _cell(value, fmt: str | None) -> str:
    if fmt == "money_full":
        fmt = "money"
    if fmt == "number2":
        return FORMATS["number"](value, 2)
    return FORMATS.get(fmt, FORMATS[None])(value)


def markdown_table(frame: pd.DataFrame, ctx: RenderContext, attrs: dict, limit: int = 50) -> str:
    """The markdown copy of a table: human labels, formatted cells, first `limit` rows."""
    columns = ctx.describe(attrs, frame, "DataTable")
    head = frame.head(limit)
    lines = [
        "| " + " | ".join(c.label for c in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in head.itertuples(index=False):
        cells = [
            _cell(v, c.format).replace("|", "/").replace("\n", " ")
            for v, c in zip(row, columns, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if len(frame) > limit:
        lines.append(f"\n{limit} of {len(frame):,} rows.")
    return "\n".join(lines)
