"""Rows that repeat a key: which one is kept never depends on the order of the file.

An export can repeat a product or an order line with the fields the dedupe looks at
first (name and price; time, quantity and price) equal and another field changed.
The kept row must be the same whatever order the engine reads the rows in, or a
rebuild of the same files could move revenue to another category.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

from tests.conftest import PROJECT, cli_env

PRODUCTS = pd.DataFrame(
    {
        "product_id": ["P1", "P1", "P2", "P3", "P3"],
        "product_name": ["Silk saree", "Silk saree", "Lipstick", "Kurta", "Kurta"],
        # the same name and price: only the category tells the two P1 rows apart
        "category": ["Sarees", "Beauty", "Beauty", "Kurtas", "Kurtas"],
        # P3: an unreadable cost (null, with a field issue) and a blank one (null):
        # equal typed values, only the field issues tell them apart
        "list_price": ["100.00", "100.00", "5.00", "20.00", "20.00"],
        "unit_cost": ["60.00", "60.00", "2.00", "n/a", ""],
    }
)
LINES = pd.DataFrame(
    {
        "line_id": ["L1", "L1", "L2"],
        "order_id": ["O1", "O1", "O2"],
        "customer_id": ["C1", "C1", "C2"],
        "product_id": ["P1", "P1", "P2"],
        "ordered_at": ["2024-03-01 10:00:00", "2024-03-01 10:00:00", "2024-03-02 11:00:00"],
        "quantity": [1, 1, 2],
        "unit_price": ["100.00", "100.00", "5.00"],
        # the same time, quantity and price: the discount and channel differ
        "discount_amount": ["10.00", "0.00", "0.00"],
        "channel": ["store", "web", "web"],
    }
)


def kept_rows(workdir: Path, order: slice) -> tuple[list, list]:
    """Build the base models from the files with their rows in `order`; the kept
    products and lines."""
    raw = workdir / "raw"
    raw.mkdir(parents=True)
    pd.DataFrame({"customer_id": ["C1", "C2"]}).to_csv(raw / "customers.csv", index=False)
    PRODUCTS.iloc[order].to_csv(raw / "products.csv", index=False)
    LINES.iloc[order].to_csv(raw / "transactions.csv", index=False)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "run",
            "--select",
            "+base_shop__order_lines",
            "--vars",
            json.dumps({"raw_data_dir": str(raw), "as_of_date": "2024-03-31"}),
        ],
        cwd=PROJECT,
        env={**cli_env(workdir), "DBT_PROFILES_DIR": str(PROJECT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(workdir / "build.duckdb"), read_only=True) as con:
        products = con.execute(
            "select product_id, category, len(field_issues) from staging.base_shop__products "
            "where quarantine_reason is null order by product_id"
        ).fetchall()
        lines = con.execute(
            "select line_id, discount_amount, channel from staging.base_shop__order_lines "
            "where quarantine_reason is null order by line_id"
        ).fetchall()
        repeated = con.execute(
            "select count(*) from staging.base_shop__order_lines "
            "where quarantine_reason = 'duplicate line_id (repeated row)'"
        ).fetchone()[0]
    assert repeated == 1
    return products, lines


def test_the_kept_row_of_a_repeated_key_does_not_depend_on_file_order(tmp_path):
    forward = kept_rows(tmp_path / "forward", slice(None))
    backward = kept_rows(tmp_path / "backward", slice(None, None, -1))
    assert forward == backward
    products, lines = forward
    # After the table's own keys, the remaining columns in the contract's order
    # decide: category 'Beauty' before 'Sarees'; discount 0.00 before 10.00;
    # then the row without a field issue before the one with.
    assert products == [("P1", "Beauty", 0), ("P2", "Beauty", 0), ("P3", "Kurtas", 0)]
    assert [(line_id, float(discount), channel) for line_id, discount, channel in lines] == [
        ("L1", 0.0, "web"),
        ("L2", 0.0, "web"),
    ]
