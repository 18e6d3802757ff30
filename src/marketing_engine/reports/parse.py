"""Read a page: front matter, named SQL blocks, components and their attributes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

QUERY_BLOCK = re.compile(r"```sql[ \t]+(\w+)[ \t]*\n(.*?)```", re.DOTALL)
COMPONENT_NAMES = (
    "BarChart",
    "LineChart",
    "ScatterPlot",
    "Heatmap",
    "DataTable",
    "BigValue",
    "Insights",
    "PhoneMockup",
    "Filters",
)
COMPONENT = re.compile(r"<(" + "|".join(COMPONENT_NAMES) + r")\s+(.*?)/>", re.DOTALL)
ATTRIBUTE = re.compile(r'(\w+)=(?:"([^"]*)"|\{(\w+)\}|([^\s/>]+))')
# The one shape a sentence figure may take: {{ query[row].column | format(digits) }}
FIGURE = re.compile(r"\{\{\s*(\w+)\[(\d+)\]\.(\w+)\s*(?:\|\s*(\w+)(?:\((\d+)\))?)?\s*\}\}")
TABLE_REFERENCE = re.compile(r"\b(?:from|join)\s+([a-z_][\w]*)\.([a-z_][\w]*)", re.IGNORECASE)
ALLOWED_SCHEMAS = {"marts"}


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


def attributes(text: str) -> dict[str, str]:
    """A component's attributes: name="text", name={query} or name=bare."""
    found = {}
    for name, quoted, reference, bare in ATTRIBUTE.findall(text):
        found[name] = quoted or reference or bare
    return found


def split_list(value: str | None) -> list[str]:
    """`a,b , c` -> [a, b, c]."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def pairs(value: str | None) -> dict[str, str]:
    """`col:fmt,col2:fmt2` -> {col: fmt, col2: fmt2}."""
    found = {}
    for item in split_list(value):
        key, _, val = item.partition(":")
        found[key.strip()] = val.strip()
    return found
