"""Benchmark: the clustering stage's Python work (cluster_assignments + cluster_evaluation).

    nice python bench/clustering_stage.py [--customers 200000]

Each variant runs in its own process on the same synthetic customers, so CPU
seconds (user + system) and peak RSS (from wait4) belong to it alone:

"before"   = the code of the baseline commit (BASELINE, read with `git show`):
             three differently seeded samples, evaluation on a re-drawn sample,
             per-row Python relabelling and naming.
"after"    = this branch with the project's settings (dbt_project.yml): one
             seeded fit sample, chunked nearest-point assignment, vectorised
             relabelling and naming.
"after_20k" = this branch with fit_sample_size 20,000 and silhouette_sample_size
             5,000: what the sample-size settings are worth (a different, smaller
             fit, so its labels differ above 20,000 customers).

The customers are drawn with the shape of int_customer_features (heavy-tailed
recency, frequency, spend; a discount share), not as separated blobs, so DBSCAN
and the silhouette do realistic work. Results go to
bench/results/<UTC time>-clustering-stage-c<customers>.json with the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results"
BASELINE = "0461237"  # main before the one-sample clustering change
SETTINGS = {
    "features": ["recency_days", "frequency", "monetary", "aov", "discounted_revenue_share"],
    "log_features": ["recency_days", "frequency", "monetary", "aov"],
    "k_min": 3,
    "k_max": 8,
    "fit_sample_size": 50_000,
    "hierarchical_sample_size": 10_000,
    "silhouette_sample_size": 10_000,
    "dbscan_min_samples": 10,
    "random_state": 42,
}
VARIANTS = {
    "before": {},
    "after": {},
    "after_20k": {"fit_sample_size": 20_000, "silhouette_sample_size": 5_000},
}


def synthetic_features(customers: int, seed: int = 5) -> pd.DataFrame:
    """Per-customer features shaped like int_customer_features."""
    rng = np.random.default_rng(seed)
    frequency = 1 + rng.negative_binomial(1, 0.3, customers)
    aov = rng.lognormal(3.5, 0.6, customers)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(customers)],
            "recency_days": rng.integers(0, 3 * 365, customers).astype(float),
            "frequency": frequency.astype(float),
            "monetary": frequency * aov,
            "aov": aov,
            "discounted_revenue_share": rng.beta(0.5, 2.0, customers),
        }
    )


def run_variant(variant: str, features: Path, module: Path) -> dict:
    """In this (child) process: fit and publish both tables, time it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("clustering_under_test", module)
    clustering = importlib.util.module_from_spec(spec)
    sys.modules["clustering_under_test"] = clustering
    spec.loader.exec_module(clustering)
    frame = pd.read_parquet(features)
    config = clustering.ClusteringConfig.from_mapping({**SETTINGS, **VARIANTS[variant]})
    cpu, wall = time.process_time(), time.perf_counter()
    if hasattr(clustering, "SampleFit"):  # since the fit reads only its sample
        result = clustering.fit_all(frame, config)
        assigned = clustering.assignments(frame, config, result=result)
        evaluation = clustering.evaluation_table(result.sample_fit, assigned, config)
    else:
        assigned = clustering.assignments(frame, config)
        evaluation = clustering.evaluation_table(frame, config, assigned)
    return {
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "wall_seconds": round(time.perf_counter() - wall, 2),
        "kmeans_k": int(evaluation.loc[evaluation["algorithm"] == "kmeans", "n_clusters"].iloc[0]),
        "dbscan_noise_share": float(
            evaluation.loc[evaluation["algorithm"] == "dbscan", "noise_share"].iloc[0]
        ),
        "rows": len(assigned),
    }


def measure(variant: str, features: Path, module: Path) -> dict:
    """Run one variant as a child process; its own CPU seconds and peak RSS."""
    out = features.with_name(f"{variant}.json")
    command = [sys.executable, __file__, "--child", variant, str(features), str(module), str(out)]
    process = subprocess.Popen(command, cwd=PROJECT)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"variant {variant} failed with status {status}")
    result = json.loads(out.read_text())
    result["process_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, features, module, out = args.child
        Path(out).write_text(json.dumps(run_variant(variant, Path(features), Path(module))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        features = Path(tmp) / "features.parquet"
        synthetic_features(args.customers).to_parquet(features)
        before = Path(tmp) / "clustering_before.py"
        before.write_text(
            subprocess.run(
                ["git", "show", f"{BASELINE}:src/marketing_engine/clustering.py"],
                cwd=PROJECT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        after = PROJECT / "src" / "marketing_engine" / "clustering.py"
        modules = {"before": before, "after": after, "after_20k": after}
        results = {name: measure(name, features, modules[name]) for name in VARIANTS}
    base = results["before"]["process_cpu_seconds"]
    report = {
        "benchmark": "clustering_stage",
        "customers": args.customers,
        "baseline_commit": BASELINE,
        "settings": SETTINGS,
        "variants": results,
        "cpu_ratio_before_to": {
            name: round(base / r["process_cpu_seconds"], 2) for name, r in results.items()
        },
        "note": "CPU seconds per variant in its own process, same data, same run.",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-clustering-stage-c{args.customers}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
