"""Benchmark and equality check: the project's Python models, one by one, on a built warehouse.

    nice python bench/python_models.py --build-db WORK/build.duckdb --target WORK/target \
        [--models cluster_assignments,cluster_profiles] [--profile] [--out results.json]

Runs each Python model's `model(dbt, session)` in this one process (as dbt-duckdb
does, so the in-process fit caches are shared the way they are in a build), in
the build's own order, on a scratch copy of a warehouse a `marketing-engine build`
made. Each model reads its refs from the copy's tables (the build's results), its
settings from the manifest, and writes its DataFrame to `bench_out.<model>` the
way dbt-duckdb materializes it. Per model it records the seconds of the call and
of the write, and whether the new table equals the build's table row for row
(both sorted on every column; floats compared exactly). So a run on the
warehouse a baseline commit built shows, for the code checked out now, both the
time per model and that nothing it publishes changed.

`--profile` writes a cProfile dump per model next to the results.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path

import duckdb
import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
# The build order of the Python models dbt runs after their SQL inputs (a
# topological order of their refs among themselves).
ORDER = [
    "clv_model_comparison",
    "clv_calibration",
    "clv_holdout_predictions",
    "clv_holdout_validation",
    "clv_model_parameters",
    "customer_lifetime_value",  # after clv_scored, the SQL model over the parameters
    "cluster_fit",  # before cluster_scores, the SQL model over the fit
    "cluster_assignments",
    "cluster_evaluation",
    "cluster_profiles",
    "customer_messages",
    "campaign_outcomes",
    "campaign_results",
    "sales_forecast",
    "forecast_backtest",
]


class _Config:
    def __init__(self, config: dict) -> None:
        self._config = config

    def __call__(self, **_: object) -> None:
        return None

    def get(self, key: str, default: object = None) -> object:
        return self._config.get(key, default)


class _Dbt:
    """The parts of dbt-duckdb's `dbt` object the project's models use."""

    def __init__(self, con, relations: dict[str, str], node: dict, this: str) -> None:
        self._con, self._relations = con, relations
        self.config = _Config(node["config"])
        self.this = this
        self.is_incremental = False

    def ref(self, name: str):
        return self._con.table(self._relations[name])


def _load_model(path: Path):
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def _same(con, built: str, fresh: str) -> tuple[bool, str]:
    """Equal as multisets of rows, with the same column names and types.

    Exact for every column but floats, which may differ by summation order (DuckDB
    hands rows over in any order, so a sum's last bits are not fixed): those agree
    to 1e-9 relative. The detail says which.
    """
    a = con.execute(f"describe {built}").fetchall()
    b = con.execute(f"describe {fresh}").fetchall()
    if [(r[0], r[1]) for r in a] != [(r[0], r[1]) for r in b]:
        return False, f"columns differ: {[(r[0], r[1]) for r in a]} vs {[(r[0], r[1]) for r in b]}"
    exact_diff = con.execute(
        f"select count(*) from (select * from {built} except all select * from {fresh})"
    ).fetchall()[0][0]
    rows = con.execute(f"select count(*) from {built}").fetchall()[0][0]
    if exact_diff == 0 and rows == con.execute(f"select count(*) from {fresh}").fetchall()[0][0]:
        return True, f"{rows} rows, identical"
    floats = [r[0] for r in a if r[1] in ("DOUBLE", "FLOAT")]
    others = [r[0] for r in a if r[0] not in floats]
    order = ", ".join([f'"{c}"' for c in others] + [f'round("{c}", 6)' for c in floats])
    left = con.execute(f"select * from {built} order by {order}").df()
    right = con.execute(f"select * from {fresh} order by {order}").df()
    if len(left) != len(right):
        return False, f"{len(left)} rows vs {len(right)}"
    bad = []
    for column in left.columns:
        x, y = left[column], right[column]
        if column in floats:
            ok = np.isclose(x.to_numpy(float), y.to_numpy(float), rtol=1e-9, atol=1e-12)
            ok |= x.isna().to_numpy() & y.isna().to_numpy()
        else:
            ok = ((x == y) | (x.isna() & y.isna())).to_numpy(bool)
        if not ok.all():
            bad.append(f"{column}: {int((~ok).sum())} rows")
    if bad:
        return False, f"{rows} rows, {exact_diff} not identical; differ in " + "; ".join(bad)
    return True, f"{rows} rows, {exact_diff} differ only in float last digits (<= 1e-9 rel)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-db", type=Path, required=True)
    parser.add_argument("--target", type=Path, required=True, help="dbt target dir (manifest)")
    parser.add_argument("--models", default=",".join(ORDER))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--code",
        type=Path,
        default=PROJECT,
        help="a checkout whose python_models/ and src/ to run (default: this one)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    sys.path.insert(0, str(args.code / "src"))
    manifest = json.loads((args.target / "manifest.json").read_text())
    nodes = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    relations = {name: node["relation_name"] for name, node in nodes.items()}
    wanted = [name for name in ORDER if name in args.models.split(",")]

    scratch = Path(tempfile.mkdtemp(prefix="bench-python-models-"))
    copy = scratch / "build.duckdb"
    shutil.copy(args.build_db, copy)
    con = duckdb.connect(str(copy))
    settings = nodes[wanted[0]]["config"].get("duckdb_settings") or {}
    for key, value in settings.items():
        con.execute(f"set {key} = '{value}'")
    con.execute("create schema bench_out")
    results = {}
    try:
        for name in wanted:
            node = nodes[name]
            module = _load_model(args.code / node["original_file_path"])
            # A relation that does not exist: models reading their previous build
            # (cluster_assignments) see a first build, as in the baseline.
            dbt = _Dbt(con, relations, node, this=f'"bench_out"."{name}_previous"')
            profiler = cProfile.Profile() if args.profile else None
            started, cpu_started = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            frame = module.model(dbt, con)
            computed, cpu_computed = time.perf_counter(), time.process_time()
            con.register("__bench_frame", frame)
            con.execute(f'create table bench_out."{name}" as select * from __bench_frame')
            con.unregister("__bench_frame")
            written, cpu_written = time.perf_counter(), time.process_time()
            if profiler:
                profiler.disable()
                profiler.dump_stats(str((args.out or scratch / "x").with_suffix(f".{name}.prof")))
            same, detail = _same(con, relations[name], f'bench_out."{name}"')
            results[name] = {
                "model_seconds": round(computed - started, 3),
                # CPU seconds of this process (every thread): what the model cost,
                # whatever else the shared machine was running.
                "model_cpu_seconds": round(cpu_computed - cpu_started, 3),
                "write_cpu_seconds": round(cpu_written - cpu_computed, 3),
                "write_seconds": round(written - computed, 3),
                "equal_to_build": same,
                "detail": detail,
            }
            print(
                f"{name:28s} {computed - started:7.2f}s (cpu {cpu_computed - cpu_started:6.2f}s)"
                f" + write {written - computed:5.2f}s  "
                f"{'same' if same else 'DIFFERENT'} ({detail})",
                flush=True,
            )
    finally:
        con.close()
        shutil.rmtree(scratch)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["equal_to_build"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
