"""One raw contract: var raw_tables in dbt_project.yml. Everything else that
describes the raw tables (the sample seeds' column types, the declared sources,
the generator's Parquet types) must agree with it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from marketing_engine.generate import GeneratorConfig, generate

PROJECT = Path(__file__).resolve().parents[2]
CONTRACT = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]["raw_tables"]


def _parquet_type_fits(arrow_type: pa.DataType, contract_type: str) -> bool:
    """A Parquet column of `arrow_type` casts to `contract_type` without loss."""
    compact = contract_type.lower().replace(" ", "")
    if compact.startswith("decimal("):
        precision, scale = (int(part) for part in compact[8:-1].split(","))
        if pa.types.is_integer(arrow_type):
            return True
        return (
            pa.types.is_decimal(arrow_type)
            and arrow_type.scale <= scale
            and arrow_type.precision - arrow_type.scale <= precision - scale
        )
    checks = {
        "integer": pa.types.is_integer,
        "date": pa.types.is_date,
        "timestamp": pa.types.is_timestamp,
        "boolean": pa.types.is_boolean,
        "varchar": pa.types.is_string,
    }
    return checks[compact](arrow_type)


def test_sample_seeds_declare_every_contract_column_as_text():
    seeds = yaml.safe_load((PROJECT / "seeds" / "sample" / "_sample__seeds.yml").read_text())
    declared = {seed["name"]: seed["config"]["column_types"] for seed in seeds["seeds"]}
    for table, contract in CONTRACT.items():
        if f"raw_{table}" not in declared:
            assert not contract["required"], f"no seed for required raw table {table}"
            continue
        column_types = declared[f"raw_{table}"]
        assert list(column_types) == list(contract["columns"]), table
        # "string": text on DuckDB (an alias of VARCHAR) and on Spark (which
        # rejects VARCHAR without a length).
        assert set(column_types.values()) == {"string"}, table


def test_declared_sources_are_the_contract_tables():
    sources = yaml.safe_load(
        (PROJECT / "models" / "staging" / "shop" / "_shop__sources.yml").read_text()
    )["sources"]
    (shop,) = [source for source in sources if source["name"] == "shop"]
    assert [table["name"] for table in shop["tables"]] == list(CONTRACT)


@pytest.fixture(scope="module")
def generated_parquet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("contract")
    generate(GeneratorConfig(customers=80, seed=3, dirty_rows=False), out, "parquet")
    return out


def test_generator_parquet_types_fit_the_contract(generated_parquet):
    written = sorted(path.stem for path in generated_parquet.glob("*.parquet"))
    assert "transactions" in written and "customers" in written
    for table in written:
        schema = pq.read_schema(generated_parquet / f"{table}.parquet")
        contract = CONTRACT[table]["columns"]
        assert schema.names == list(contract), table
        for column, contract_type in contract.items():
            arrow_type = schema.field(column).type
            assert _parquet_type_fits(arrow_type, contract_type), (table, column, arrow_type)


def test_the_fit_check_can_fail():
    assert not _parquet_type_fits(pa.decimal128(18, 3), "decimal(18, 2)")
    assert not _parquet_type_fits(pa.string(), "date")
    assert not _parquet_type_fits(pa.int32(), "varchar")


class _Returned(Exception):
    """How dbt's return() hands a macro's value back."""

    def __init__(self, value):
        self.value = value


def _spark_normalized_name(header: str) -> str:
    """macros/portable/raw_files.sql normalized_column_name(header), rendered with Jinja."""
    import re

    import jinja2

    text = (PROJECT / "macros" / "portable" / "raw_files.sql").read_text()
    start = text.index("{% macro normalized_column_name(")
    end = text.index("{% endmacro %}", start) + len("{% endmacro %}")

    def dbt_return(value):
        raise _Returned(value)

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    template = env.from_string(text[start:end] + "{{ normalized_column_name(header) }}")
    modules = type("Modules", (), {"re": re})
    try:
        template.render(header=header, modules=modules, **{"return": dbt_return})
    except _Returned as returned:
        return returned.value
    raise AssertionError("normalized_column_name returned nothing")


HEADERS = [
    " Customer ID",
    "First-Name",
    "  Email ",
    "2col",
    "ÄBC Straße",
    "a__b",
    "Order.Total",
    "CamelCase",
    "x \t y",
    "%%",
    "Ünïcödé_Ñame",
]


def test_spark_normalises_csv_headers_as_duckdb_does(tmp_path):
    """On Spark a CSV header is renamed by normalized_column_name; on DuckDB read_csv's
    normalize_names does it. Both must give the same names (DuckDB's keyword prefix aside:
    a keyword is never a contract column, checked below)."""
    import duckdb

    for index, header in enumerate(HEADERS):
        path = tmp_path / f"h{index}.csv"
        path.write_text(f'"{header}",other\n1,2\n', encoding="utf-8")
        ((duckdb_name,),) = duckdb.sql(
            f"select column_name from (describe select * from read_csv('{path}', "
            "header = true, all_varchar = true, normalize_names = true)) limit 1"
        ).fetchall()
        assert _spark_normalized_name(header) == duckdb_name, header


def test_contract_columns_are_normal_names_and_no_duckdb_keyword():
    import duckdb

    keywords = {
        row[0] for row in duckdb.sql("select keyword_name from duckdb_keywords()").fetchall()
    }
    for table, contract in CONTRACT.items():
        for column in contract["columns"]:
            assert column not in keywords, f"{table}.{column} is a DuckDB keyword"
            assert _spark_normalized_name(column) == column, f"{table}.{column}"
