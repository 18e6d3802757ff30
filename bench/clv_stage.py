"""Benchmark: the CLV stage's Python work at 1M customers, before and after fitting and
scoring on weighted distinct (x, t_x, T) triples.

    python bench/clv_stage.py [--customers 1000000] [--before-sample 100000]

The per-customer summaries are drawn from the BG/NBD model itself (gamma purchase
rates, beta dropout, Poisson purchases over up to three years, whole days), which
is much faster than generating and aggregating raw orders and has the shape of
real data: many one-time buyers, few heavy ones.

"after"  = this branch: clv_selection.compare on the calibration summary (three
           models fitted and scored on distinct triples) + clv.score with the
           chosen model on the full summary (fit, P(alive), expected purchases,
           Gamma-Gamma, 12-month discounted CLV).
"before" = the code of the baseline commit (BASELINE, read with `git show`): one
           BG/NBD fit per customer row for the scores and another for the holdout
           validation, and per-customer scoring. Its cost is linear in the rows, so
           it is timed on a random `--before-sample` of customers and scaled to the
           full count (said so in the JSON) to keep the bench under a minute of CPU.

Times are process CPU seconds (time.process_time), so other jobs on a shared
machine do not inflate them; wall seconds are recorded too. The result is written
to bench/results/<UTC time>-clv-stage-c<customers>.json with the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from marketing_engine.clv import ClvSettings, score
from marketing_engine.clv_selection import chosen_start, compare

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results"
BASELINE = "9f137be"  # main before issue 16: BG/NBD + Gamma-Gamma, one row per customer
HOLDOUT_DAYS = 180
# Close to the BG/NBD fit of the sample warehouse, in weeks.
R, ALPHA, A, B = 0.7, 1.6, 0.6, 6.6


def synthetic_summary(customers: int, seed: int = 1) -> pd.DataFrame:
    """Per-customer (x, t_x_days, t_days, spend) drawn from BG/NBD over up to 3 years."""
    rng = np.random.default_rng(seed)
    t_days = rng.integers(1, 3 * 365, customers).astype(float)
    rate = rng.gamma(R, 1 / ALPHA, customers) / 7  # purchases per day
    dropout = rng.beta(A, B, customers)
    lifetime_purchases = rng.geometric(dropout) - 1  # repeat purchases before dropping out
    arrivals = rng.poisson(rate * t_days)
    x = np.minimum(arrivals, lifetime_purchases)
    # Given n arrivals in (0, T], the k-th is T x Beta(k, n - k + 1).
    last = np.where(x > 0, rng.beta(np.maximum(x, 1), np.maximum(arrivals - x, 0) + 1), 0.0)
    t_x_days = np.floor(last * t_days)
    spend = rng.gamma(6.0, 8.0, customers)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(customers)],
            "x": x.astype(float),
            "t_x_days": t_x_days,
            "t_days": t_days,
            "mean_repeat_value": np.where(x > 0, spend, np.nan),
            "first_value": spend,
        }
    )


def synthetic_calibration(summary: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    """The summary seen HOLDOUT_DAYS earlier, with Poisson holdout purchases (timing only)."""
    rng = np.random.default_rng(seed)
    keep = summary[summary["t_days"] > HOLDOUT_DAYS].copy()
    keep["t_days"] -= HOLDOUT_DAYS
    keep["t_x_days"] = np.minimum(keep["t_x_days"], keep["t_days"])
    rate = (keep["x"] + R) / (keep["t_days"] / 7 + ALPHA) / 7
    keep["holdout_purchases"] = rng.poisson(rate * HOLDOUT_DAYS * 0.5)
    keep["holdout_days"] = HOLDOUT_DAYS
    return keep.reset_index(drop=True)


def baseline_module():
    """The baseline commit's clv.py, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{BASELINE}:src/marketing_engine/clv.py"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "clv_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("clv_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["clv_baseline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def timed(function) -> tuple[float, float, object]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = function()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--before-sample", type=int, default=100_000)
    args = parser.parse_args()
    settings = ClvSettings()
    summary = synthetic_summary(args.customers)
    calibration = synthetic_calibration(summary)
    triples = len(summary[["x", "t_x_days", "t_days"]].drop_duplicates())

    def after():
        comparison = compare(calibration, settings)
        start = chosen_start(comparison.table)
        scores, _ = score(summary, settings, comparison.chosen, start)
        return comparison.chosen, len(scores)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        after_cpu, after_wall, (chosen, scored) = timed(after)
        print(f"after: {after_cpu:.1f} CPU seconds, {after_wall:.1f} wall", file=sys.stderr)

        old = baseline_module()
        sample = summary.sample(min(args.before_sample, len(summary)), random_state=3)
        sample_calibration = calibration[calibration["customer_id"].isin(sample["customer_id"])]

        def before():
            scores, _ = old.score(sample.reset_index(drop=True), old.ClvSettings())
            old.holdout_validation(sample_calibration.reset_index(drop=True), old.ClvSettings())
            return len(scores)

        before_cpu, before_wall, _ = timed(before)
    scale = len(summary) / len(sample)
    result = {
        "benchmark": "clv_stage",
        "started": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
        "customers": len(summary),
        "calibration_customers": len(calibration),
        "distinct_triples": triples,
        "chosen_model": chosen,
        "after": {
            "what": "3 models fitted and scored on the calibration triples, chosen model "
            "+ Gamma-Gamma scored on every customer",
            "customers": scored,
            "cpu_seconds": round(after_cpu, 2),
            "wall_seconds": round(after_wall, 2),
        },
        "before": {
            "what": f"baseline {BASELINE}: BG/NBD + Gamma-Gamma per customer row, holdout "
            "validation refit per row",
            "timed_customers": len(sample),
            "cpu_seconds_timed": round(before_cpu, 2),
            "wall_seconds_timed": round(before_wall, 2),
            "cpu_seconds_at_full_scale": round(before_cpu * scale, 2),
            "scaled_by": round(scale, 3),
            "note": "timed on a random sample and scaled linearly: every step is per row",
        },
        "ratio_before_over_after_cpu": round(before_cpu * scale / after_cpu, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{result['started']}-clv-stage-c{len(summary)}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    json.dump(result, sys.stdout, indent=2)
    print(f"\nwritten to {out.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
