"""Field-level data quality on users' own files: a bad optional value is nulled and listed in
marts.fct_data_quality_issues while its row is kept; a row is quarantined only when it cannot be
used, with a reason that says why; numbers are kept exactly or rejected, never rounded."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketing_engine.generate import GeneratorConfig, generate
from tests.conftest import run_cli


def _edit_csv(path: Path, edit) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = edit(frame)
    frame.to_csv(path, index=False)
    return frame


def _sale_rows(lines: pd.DataFrame, owner_to_avoid: str) -> list[int]:
    sales = lines[(lines["line_type"] == "sale") & (lines["customer_id"] != owner_to_avoid)]
    return list(sales.index[:8])


@pytest.fixture(scope="module")
def dirty_build(tmp_path_factory):
    """One build over a raw_data_dir carrying one defect of each kind; returns
    (connection to build.duckdb, dict of the edited keys, CLI result)."""
    workdir = tmp_path_factory.mktemp("dirty")
    raw = workdir / "raw"
    generate(GeneratorConfig(customers=150, seed=3, dirty_rows=False), raw, "csv")
    keys: dict[str, object] = {}

    def customers(frame: pd.DataFrame) -> pd.DataFrame:
        keys["bad_birth"] = frame.loc[0, "customer_id"]
        frame.loc[0, "birth_date"] = "not a date"
        keys["bad_kids"] = frame.loc[1, "customer_id"]
        frame.loc[1, "num_kids"] = "two"
        keys["bad_opt_in"] = frame.loc[2, "customer_id"]
        frame.loc[2, "email_opt_in"] = "maybe"
        keys["compact_join"] = frame.loc[3, "customer_id"]
        frame.loc[3, "join_date"] = "20240115"
        keys["day_first_join"] = frame.loc[4, "customer_id"]
        frame.loc[4, "join_date"] = "11112024"  # 11 Nov 2024 day-first: not YYYYMMDD
        keys["negative_kids"] = frame.loc[6, "customer_id"]
        frame.loc[6, "num_kids"] = "-1"
        keys["duplicate"] = frame.loc[5, "customer_id"]
        frame.loc[5, "join_date"] = "2023-01-01"
        frame.loc[5, "birth_date"] = "1980-01-01"
        copy = frame.loc[[5]].copy()
        copy["email"] = "someone.else@example.com"
        copy["join_date"] = "2024-06-01"
        return pd.concat([frame, copy], ignore_index=True)

    _edit_csv(raw / "customers.csv", customers)

    def transactions(frame: pd.DataFrame) -> pd.DataFrame:
        rows = _sale_rows(frame, str(keys["bad_birth"]))
        keys["lines_of_bad_birth"] = int((frame["customer_id"] == keys["bad_birth"]).sum())
        keys["fractional"] = frame.loc[rows[0], "line_id"]
        keys["fractional_price"] = Decimal(frame.loc[rows[0], "unit_price"])
        frame.loc[rows[0], "quantity"] = "1.5"
        keys["too_precise_quantity"] = frame.loc[rows[1], "line_id"]
        frame.loc[rows[1], "quantity"] = "1.2345"
        keys["huge_price"] = frame.loc[rows[2], "line_id"]
        frame.loc[rows[2], "unit_price"] = "1e12"
        frame.loc[rows[2], "discount_amount"] = "0"
        keys["bad_discount"] = frame.loc[rows[3], "line_id"]
        frame.loc[rows[3], "discount_amount"] = "abc"
        keys["compact_date"] = frame.loc[rows[4], "line_id"]
        keys["compact_date_value"] = frame.loc[rows[4], "ordered_at"][:10]
        frame.loc[rows[4], "ordered_at"] = keys["compact_date_value"].replace("-", "")
        keys["seven_digits"] = frame.loc[rows[5], "line_id"]
        frame.loc[rows[5], "ordered_at"] = "2025031"
        keys["too_precise_price"] = frame.loc[rows[6], "line_id"]
        frame.loc[rows[6], "unit_price"] = "12.345"
        keys["float_noise"] = frame.loc[rows[7], "line_id"]
        frame.loc[rows[7], "quantity"] = "2.0000000000000004"
        # An order with a return whose sale lines are all unusable (prices written with a
        # thousands separator): the return cannot be netted against an order.
        returns = (frame["line_type"] == "return") & (frame["customer_id"] != keys["bad_birth"])
        returned = frame.loc[returns, "order_id"]
        keys["sale_lines_lost"] = returned[~returned.isin(frame.loc[rows, "order_id"])].iloc[-1]
        sales = (frame["order_id"] == keys["sale_lines_lost"]) & (frame["line_type"] == "sale")
        frame.loc[sales, "unit_price"] = "1,234.50"
        keys["return_of_lost_sale"] = frame.loc[
            (frame["order_id"] == keys["sale_lines_lost"]) & (frame["line_type"] == "return"),
            "line_id",
        ].tolist()
        # A return of an order placed before the export began.
        orphan = frame.loc[[frame.index[returns][0]]].copy()
        orphan["order_id"], orphan["line_id"] = "ORD-BEFORE-EXPORT", "ORD-BEFORE-EXPORT-R1"
        return pd.concat([frame, orphan], ignore_index=True)

    _edit_csv(raw / "transactions.csv", transactions)

    def coupons(frame: pd.DataFrame) -> pd.DataFrame:
        row = frame.index[frame["status"] == "claimed"][0]
        keys["bad_burn"] = frame.loc[row, "coupon_txn_id"]
        frame.loc[row, "burn_date"] = "soon"
        return frame

    _edit_csv(raw / "coupons.csv", coupons)

    def products(frame: pd.DataFrame) -> pd.DataFrame:
        keys["negative_price"] = frame.loc[0, "product_id"]
        frame.loc[0, "list_price"] = "-5"
        return frame

    _edit_csv(raw / "products.csv", products)

    known = pd.read_csv(raw / "customers.csv", dtype=str)["customer_id"].iloc[10]
    pd.DataFrame(
        {
            "send_id": ["S0", "S1"],
            "campaign_id": "C1",
            "customer_id": ["CUS-NOBODY", known],
            "variant": "A",
            "is_holdout": "false",
        }
    ).to_csv(raw / "campaign_sends.csv", index=False)
    pd.DataFrame({"send_id": ["S0", "S1"], "is_converted": "false", "revenue": "0"}).to_csv(
        raw / "campaign_responses.csv", index=False
    )
    keys["raw"] = raw

    result = run_cli(workdir, "build", "--raw-data-dir", str(raw))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    con = duckdb.connect(str(workdir / "build.duckdb"), read_only=True)
    yield con, keys, result
    con.close()


def _transaction_rows(build: Path) -> tuple[int, int]:
    """(kept, quarantined) transaction rows in a build file."""
    with duckdb.connect(str(build), read_only=True) as con:
        return con.execute(
            "select (select count(*) from staging.stg_shop__order_lines), "
            "(select count(*) from staging.stg_shop__quarantined_rows "
            "where source_table = 'transactions')"
        ).fetchone()


def _issues(con, table: str, key: str) -> dict[str, tuple[str, str]]:
    rows = con.execute(
        "select column_name, raw_value, issue from marts.fct_data_quality_issues "
        "where table_name = ? and row_key = ?",
        [table, key],
    ).fetchall()
    return {column: (raw, issue) for column, raw, issue in rows}


def _reason(con, table: str, key: str) -> list[str]:
    return [
        reason
        for (reason,) in con.execute(
            "select quarantine_reason from staging.stg_shop__quarantined_rows "
            "where source_table = ? and row_key = ?",
            [table, key],
        ).fetchall()
    ]


def test_bad_birth_date_keeps_the_customer_and_all_their_lines(dirty_build):
    con, keys, _ = dirty_build
    customer = keys["bad_birth"]
    birth = con.execute(
        "select birth_date from marts.dim_customers where customer_id = ?", [customer]
    ).fetchall()
    assert birth == [(None,)]
    lines = con.execute(
        "select count(*) from marts.fct_order_lines where customer_id = ?", [customer]
    ).fetchone()[0]
    assert lines == keys["lines_of_bad_birth"] > 0
    raw, issue = _issues(con, "customers", customer)["birth_date"]
    assert raw == "not a date" and issue.startswith("unparseable birth_date")


@pytest.mark.parametrize(
    ("key", "column", "raw_value", "issue_start"),
    [
        ("bad_kids", "num_kids", "two", "unparseable num_kids"),
        ("bad_opt_in", "email_opt_in", "maybe", "unparseable email_opt_in"),
        ("day_first_join", "join_date", "11112024", "unparseable join_date"),
        ("negative_kids", "num_kids", "-1", "negative num_kids"),
    ],
)
def test_bad_optional_customer_values_are_listed_and_the_row_kept(
    dirty_build, key, column, raw_value, issue_start
):
    con, keys, _ = dirty_build
    customer = keys[key]
    assert (
        con.execute(
            "select count(*) from staging.stg_shop__customers where customer_id = ?", [customer]
        ).fetchone()[0]
        == 1
    )
    raw, issue = _issues(con, "customers", customer)[column]
    assert raw == raw_value and issue.startswith(issue_start)


def test_optional_values_in_other_tables_are_listed_and_rows_kept(dirty_build):
    con, keys, _ = dirty_build
    assert _issues(con, "transactions", keys["bad_discount"])["discount_amount"][0] == "abc"
    assert con.execute(
        "select discount_amount from marts.fct_order_lines where line_id = ?",
        [keys["bad_discount"]],
    ).fetchall() == [(Decimal("0.00"),)]
    assert _issues(con, "coupons", keys["bad_burn"])["burn_date"][0] == "soon"
    assert _reason(con, "coupons", keys["bad_burn"]) == []
    assert _issues(con, "products", keys["negative_price"])["list_price"][1] == (
        "negative list_price"
    )
    assert con.execute(
        "select list_price from staging.stg_shop__products where product_id = ?",
        [keys["negative_price"]],
    ).fetchall() == [(None,)]


def test_compact_yyyymmdd_dates_are_read_and_shorter_digit_runs_are_not(dirty_build):
    con, keys, _ = dirty_build
    assert con.execute(
        "select cast(join_date as varchar) from staging.stg_shop__customers where customer_id = ?",
        [keys["compact_join"]],
    ).fetchall() == [("2024-01-15",)]
    assert con.execute(
        "select cast(order_date as varchar) from marts.fct_order_lines where line_id = ?",
        [keys["compact_date"]],
    ).fetchall() == [(keys["compact_date_value"],)]
    assert _reason(con, "transactions", keys["seven_digits"])[0].startswith(
        "unparseable ordered_at '2025031'"
    )


def test_fractional_quantity_is_kept_exactly(dirty_build):
    con, keys, _ = dirty_build
    quantity, gross = con.execute(
        "select quantity, gross_amount from marts.fct_order_lines where line_id = ?",
        [keys["fractional"]],
    ).fetchone()
    assert quantity == Decimal("1.5")
    expected = (Decimal("1.5") * keys["fractional_price"]).quantize(Decimal("0.01"))
    assert abs(gross - expected) <= Decimal("0.01")


def test_quantity_with_too_many_decimals_is_quarantined_not_rounded(dirty_build):
    con, keys, _ = dirty_build
    reasons = _reason(con, "transactions", keys["too_precise_quantity"])
    assert reasons == [
        "quantity '1.2345' does not fit decimal(18, 3) exactly "
        "(too many decimals or digits; not rounded)"
    ]
    assert (
        con.execute(
            "select count(*) from marts.fct_order_lines where line_id = ?",
            [keys["too_precise_quantity"]],
        ).fetchone()[0]
        == 0
    )


def test_float_noise_in_a_quantity_is_not_a_defect(dirty_build):
    con, keys, _ = dirty_build
    assert con.execute(
        "select quantity from marts.fct_order_lines where line_id = ?", [keys["float_noise"]]
    ).fetchall() == [(Decimal("2.000"),)]


def test_sub_cent_price_is_rounded_to_the_cent_and_listed(dirty_build):
    con, keys, _ = dirty_build
    assert con.execute(
        "select unit_price from marts.fct_order_lines where line_id = ?",
        [keys["too_precise_price"]],
    ).fetchall() == [(Decimal("12.35"),)]
    raw, issue = _issues(con, "transactions", keys["too_precise_price"])["unit_price"]
    assert raw == "12.345" and issue == "unit_price 12.345 rounded to 12.35 (decimal(18, 2))"


def test_implausible_price_is_flagged_kept_and_warned(dirty_build):
    con, keys, result = dirty_build
    issues = _issues(con, "transactions", keys["huge_price"])
    assert issues["unit_price"][1].startswith("implausible unit_price")
    assert issues["line_amount"][1].startswith("implausible line_amount")
    assert (
        con.execute(
            "select count(*) from marts.fct_order_lines where line_id = ?", [keys["huge_price"]]
        ).fetchone()[0]
        == 1
    )
    flagged = con.execute(
        "select count(*) from marts.fct_data_quality_issues where issue like 'implausible %'"
    ).fetchone()[0]
    assert flagged == 2  # the 1e12 line only: ordinary prices are never flagged
    assert "assert_order_lines__prices_plausible" in result.stdout + result.stderr


def test_duplicate_customer_names_the_kept_row(dirty_build):
    con, keys, _ = dirty_build
    reasons = _reason(con, "customers", keys["duplicate"])
    assert reasons == [
        "duplicate customer_id: kept the row with join_date 2023-01-01; "
        "this row differs in email, join_date"
    ]
    kept = con.execute(
        "select email, cast(join_date as varchar) from staging.stg_shop__customers "
        "where customer_id = ?",
        [keys["duplicate"]],
    ).fetchall()
    assert (
        len(kept) == 1 and kept[0][1] == "2023-01-01" and kept[0][0] != ("someone.else@example.com")
    )


def test_cascade_names_the_quarantined_parent(dirty_build):
    con, _, _ = dirty_build
    assert _reason(con, "campaign_sends", "S0") == ["unknown customer_id"]
    assert _reason(con, "campaign_responses", "S0") == ["send S0 quarantined: unknown customer_id"]


def test_a_return_without_a_usable_sale_line_is_quarantined_naming_its_order(dirty_build):
    """Every return kept in fct_order_lines belongs to an order in fct_orders: a return whose
    sale lines were quarantined, or whose order is not in the file, is quarantined too (the
    build failed on fct_order_lines' relationships test before)."""
    con, keys, _ = dirty_build
    lost = str(keys["sale_lines_lost"])
    assert keys["return_of_lost_sale"]
    for line_id, order_id in [(line, lost) for line in keys["return_of_lost_sale"]] + [
        ("ORD-BEFORE-EXPORT-R1", "ORD-BEFORE-EXPORT")
    ]:
        assert _reason(con, "transactions", line_id) == [
            f"return for order '{order_id}' with no usable sale line (its sale lines are "
            "quarantined or not in the file)"
        ]
    assert con.execute(
        "select count(*) from marts.fct_order_lines where order_id in (?, 'ORD-BEFORE-EXPORT')",
        [lost],
    ).fetchone() == (0,)
    orphans = con.execute(
        "select count(*) from marts.fct_order_lines as lines "
        "anti join marts.fct_orders as orders using (order_id)"
    ).fetchone()
    assert orphans == (0,)


def test_every_raw_row_is_staged_or_quarantined(dirty_build):
    con, keys, _ = dirty_build
    for table, staged in [
        ("customers", "stg_shop__customers"),
        ("transactions", "stg_shop__order_lines"),
        ("coupons", "stg_shop__coupons"),
        ("products", "stg_shop__products"),
    ]:
        raw = len(pd.read_csv(keys["raw"] / f"{table}.csv", dtype=str))
        kept, quarantined = con.execute(
            f"select (select count(*) from staging.{staged}), "
            "(select count(*) from staging.stg_shop__quarantined_rows where source_table = ?)",
            [table],
        ).fetchone()
        assert kept + quarantined == raw, table


def test_parquet_double_quantity_is_kept_exactly_or_quarantined(tmp_path):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(customers=60, seed=5, dirty_rows=False), raw, "parquet")
    lines = pq.read_table(raw / "transactions.parquet")
    quantity = lines.column("quantity").to_pylist()
    sale = [i for i, kind in enumerate(lines.column("line_type").to_pylist()) if kind == "sale"]
    quantity = [float(q) for q in quantity]
    quantity[sale[0]], quantity[sale[1]] = 1.5, 1.2345
    index = lines.schema.get_field_index("quantity")
    lines = lines.set_column(index, "quantity", pa.array(quantity, pa.float64()))
    pq.write_table(lines, raw / "transactions.parquet")
    ids = lines.column("line_id").to_pylist()

    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True)
    assert con.execute(
        "select quantity from marts.fct_order_lines where line_id = ?", [ids[sale[0]]]
    ).fetchall() == [(Decimal("1.500"),)]
    reasons = _reason(con, "transactions", ids[sale[1]])
    assert len(reasons) == 1 and "does not fit decimal(18, 3)" in reasons[0]


@pytest.mark.parametrize(
    "defect", ["header_only", "no_readable_date", "decimal_comma", "before_as_of_date"]
)
def test_no_usable_transactions_is_its_own_clear_error(tmp_path, defect):
    raw = tmp_path / "raw"
    generate(GeneratorConfig(customers=30, seed=3, dirty_rows=False), raw, "csv")
    path = raw / "transactions.csv"
    if defect == "header_only":
        path.write_text(path.read_text().splitlines()[0] + "\n")
    elif defect == "decimal_comma":  # a European export: 11,77

        def commas(frame: pd.DataFrame) -> pd.DataFrame:
            frame["unit_price"] = frame["unit_price"].astype(str).str.replace(".", ",")
            return frame

        _edit_csv(path, commas)
    elif defect == "no_readable_date":

        def unreadable(frame: pd.DataFrame) -> pd.DataFrame:
            frame["ordered_at"] = "05/03/2025"
            return frame

        _edit_csv(path, unreadable)
    options = ["--as-of-date", "2000-01-01"] if defect == "before_as_of_date" else []
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw), *options)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "No usable transactions" in output and str(path) in output
    assert "Traceback" not in output
    assert "Got 1 result" not in output  # the downstream test failure it used to be
    if defect == "no_readable_date":
        assert "unparseable ordered_at '05/03/2025'" in output and "date_formats" in output
        assert "marketing-engine build --vars '{date_formats:" in output
    if defect == "decimal_comma":
        assert "unparseable unit_price '" in output
        assert "written with . as the decimal point and no thousands separators" in output
    if defect == "before_as_of_date":  # not a file defect: the advice is a later date
        assert "are dated on or after var as_of_date 2000-01-01" in output
        assert "Give a later as_of_date" in output and "date_formats" not in output
    assert not (tmp_path / "marketing.duckdb").exists()


def test_the_date_formats_the_error_suggests_read_a_day_first_export(tmp_path):
    """Every ordered_at written day-first with a time (15/03/2024 15:09:02): the error's
    --vars, pasted as given, reads every row (the first suggestion replaced the default
    list and had no time part, so it read none)."""
    import re

    raw = tmp_path / "raw"
    generate(GeneratorConfig(customers=30, seed=3, dirty_rows=False), raw, "csv")

    def day_first(frame: pd.DataFrame) -> pd.DataFrame:
        stamps = pd.to_datetime(frame["ordered_at"])
        frame["ordered_at"] = stamps.dt.strftime("%d/%m/%Y %H:%M:%S")
        return frame

    lines = _edit_csv(raw / "transactions.csv", day_first)
    failed = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    output = " ".join((failed.stdout + failed.stderr).split())  # unwrapped
    assert failed.returncode != 0
    (suggested,) = set(re.findall(r"--vars '(\{date_formats: \[[^\]]*\]\})'", output))
    passed = run_cli(tmp_path, "build", "--raw-data-dir", str(raw), "--vars", suggested)
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-3000:]
    assert _transaction_rows(tmp_path / "build.duckdb") == (len(lines), 0)


def test_implausible_price_is_flagged_with_few_lines_too(tmp_path):
    """Under 20 sale lines the MAD rule cannot run; 1000x off the median still flags."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "customers.csv").write_text("customer_id\nC1\nC2\nC3\n")
    lines = ["order_id,customer_id,ordered_at,quantity,unit_price"]
    lines += [f"O{i},C{i % 3 + 1},2024-0{i % 9 + 1}-10,1,{12 + i}.50" for i in range(9)]
    lines.append("O9,C1,2024-09-20,1,1e12")
    (raw / "transactions.csv").write_text("\n".join(lines) + "\n")
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    assert "assert_order_lines__prices_plausible.sql returned 2 rows" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        flagged = con.execute(
            "select row_key, column_name, issue from marts.fct_data_quality_issues "
            "where issue like 'implausible %' order by column_name"
        ).fetchall()
    assert [(key, column) for key, column, _ in flagged] == [
        ("O9-line", "line_amount"),
        ("O9-line", "unit_price"),
    ], flagged
    assert all("fewer than 20 lines" in issue for _, _, issue in flagged)


def test_a_file_mostly_quarantined_fails_the_build_and_is_not_published(tmp_path):
    """Over var quarantine_error_share (half) of the transactions unusable, e.g. prices
    written with thousands separators: the build fails, names the share, the limit and the
    cause, and the serving file is not written; a later as_of_date cut is no defect."""
    raw = tmp_path / "raw"
    generate(GeneratorConfig(customers=30, seed=3, dirty_rows=False), raw, "csv")

    def thousands(frame: pd.DataFrame) -> pd.DataFrame:
        bad = frame.index[: int(len(frame) * 0.6)]
        frame.loc[bad, "unit_price"] = "1,234.50"
        return frame

    _edit_csv(raw / "transactions.csv", thousands)
    serving = tmp_path / "marketing.duckdb"  # what BI tools read: the last good build
    serving.write_bytes(b"the last published warehouse")
    before = serving.stat().st_mtime_ns
    result = run_cli(tmp_path, "build", "--raw-data-dir", str(raw))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # the share as counted in the build file (the returns of orders whose sale lines were
    # lost are quarantined too), and the limit read from the run's vars (the manifest
    # holds "{{ var(...) }}" unrendered)
    kept, lost = _transaction_rows(tmp_path / "build.duckdb")
    share = f"{lost / (kept + lost):.0%} of its rows ({lost} of {kept + lost})"
    assert lost / (kept + lost) > 0.5
    assert f"{share} were quarantined, above the 50% that var quarantine_error_share" in output
    assert "not published" in output and "--vars '{quarantine_error_share: 1}'" in output
    assert "no thousands separators" in output
    assert "Traceback" not in output
    assert serving.read_bytes() == b"the last published warehouse"
    assert serving.stat().st_mtime_ns == before
