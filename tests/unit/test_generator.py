"""The sample generator: deterministic, in step with the raw-table contract, realistic."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml

from marketing_engine.generate import GeneratorConfig, generate

PROJECT = Path(__file__).resolve().parents[2]


def _digest(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(GeneratorConfig(customers=1500, seed=7), out, "csv")
    return out


def test_same_seed_gives_the_same_bytes(generated, tmp_path):
    generate(GeneratorConfig(customers=1500, seed=7), tmp_path, "csv")
    assert _digest(tmp_path) == _digest(generated)


def test_another_seed_gives_other_data(generated, tmp_path):
    generate(GeneratorConfig(customers=1500, seed=8), tmp_path, "csv")
    assert _digest(tmp_path)["transactions.csv"] != _digest(generated)["transactions.csv"]


def test_parquet_output_has_the_same_rows_as_csv(generated, tmp_path):
    counts = generate(GeneratorConfig(customers=1500, seed=7), tmp_path, "parquet")
    con = duckdb.connect()
    for table, rows in counts.items():
        assert (
            con.execute(f"select count(*) from '{tmp_path / table}.parquet'").fetchone()[0] == rows
        )
        csv_rows = con.execute(
            f"select count(*) from read_csv('{generated / table}.csv', all_varchar = true)"
        ).fetchone()[0]
        assert csv_rows == rows


def test_columns_match_the_raw_table_contract(generated):
    spec = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]["raw_tables"]
    con = duckdb.connect()
    for table, contract in spec.items():
        if not (generated / f"{table}.csv").exists():
            assert not contract["required"], f"generator does not write required {table}"
            continue  # campaign data is yours to supply; the simulation stands in
        header = [
            column[0]
            for column in con.execute(
                f"select * from read_csv('{generated / table}.csv', all_varchar = true) limit 0"
            ).description
        ]
        assert header == list(contract["columns"]), table


def test_committed_sample_seeds_declare_every_column_as_text():
    seeds = yaml.safe_load((PROJECT / "seeds/sample/_sample__seeds.yml").read_text())["seeds"]
    spec = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]["raw_tables"]
    for seed in seeds:
        table = seed["name"].removeprefix("raw_")
        types = seed["config"]["column_types"]
        assert list(types) == list(spec[table]["columns"])
        # `string` is text on every engine: VARCHAR on DuckDB, STRING on Spark.
        assert set(types.values()) == {"string"}


def _lines(con: duckdb.DuckDBPyConnection, directory: Path) -> None:
    con.execute(f"""
        create or replace view lines as
        select t.customer_id, t.order_id, p.category,
               try_cast(t.ordered_at as timestamp) as ordered_at,
               try_cast(t.quantity as integer) * try_cast(t.unit_price as decimal(18, 2)) as amount
        from read_csv('{directory / "transactions.csv"}', all_varchar = true) as t
        left join read_csv('{directory / "products.csv"}', all_varchar = true) as p
            using (product_id)
        where t.line_type = 'sale'
    """)


def test_a_few_categories_carry_most_revenue(generated):
    con = duckdb.connect()
    _lines(con, generated)
    shares = con.execute(
        "select category, sum(amount) / sum(sum(amount)) over () as share "
        "from lines group by category order by share desc"
    ).fetchall()
    assert shares[0][0] == "Sarees"
    assert 0.22 <= shares[0][1] <= 0.38
    assert sum(share for _, share in shares[:3]) > 0.5


def test_customers_range_from_one_off_to_loyal(generated):
    con = duckdb.connect()
    _lines(con, generated)
    orders = [
        row[0]
        for row in con.execute(
            "select count(distinct order_id) from lines group by customer_id"
        ).fetchall()
    ]
    one_off = sum(1 for n in orders if n == 1) / len(orders)
    loyal = sum(1 for n in orders if n >= 20) / len(orders)
    assert 0.05 < one_off < 0.5
    assert 0.05 < loyal < 0.4


def test_diwali_lifts_sales_above_the_yearly_average(generated):
    con = duckdb.connect()
    _lines(con, generated)
    daily = dict(
        con.execute(
            "select cast(ordered_at as date), count(distinct order_id) from lines "
            "where ordered_at >= '2025-07-01' and ordered_at < '2026-07-01' group by 1"
        ).fetchall()
    )
    diwali = dt.date(2025, 10, 21)
    run_up = [daily.get(diwali - dt.timedelta(days=d), 0) for d in range(0, 7)]
    average = sum(daily.values()) / 365
    assert sum(run_up) / len(run_up) > 1.5 * average


def test_sample_includes_dirty_rows_to_exercise_cleaning(generated):
    con = duckdb.connect()
    bad = con.execute(
        f"select count(*) from read_csv('{generated / 'transactions.csv'}', all_varchar = true) "
        "where try_cast(unit_price as decimal(18, 2)) is null "
        "or try_strptime(ordered_at, '%Y-%m-%dT%H:%M:%S') is null "
        "or customer_id = 'CUS9999999'"
    ).fetchone()[0]
    assert bad >= 3


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    """`make sample` reproduces seeds/sample byte for byte (no hand edits, no drift)."""
    counts = generate(GeneratorConfig(), tmp_path, "csv", prefix="raw_")
    for table in counts:
        name = f"raw_{table}.csv"
        assert (tmp_path / name).read_bytes() == (PROJECT / "seeds/sample" / name).read_bytes(), (
            name
        )


def test_same_bytes_for_any_number_of_workers(tmp_path):
    # Small blocks so several workers each simulate several blocks of customers.
    config = GeneratorConfig(customers=2500, seed=11, dirty_rows=False, block_customers=600)
    digests = {}
    for fmt in ("parquet", "csv"):
        for workers in (1, 3):
            out = tmp_path / f"{fmt}-{workers}"
            generate(config, out, fmt, workers=workers)
            digests[fmt, workers] = _digest(out)
        assert digests[fmt, 1] == digests[fmt, 3], fmt
    assert len(digests["parquet", 1]) >= 9


def test_typed_parquet_holds_the_same_values_as_the_csv(tmp_path):
    """The Parquet path builds typed columns directly; they must equal the CSV text cast."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from marketing_engine.generate import PARQUET_TYPES

    config = GeneratorConfig(customers=1800, seed=12, dirty_rows=False, block_customers=700)
    generate(config, tmp_path / "csv", "csv")
    generate(config, tmp_path / "parquet", "parquet", workers=2)
    typed = pq.read_table(tmp_path / "parquet" / "transactions.parquet")
    text = pa_csv.read_csv(
        tmp_path / "csv" / "transactions.csv",
        convert_options=pa_csv.ConvertOptions(
            column_types={name: "string" for name in typed.column_names},
            strings_can_be_null=True,
        ),
    )
    cast = text.cast(
        pa.schema([pa.field(f.name, PARQUET_TYPES.get(f.name, f.type)) for f in text.schema])
    )
    assert typed.num_rows > 10_000
    assert typed.column_names == cast.column_names
    cast = cast.cast(typed.schema)  # Parquet stores timestamp[s] as timestamp[ms]
    for name in typed.column_names:
        assert typed[name].equals(cast[name]), name
