"""Real data for tests: the CDNOW master file (shipped in the lifetimes wheel) as raw files.

CDNOW_master.txt has one line per customer and day: customer id, date
(YYYYMMDD), number of CDs and dollar value. It becomes the two required raw
tables:

- customers.csv: customer_id only;
- transactions.csv: one order per line (order_id = the line's number in the
  file), ordered_at as an ISO date, quantity = number_of_cds and
  unit_price = dollar_value / number_of_cds when that division is exact to the
  cent (so quantity x unit_price reproduces dollar_value exactly); otherwise the
  line is written as quantity 1 at unit_price = dollar_value (the line's amount
  is kept exact, the CD count is not). The 80 lines with dollar_value 0 are
  written as they are and quarantined by the build as non-positive price:
  a zero-value line is not revenue, and the quarantine shows it.

`expected_*` helpers recompute figures from these files with pandas only,
independently of the warehouse's SQL.
"""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest


def cdnow_master_path() -> Path:
    """CDNOW_master.txt inside the installed lifetimes package; skip the test without it."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lifetimes is not installed (test dependency that ships CDNOW_master.txt)")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_master.txt"
    if not path.exists():
        pytest.skip(f"{path} not found in the installed lifetimes package")
    return path


def read_cdnow_master() -> pd.DataFrame:
    """customer_id (str), order_date (date), number_of_cds (int), dollar_value (Decimal)."""
    frame = pd.read_csv(
        cdnow_master_path(),
        sep=r"\s+",
        header=0,
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
        dtype=str,
    )
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].str.strip(),
            "order_date": pd.to_datetime(frame["date"], format="%Y%m%d").dt.date,
            "number_of_cds": frame["number_of_cds"].astype(int),
            "dollar_value": [Decimal(v).quantize(Decimal("0.01")) for v in frame["dollar_value"]],
        }
    )


def _quantity_and_price(cds: int, value: Decimal) -> tuple[int, Decimal]:
    if cds > 0:
        price = (value / cds).quantize(Decimal("0.01"))
        if price * cds == value:
            return cds, price
    return 1, value


def write_cdnow_raw_dir(out_dir: Path, shift_end_to: date | None = None) -> Path:
    """Write customers.csv and transactions.csv from CDNOW master into `out_dir`.

    shift_end_to moves every date by the same number of days so that the last
    order falls on that date (day of week and gaps are kept).
    """
    master = read_cdnow_master()
    shift = timedelta(0)
    if shift_end_to is not None:
        shift = shift_end_to - max(master["order_date"])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = [
        _quantity_and_price(c, v)
        for c, v in zip(master["number_of_cds"], master["dollar_value"], strict=True)
    ]
    transactions = pd.DataFrame(
        {
            "order_id": [f"CD{i + 1:06d}" for i in range(len(master))],
            "customer_id": master["customer_id"],
            "ordered_at": [(d + shift).isoformat() for d in master["order_date"]],
            "quantity": [q for q, _ in pairs],
            "unit_price": [f"{p:.2f}" for _, p in pairs],
        }
    )
    customers = pd.DataFrame({"customer_id": master["customer_id"].drop_duplicates()})
    customers.to_csv(out_dir / "customers.csv", index=False)
    transactions.to_csv(out_dir / "transactions.csv", index=False)
    return out_dir


def read_raw_transactions(raw_dir: Path) -> pd.DataFrame:
    """transactions.csv as written above, with amount = quantity x unit_price (Decimal)."""
    frame = pd.read_csv(Path(raw_dir) / "transactions.csv", dtype=str)
    frame["order_date"] = pd.to_datetime(frame["ordered_at"]).dt.date
    frame["amount"] = [
        int(q) * Decimal(p) for q, p in zip(frame["quantity"], frame["unit_price"], strict=True)
    ]
    return frame
