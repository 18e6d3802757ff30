"""Publish the marts from the build file to the serving file, atomically.

DuckDB allows one writer or many readers per file. BI tools read the serving
file; dbt writes the build file. Publishing writes a complete new serving file
beside the old one and renames it into place, so a reader holding the old file
keeps its snapshot, new connections see the new data, and a failed build never
touches what the BI tool reads. PII columns (meta: {pii: true} in the models'
YAML) are replaced by keyed hashes on the way.

The serving file is written in an older DuckDB storage format (STORAGE_VERSION,
default v1.0.0) because BI tools embed a DuckDB 1.x that cannot open files in
the 2.x format the project's own DuckDB writes by default. The hashing key is
stable per warehouse: MARKETING_ENGINE_PII_KEY, else a key generated once into
`.pii_key` beside the serving file (never inside it).

Each mart is read once: a view in the build file (fct_order_lines, which the
build keeps as a view over staging's parsed lines) becomes a table here. The
Parquet copy of every mart is written only on request (`parquet=True`, CLI
`--parquet`): at 1M customers it doubled the time of a publish.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from marketing_engine.build_status import check_publishable

PUBLIC_SCHEMAS = ("marts",)
PII_KEY_ENV = "MARKETING_ENGINE_PII_KEY"
KEEP_NAMES_ENV = "MARKETING_ENGINE_PUBLISH_NAMES"
NAME_COLUMNS = ("first_name",)
STORAGE_VERSION_ENV = "MARKETING_ENGINE_STORAGE_VERSION"
# Header version 64: every DuckDB since 1.0.0 (June 2024) opens it, including the
# 1.x builds inside BI tools. See README "Connect a BI tool" for the tested clients.
DEFAULT_STORAGE_VERSION = "v1.0.0"
PII_KEY_FILE = ".pii_key"
# DuckDB's memory limit for the build (profiles.yml reads the same variable with
# the same default) and for publish. At 1M customers the two largest SQL nodes,
# run alone, take ~17% longer at 3GB than at 5GB and peak at ~3 GB instead of
# ~5 GB; the whole build took 0.94x the time at 0.78x the memory (README "Benchmark").
MEMORY_LIMIT_ENV = "MARKETING_ENGINE_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"


class PublishConfigError(ValueError):
    """A publish setting is wrong; the message names it and the fix."""


@dataclass(frozen=True)
class PublishResult:
    serving_db: Path
    parquet_dir: Path | None  # None: no Parquet was requested
    tables: tuple[str, ...]
    hashed_columns: tuple[str, ...]
    storage_version: str
    key_source: str  # the env var name or the key file's path
    key_created: bool  # True when this publish generated the key file


def pii_columns(manifest_path: Path) -> dict[str, list[str]]:
    """Model name -> columns marked `meta: {pii: true}` in the dbt manifest."""
    if not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text())
    found: dict[str, list[str]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        columns = [
            name
            for name, column in node.get("columns", {}).items()
            if (column.get("meta") or {}).get("pii")
            or (column.get("config") or {}).get("meta", {}).get("pii")
        ]
        if columns:
            found[node["name"]] = columns
    return found


def storage_version() -> str:
    """The DuckDB storage version the serving file is written in."""
    return os.environ.get(STORAGE_VERSION_ENV, "").strip() or DEFAULT_STORAGE_VERSION


def memory_limit() -> str:
    """DuckDB's memory limit for publish (MARKETING_ENGINE_MEMORY_LIMIT, as the build's).

    Raises PublishConfigError naming the variable when DuckDB cannot read the value.
    """
    limit = os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    try:
        duckdb.connect(config={"memory_limit": limit}).close()
    except duckdb.Error as error:
        raise PublishConfigError(
            f"{MEMORY_LIMIT_ENV}={limit!r} is not a DuckDB memory limit (e.g. 3GB, 500MB): "
            f"{str(error).splitlines()[0]}"
        ) from error
    return limit


def connection_config(staging_file: Path, limit: str) -> dict:
    """Settings of publish's DuckDB: the memory limit, and spilling beside the staging file
    rather than in the working directory."""
    return {"temp_directory": f"{staging_file}.spill", "memory_limit": limit}


def pii_key(serving_db: Path) -> tuple[str, str, bool]:
    """The hashing key, where it came from, and whether this call created it.

    MARKETING_ENGINE_PII_KEY wins. Otherwise the key lives in `.pii_key` beside the
    serving file: created once (mode 0600) with a random secret, then reused, so the
    hashes stay the same across publishes of this warehouse. Deleting the file rotates it.
    """
    key = os.environ.get(PII_KEY_ENV, "")
    if key:
        return key, PII_KEY_ENV, False
    path = serving_db.parent / PII_KEY_FILE
    created = False
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        created = True
    try:
        key = path.read_text().strip()
    except OSError as error:
        raise PublishConfigError(
            f"cannot read the PII hashing key {path}: {error.strerror}; fix its permissions, "
            f"or set {PII_KEY_ENV}"
        ) from error
    if not key:
        raise PublishConfigError(
            f"the PII hashing key file {path} is empty; delete it to generate a new key "
            f"(every hash changes) or write the previous key back into it"
        )
    return key, str(path), created


# A long list naming, per row, a column and the raw value found in it (data-quality
# issues): where the named column is PII, the raw value is hashed and quoted values in
# the text columns are hidden, as the column itself is in its own mart.
NAMED_COLUMN, RAW_VALUE, VALUE_TEXTS = "column_name", "raw_value", ("issue",)
# Greedy: the raw value is quoted as written, so it may hold an apostrophe itself.
QUOTED_VALUE = "'.*'"
HIDDEN = "'(hidden)'"


def _row_pii_sql(
    column: str, pii_names: set[str], keep_names: bool, key_literal: str
) -> str | None:
    """The select expression of `column` in a list that names a column per row, or None
    when `column` is not one that can carry another column's raw value."""
    if column != RAW_VALUE and column not in VALUE_TEXTS:
        return None
    hidden = sorted(n for n in pii_names if not (keep_names and n in NAME_COLUMNS))
    if not hidden:
        return None
    names = ", ".join(_literal(n) for n in hidden)
    quoted = f'"{column}"'
    if column == RAW_VALUE:
        masked = f"sha256({key_literal} || cast({quoted} as varchar))"
    else:
        masked = f"regexp_replace({quoted}, {_literal(QUOTED_VALUE)}, {_literal(HIDDEN)}, 'g')"
    return f"case when {NAMED_COLUMN} in ({names}) then {masked} else {quoted} end as {quoted}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column_sql(column: str, pii: set[str], keep_names: bool, key_literal: str) -> str:
    quoted = f'"{column}"'
    if column not in pii or (keep_names and column in NAME_COLUMNS):
        return quoted
    if column in NAME_COLUMNS:
        return f"cast(null as varchar) as {quoted}"
    return f"sha256({key_literal} || cast({quoted} as varchar)) as {quoted}"


def publish(
    build_db: Path,
    serving_db: Path,
    manifest_path: Path,
    schemas: tuple[str, ...] = PUBLIC_SCHEMAS,
    parquet: bool = False,
) -> PublishResult:
    """Copy the public schemas of `build_db` into a fresh `serving_db`, then rename it in place.

    With `parquet`, also write one Parquet file per mart beside it (swapped in as a
    whole directory).

    Raises PublishRefused (before touching anything) unless `build_db` holds a
    complete build that passed, as recorded by `marketing-engine build`.
    """
    if not build_db.exists():
        raise FileNotFoundError(f"No build warehouse at {build_db}; run `marketing-engine build`.")
    check_publishable(build_db, manifest_path, schemas)
    limit = memory_limit()
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    staging_file = serving_db.with_name(f".{serving_db.name}.{os.getpid()}.tmp")
    parquet_dir = serving_db.with_name(serving_db.stem + "_parquet")
    parquet_tmp = parquet_dir.with_name(f".{parquet_dir.name}.{os.getpid()}.tmp")
    spill_dir = Path(f"{staging_file}.spill")
    for leftover in (staging_file, parquet_tmp, spill_dir):
        _remove(leftover)

    pii = pii_columns(manifest_path)
    keep_names = os.environ.get(KEEP_NAMES_ENV, "").lower() in ("1", "true", "yes")
    version = storage_version()
    key, key_source, key_created = pii_key(serving_db)
    key_literal = "'" + key.replace("'", "''") + "'"
    hashed: list[str] = []
    tables: list[str] = []
    # dbt qualifies a view's tables with the build file's catalog name (its stem):
    # attach it under that name so views resolve.
    build = build_db.stem.replace('"', '""')
    serving = "serving" if build_db.stem != "serving" else "serving_new"
    if parquet:
        parquet_tmp.mkdir(parents=True)
    try:
        # The staging file is attached, not opened, so its storage version can be set.
        with duckdb.connect(config=connection_config(staging_file, limit)) as con:
            try:
                con.execute(f"attach '{staging_file}' as {serving} (storage_version '{version}')")
            except duckdb.InvalidInputException as error:
                raise PublishConfigError(
                    f"{STORAGE_VERSION_ENV}={version!r} is not a storage version this "
                    f"DuckDB ({duckdb.__version__}) can write: {error}"
                ) from error
            con.execute(f"attach '{build_db}' as \"{build}\" (read_only)")
            for schema in schemas:
                con.execute(f'create schema if not exists {serving}."{schema}"')
                listed = con.execute(
                    "select table_name from information_schema.tables "
                    "where table_catalog = ? and table_schema = ? order by table_name",
                    [build_db.stem, schema],
                ).fetchall()
                for (table,) in listed:
                    columns = [
                        row[0]
                        for row in con.execute(
                            "select column_name from information_schema.columns "
                            "where table_catalog = ? and table_schema = ? "
                            "and table_name = ? order by ordinal_position",
                            [build_db.stem, schema, table],
                        ).fetchall()
                    ]
                    table_pii = set(pii.get(table, []))
                    expressions = [
                        _column_sql(c, table_pii, keep_names, key_literal) for c in columns
                    ]
                    if NAMED_COLUMN in columns and RAW_VALUE in columns:
                        pii_names = {name for names in pii.values() for name in names}
                        for i, column in enumerate(columns):
                            masked = _row_pii_sql(column, pii_names, keep_names, key_literal)
                            if masked is not None:
                                expressions[i] = masked
                                hashed.append(f"{table}.{column} (rows naming a PII column)")
                    select = ", ".join(expressions)
                    hashed += [f"{table}.{c}" for c in columns if c in table_pii]
                    con.execute(
                        f'create table {serving}."{schema}"."{table}" as '
                        f'select {select} from "{build}"."{schema}"."{table}"'
                    )
                    if parquet:
                        con.execute(
                            f'copy {serving}."{schema}"."{table}" to '
                            f"'{parquet_tmp / (table + '.parquet')}' (format parquet)"
                        )
                    tables.append(f"{schema}.{table}")
            con.execute(f'detach "{build}"')
            con.execute(f"checkpoint {serving}")
            con.execute(f"detach {serving}")
        os.replace(staging_file, serving_db)
        if parquet:
            _swap_directory(parquet_tmp, parquet_dir)
    except BaseException:
        _remove(staging_file)
        _remove(parquet_tmp)
        raise
    finally:
        _remove(spill_dir)
    return PublishResult(
        serving_db,
        parquet_dir if parquet else None,
        tuple(tables),
        tuple(hashed),
        version,
        key_source,
        key_created,
    )


def _swap_directory(new: Path, target: Path) -> None:
    """Replace directory `target` by `new`; the old copy is removed after the swap."""
    old = target.with_name(f".{target.name}.old")
    _remove(old)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.unlink()


def keyed_hash(value: str, key: str) -> str:
    """The hash `publish` writes for a PII value, for joining from outside."""
    return hashlib.sha256((key + value).encode()).hexdigest()
