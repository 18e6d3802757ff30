"""Query results on a page: run the page SQL, embed rows as JSON, write full CSV files.

The browser reads a page's data from inline JSON (fetch() does not work on
file://). A long result, such as a customer list at 1M customers, is capped in
the page: the first `cap` rows for every value of each page-filter column it
carries, with the row count of every filter combination (so "N of M" is always
the true M) and the full result as CSV files beside the page (all rows, and one
file per filter value), whose rows equal the query's.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from marketing_engine.reports.labels import Column
from marketing_engine.reports.parse import Page, ReportError


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


def plain(value):
    """A JSON-ready value: NaN/NA -> None, Decimal -> float, dates -> ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, pd.Timestamp | datetime):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return plain(pd.Timestamp(value))
    return str(value) if not isinstance(value, str) else value


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of JSON-ready values."""
    columns = list(frame.columns)
    return [
        {c: plain(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def rows(frame: pd.DataFrame) -> list[list]:
    return [[plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def script_json(value) -> str:
    """JSON safe inside a <script type="application/json"> element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:40] or "value"


@dataclass
class CsvWriter:
    """Writes a result and its per-value slices as CSV under site/data/."""

    con: duckdb.DuckDBPyConnection
    site: Path

    def write(self, frame: pd.DataFrame, stem: str, by: list[str]) -> dict:
        """The whole result and one file per value of each `by` column, rows in order.

        The frame is copied once into an in-memory DuckDB table and every file is
        written from that table: scanning a pandas frame of a million rows once per
        file took most of a 1M-customer site build.
        """
        folder = self.site / "data"
        folder.mkdir(exist_ok=True)
        scratch = duckdb.connect()
        scratch.register("report_rows", frame)
        scratch.execute("create table report_frame as select * from report_rows")
        scratch.unregister("report_rows")
        writer = CsvWriter(scratch, self.site)
        try:
            return writer._write_all(frame, stem, by)
        finally:
            scratch.close()

    def _write_all(self, frame: pd.DataFrame, stem: str, by: list[str]) -> dict:
        folder = self.site / "data"
        try:
            files: dict[str, Any] = {
                "all": self._copy("select * from report_frame", folder / f"{stem}.csv")
            }
            files["by"] = {}
            for column in by:
                values = frame[column].dropna().unique().tolist()
                per_value = {}
                for index, value in enumerate(sorted(values, key=str)):
                    literal = str(plain(value)).replace("'", "''")
                    sql = (
                        f'select * from report_frame where cast("{column}" as varchar) '
                        f"= '{literal}'"
                    )
                    name = f"{stem}--{_slug(column)}-{index}-{_slug(value)}.csv"
                    per_value[str(plain(value))] = self._copy(sql, folder / name)
                files["by"][column] = per_value
        finally:
            self.con.execute("drop table if exists report_frame")
        return files

    def _copy(self, sql: str, path: Path) -> str:
        query = spreadsheet_safe(self.con, sql)
        self.con.execute(f"copy ({query}) to '{path}' (header, delimiter ',')")
        return f"data/{path.name}"


# A text cell a spreadsheet would run as a formula (CSV injection: "=HYPERLINK(...)" in a
# customer name) is written with a leading apostrophe, which spreadsheets show as text.
# Numbers keep their sign. The same rule as csvCell in reports/assets/app.js, on the
# same cells: every value the page shows as text (VARCHAR and ENUM columns; numbers,
# dates and booleans are never text there). tests/formula_cases.py holds both sides' cases.
FORMULA_START = r"^[=+@\t\r-]"


def spreadsheet_safe(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """`sql` with every text cell that starts a formula prefixed by an apostrophe."""
    columns = ", ".join(
        _defused(name) if kind == "VARCHAR" or kind.startswith("ENUM(") else _quoted(name)
        for name, kind, *_ in con.execute(f"describe ({sql})").fetchall()
    )
    return f"select {columns} from ({sql})"


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _defused(column: str) -> str:
    quoted = _quoted(column)
    return (
        f"case when regexp_matches({quoted}::varchar, '{FORMULA_START}') "
        f"then chr(39) || {quoted}::varchar else {quoted}::varchar end as {quoted}"
    )


def embed(
    frame: pd.DataFrame,
    columns: list[Column],
    filter_columns: list[str],
    cap: int | None,
    writer: CsvWriter | None,
    stem: str,
    files_by: list[str] | None = None,
) -> dict:
    """The JSON block a chart or table reads: columns, rows, totals, files.

    Uncapped (rows <= cap): every row. Capped: the first `cap` rows overall and
    for every value of each filter column, the count of each filter combination
    and CSV files of the whole result.
    """
    block: dict = {"columns": [c.__dict__ for c in columns], "total": len(frame)}
    if cap is None or len(frame) <= cap:
        block["rows"] = rows(frame)
        block["capped"] = False
        return block
    keep = pd.Series(False, index=frame.index)
    positions = pd.Series(np.arange(len(frame)), index=frame.index)
    keep |= positions < cap
    for column in filter_columns:
        rank = frame.groupby(column, dropna=False, sort=False).cumcount()
        keep |= rank < cap
    block["rows"] = rows(frame[keep])
    block["capped"] = True
    block["cap"] = cap
    if filter_columns:
        counts = frame.groupby(filter_columns, dropna=False, sort=True).size().reset_index()
        block["counts"] = {"keys": filter_columns, "combos": rows(counts)}
    if writer is not None:
        block["files"] = writer.write(frame, stem, files_by or [])
    return block


def sample_every(frame: pd.DataFrame, cap: int) -> tuple[pd.DataFrame, int]:
    """Every k-th row so that at most `cap` remain (deterministic), and k."""
    if len(frame) <= cap:
        return frame, 1
    step = math.ceil(len(frame) / cap)
    return frame.iloc[::step], step
