"""What the last `marketing-engine build` did, so `publish` ships only a complete, passing build.

`build` writes a small JSON file beside the build warehouse before dbt starts
(outcome "running") and again when it ends. `publish` reads it and refuses a
build that failed, was partial (`--select`), is still running, or whose file
changed since (dbt run by hand), and checks that every public mart in the
manifest exists in the build file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

SUCCESS = "success"
FAILED = "failed"
RUNNING = "running"


class PublishRefused(Exception):
    """The build file is not a complete, passing build; the message says why and what to do."""


@dataclass(frozen=True)
class BuildStatus:
    outcome: str
    selector: str | None
    started_at: str
    finished_at: str | None = None
    invocation_id: str | None = None
    build_db_size: int | None = None
    build_db_mtime_ns: int | None = None

    @property
    def is_partial(self) -> bool:
        return bool(self.selector)


def status_path(build_db: Path) -> Path:
    """The status file beside the build warehouse: build.duckdb -> build.status.json."""
    return build_db.with_name(build_db.stem + ".status.json")


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def write_status(build_db: Path, status: BuildStatus) -> Path:
    """Write `status` atomically (a reader never sees half a file)."""
    path = status_path(build_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    if status.outcome != RUNNING and build_db.exists():
        stat = build_db.stat()
        status = BuildStatus(
            **{
                **asdict(status),
                "build_db_size": stat.st_size,
                "build_db_mtime_ns": stat.st_mtime_ns,
            }
        )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(status), indent=2) + "\n")
    tmp.replace(path)
    return path


def read_status(build_db: Path) -> BuildStatus | None:
    path = status_path(build_db)
    if not path.exists():
        return None
    try:
        return BuildStatus(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


def check_publishable(build_db: Path, manifest_path: Path, schemas: tuple[str, ...]) -> None:
    """Raise PublishRefused unless `build_db` holds a complete build that passed."""
    if not build_db.exists():
        raise PublishRefused(f"no build warehouse at {build_db}; run `marketing-engine build`.")
    status = read_status(build_db)
    if status is None:
        raise PublishRefused(
            f"no record of a `marketing-engine build` for {build_db} "
            f"({status_path(build_db).name} is missing or unreadable); run "
            "`marketing-engine build` (a dbt run by hand is not published)."
        )
    if status.outcome == RUNNING:
        raise PublishRefused(
            f"the build started at {status.started_at} did not finish (still running or "
            "interrupted); run `marketing-engine build` again."
        )
    if status.outcome != SUCCESS:
        raise PublishRefused(
            f"the last build (started {status.started_at}) failed; fix what it reported "
            "and run `marketing-engine build` again."
        )
    if status.is_partial:
        raise PublishRefused(
            f"the last build was partial (--select {status.selector}); only a full "
            "`marketing-engine build` is published."
        )
    stat = build_db.stat()
    if (stat.st_size, stat.st_mtime_ns) != (status.build_db_size, status.build_db_mtime_ns):
        raise PublishRefused(
            f"{build_db} changed after the last `marketing-engine build` finished "
            f"({status.finished_at}), e.g. by a dbt run by hand; run "
            "`marketing-engine build` again."
        )
    missing = missing_public_models(build_db, manifest_path, schemas)
    if missing:
        raise PublishRefused(
            f"{len(missing)} public model(s) are missing from {build_db}: "
            f"{', '.join(missing)}; run a full `marketing-engine build`."
        )


def missing_public_models(build_db: Path, manifest_path: Path, schemas: tuple[str, ...]) -> list:
    """Enabled models of the manifest in a public schema that the build file lacks."""
    if not manifest_path.exists():
        raise PublishRefused(
            f"no dbt manifest at {manifest_path}; run `marketing-engine build` again."
        )
    manifest = json.loads(manifest_path.read_text())
    expected = sorted(
        f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and node.get("schema") in schemas
        and (node.get("config") or {}).get("materialized") != "ephemeral"
        and (node.get("config") or {}).get("enabled", True)
    )
    with duckdb.connect(str(build_db), read_only=True) as con:
        present = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    return [name for name in expected if name not in present]
