"""The render context every component shares, and the non-chart, non-table components.

BigValue (a headline tile), Insights (cluster cards), PhoneMockup (the SMS
preview) and Filters (the page's filter bar). Charts live in charts.py,
DataTable in tables.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from marketing_engine import sms
from marketing_engine.reports import data as data_mod
from marketing_engine.reports.formats import FORMAT_NAMES, FORMATS, FormatConfig, fmt_pct
from marketing_engine.reports.labels import Column, describe, humanize
from marketing_engine.reports.parse import Page, ReportError, pairs, split_list

FILTER_LABELS = {
    "date": "Date",
    "segment": "RFM segment",
    "cluster": "Cluster",
    "city": "City",
    "channel": "Channel",
}


@dataclass
class RenderContext:
    page: Page
    frames: dict[str, pd.DataFrame]
    env: jinja2.Environment
    config: FormatConfig = field(default_factory=FormatConfig)
    docs: dict = field(default_factory=dict)
    filters: dict[str, list[str]] = field(default_factory=dict)
    writer: data_mod.CsvWriter | None = None
    table_cap: int = 1000
    scatter_cap: int = 3000
    counter: int = 0
    figures: list[dict] = field(default_factory=list)
    blocks: dict[str, dict] = field(default_factory=dict)

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
                f"(one of {', '.join(FORMAT_NAMES)})"
            )
        value = data_mod.plain(frame[column].iloc[row])
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

    def frame(self, attrs: dict, component: str, key: str = "data") -> pd.DataFrame:
        name = attrs.get(key)
        if name not in self.frames:
            raise ReportError(
                f"page {self.page.slug}: {component} uses {key}={{{name}}}, which "
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

    def columns_exist(self, attrs: dict, component: str, frame: pd.DataFrame, *keys) -> None:
        """Every column an attribute names is a column of the query."""
        for key in keys:
            for column in split_list(attrs.get(key)):
                if column not in frame.columns:
                    raise ReportError(
                        f"page {self.page.slug}: {component} {key}={column} is not a column "
                        f"of query {attrs.get('data')} ({', '.join(frame.columns)})"
                    )

    def describe(self, attrs: dict, frame: pd.DataFrame, component: str) -> list[Column]:
        formats = pairs(attrs.get("formats"))
        unknown = sorted(set(formats.values()) - set(FORMAT_NAMES))
        if unknown:
            raise ReportError(
                f"page {self.page.slug}: {component} format {', '.join(unknown)} is not one "
                f"of {', '.join(FORMAT_NAMES)}"
            )
        labels = pairs(attrs.get("labels"))
        return describe(frame, self.page.mart(attrs.get("data", "")), self.docs, labels, formats)

    def filter_columns(self, frame: pd.DataFrame) -> dict[str, str]:
        """{filter kind: column} for the page filters this result carries."""
        found = {}
        for kind, candidates in self.filters.items():
            column = next((c for c in candidates if c in frame.columns), None)
            if column:
                found[kind] = column
        return found

    def add_block(self, spec: dict) -> str:
        """Register a component spec (rendered by app.js); returns its element id."""
        self.counter += 1
        block_id = f"{self.page.slug}-{self.counter}"
        spec["id"] = block_id
        self.blocks[block_id] = spec
        return block_id


# --- components ----------------------------------------------------------------------


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
            "drill": attrs.get("drill"),
        }
        for row in data_mod.records(frame)
    ]
    return ctx.env.get_template("insights.html").render(clusters=clusters)


MESSAGE_COLUMNS = ("event_id", "event_name", "offer_id", "offer_name", "segment_name")


def phone_mockup(attrs: dict, ctx: RenderContext) -> str:
    """SMS preview: event -> offer -> segment choices that exist, facts beside the phone.

    `customers={query}` (segment_name, first_name) merges a real customer's first
    name per segment; without it (or without names in the data) the preview uses
    `name=` and says it is a sample name.
    """
    frame = ctx.frame(attrs, "PhoneMockup")
    lacking = [c for c in (*MESSAGE_COLUMNS, "message_text") if c not in frame.columns]
    if lacking:
        raise ReportError(
            f"page {ctx.page.slug}: PhoneMockup data={{{attrs.get('data')}}} lacks "
            f"{', '.join(lacking)}"
        )
    names: dict[str, str] = {}
    why = "sample name: the page gives no customers={query} with first names"
    if attrs.get("customers"):
        people = ctx.frame(attrs, "PhoneMockup", "customers")
        lacking_people = {"segment_name", "first_name"} - set(people.columns)
        if lacking_people:
            raise ReportError(
                f"page {ctx.page.slug}: PhoneMockup customers={{{attrs['customers']}}} lacks "
                f"{', '.join(sorted(lacking_people))}"
            )
        named = people.dropna(subset=["first_name"]).drop_duplicates("segment_name")
        names = {str(s): str(n) for s, n in zip(named.segment_name, named.first_name, strict=True)}
        why = (
            "sample name: first names are not in the published data "
            "(MARKETING_ENGINE_PUBLISH_NAMES=1 keeps them)"
        )
    messages = data_mod.records(frame)
    fallback = attrs.get("name", "Priya")
    for message in messages:
        for key in MESSAGE_COLUMNS:
            message[key] = "" if message[key] is None else str(message[key])
        # The facts beside the phone describe the text in it: the mart's
        # character_count counts the {first_name} token (braces are two septets
        # each in GSM-7), not the name the preview merges.
        shown = str(message["message_text"]).replace(
            "{first_name}", names.get(message["segment_name"], fallback)
        )
        message["preview_character_count"] = sms.length(shown)
        message["preview_sms_encoding"] = sms.encoding(shown)
        message["preview_sms_parts"] = sms.parts(shown)
    spec = {
        "kind": "phone",
        "messages": messages,
        "names": names,
        "fallback_name": fallback,
        "fallback_why": why,
        "sender": attrs.get("sender", "Marketing"),
        "time": attrs.get("time", "10:30"),
    }
    block_id = ctx.add_block(spec)
    return ctx.env.get_template("phone.html").render(id=block_id)


def filters(attrs: dict, ctx: RenderContext) -> str:
    """The page's filter bar (its columns were read before any component rendered)."""
    kinds = [
        {"kind": kind, "label": FILTER_LABELS.get(kind) or humanize(kind), "columns": cols}
        for kind, cols in ctx.filters.items()
    ]
    block_id = ctx.add_block({"kind": "filters", "filters": kinds})
    return ctx.env.get_template("filters.html").render(id=block_id, filters=kinds)


def read_filters(source: str) -> dict[str, list[str]]:
    """{kind: candidate columns} from the page's <Filters .../> (one per page)."""
    from marketing_engine.reports.parse import COMPONENT, attributes

    found: dict[str, list[str]] = {}
    for kind, text in COMPONENT.findall(source):
        if kind == "Filters":
            for key, value in attributes(text).items():
                found[key] = split_list(value)
    return found


def page_weight_error(slug: str, size: int, limit: int, blocks: dict[str, dict]) -> str:
    biggest = max(blocks.values(), key=lambda b: b.get("weight", 0), default=None)
    if biggest is None:
        return f"page {slug} weighs {size / 1e6:.2f} MB, over the {limit / 1e6:.2f} MB limit"
    name = biggest.get("title") or biggest["id"]
    if biggest["kind"] == "table":
        fix = "give it a smaller cap= (the full result is downloaded as CSV)"
    elif biggest["kind"] == "scatter":
        fix = "give it a smaller cap= (points shown)"
    else:
        fix = "chart a mart at the chart's grain (an rpt_ mart) instead of a row per customer"
    return (
        f"page {slug} weighs {size / 1e6:.2f} MB, over the {limit / 1e6:.2f} MB limit; "
        f"the biggest block is {name} ({biggest['weight'] / 1e6:.2f} MB): {fix}"
    )


def vendor_dir() -> Path:
    return Path(__file__).parent / "vendor"
