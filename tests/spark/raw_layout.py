"""The raw_data_dir of the Parquet build, laid out the ways a user's export arrives, so both
engines read every raw-file path and must agree on each:

- customers as CSV whose header is written for people ("Customer ID", " First Name"): both
  engines normalise it to the contract's names (DuckDB's read_csv(normalize_names) rule);
- transactions as a folder of Parquet parts (<name>/*.parquet) with a stray notes.txt beside
  the parts, which both engines skip (only *.parquet is read);
- backup/customers.parquet, a stale copy one level down: only top-level names count, so
  customers is read from customers.csv on both engines;
- every other table as <name>.parquet.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def human_header(column: str) -> str:
    """customer_id -> " Customer ID": words, title case, a leading space; normalises back."""
    words = [word.upper() if word == "id" else word.title() for word in column.split("_")]
    return " " + " ".join(words)


def lay_out(raw: Path) -> None:
    customers = raw / "customers.parquet"
    backup = raw / "backup"
    backup.mkdir()
    shutil.copy(customers, backup / "customers.parquet")
    table = pq.read_table(customers)
    table = table.rename_columns([human_header(name) for name in table.column_names])
    pacsv.write_csv(table, raw / "customers.csv")
    customers.unlink()

    lines = pq.read_table(raw / "transactions.parquet")
    parts = raw / "transactions"
    parts.mkdir()
    half = lines.num_rows // 2
    pq.write_table(lines.slice(0, half), parts / "part-0.parquet")
    pq.write_table(lines.slice(half), parts / "part-1.parquet")
    (parts / "notes.txt").write_text("exported by hand; the parts are the data\n")
    (raw / "transactions.parquet").unlink()


def read_all_text(raw: Path, table: str):
    """A raw table as all-text pandas (missing values as ""), whichever layout holds it."""
    import pandas as pd

    if (raw / f"{table}.csv").exists():
        frame = pd.read_csv(raw / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.columns = [name.strip().lower().replace(" ", "_") for name in frame.columns]
        return frame
    path = raw / f"{table}.parquet"
    parts = [path] if path.exists() else sorted((raw / table).glob("*.parquet"))
    frame = pa.concat_tables([pq.read_table(part) for part in parts]).to_pandas()
    return frame.astype(object).where(frame.notna(), "").astype(str)
