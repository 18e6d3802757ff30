"""Experiment statistics: sample-ratio mismatch, power and minimum detectable effect,
CUPED variance reduction, and multiple-testing corrections.

* Sample-ratio mismatch (SRM): a chi-square goodness-of-fit test (1 degree of
  freedom) of the observed holdout / treated counts against the configured
  holdout share. A p-value below `srm_alpha` (0.001, the usual threshold:
  SRM checks run on every test, so they must rarely fire by chance) means the
  split is broken (assignment or logging bug) and the test is not trusted.
* Minimum detectable effect (MDE): the smallest true difference a two-sided
  test at level alpha detects with probability `power`, given the groups'
  sizes and standard deviations: (z_{1-alpha/2} + z_{power}) * SE.
* CUPED (Deng, Xu, Kohavi and Walker 2013): Y - theta (X - mean X) with
  theta = cov(X, Y) / var(X) pooled over both groups, X the pre-period
  revenue. The mean difference keeps its expectation; its variance shrinks
  by the share corr(X, Y)^2.
* Multiple testing: Holm (1979) step-down adjusted p-values control the
  family-wise error rate under any dependence between tests: with many
  segment x offer tests, the chance that any "winner" is a false positive
  stays below alpha. That is the default because a declared winner changes
  what is sent to customers. Benjamini-Hochberg (1995) controls the false
  discovery rate instead (more winners, some false) and is available as
  `correction: bh`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

CORRECTIONS = ("holm", "bh")


def srm_p_value(holdout: int, treated: int, holdout_share: float) -> float:
    """Chi-square (1 df) p-value of the observed split against the configured share."""
    total = holdout + treated
    if total == 0:
        return float("nan")
    expected = np.array([holdout_share, 1 - holdout_share]) * total
    observed = np.array([holdout, treated], dtype=float)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return float(stats.chi2.sf(statistic, df=1))


def z_sum(alpha: float, power: float) -> float:
    """z_{1-alpha/2} + z_{power}: the MDE in standard errors of a two-sided test."""
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def mde_difference(
    sd_treated: float, n_treated: int, sd_control: float, n_control: int, alpha: float, power: float
) -> float:
    """Minimum detectable difference of means (Welch standard error)."""
    if min(n_treated, n_control) < 2:
        return float("nan")
    se = math.sqrt(sd_treated**2 / n_treated + sd_control**2 / n_control)
    # No spread at all (everyone spent 0): no effect size can be stated.
    return z_sum(alpha, power) * se if se > 0 else float("nan")


def mde_proportions(base_rate: float, n1: int, n0: int, alpha: float, power: float) -> float:
    """Minimum detectable difference of two proportions around `base_rate`."""
    if min(n1, n0) == 0 or not 0 <= base_rate <= 1:
        return float("nan")
    se = math.sqrt(base_rate * (1 - base_rate) * (1 / n1 + 1 / n0))
    return z_sum(alpha, power) * se


def power_of_difference(effect: float, se: float, alpha: float) -> float:
    """Probability a two-sided z-test at level alpha rejects when the true difference is effect."""
    if not se > 0:
        return float("nan")
    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(effect) / se
    return float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))


def cuped_theta(y: np.ndarray, x: np.ndarray) -> float:
    """theta = cov(x, y) / var(x) over the pooled groups; 0 when x does not vary."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    if x.size < 2:
        return 0.0
    variance = float(x.var(ddof=1))
    if not variance > 0:
        return 0.0
    return float(np.cov(x, y, ddof=1)[0, 1] / variance)


def cuped_adjust(y: np.ndarray, x: np.ndarray, theta: float, x_mean: float) -> np.ndarray:
    """The CUPED-adjusted outcome y - theta (x - mean x)."""
    return np.asarray(y, float) - theta * (np.asarray(x, float) - x_mean)


def adjust_p_values(p_values, method: str = "holm") -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values; NaN stays NaN and is not counted."""
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, not {method!r}")
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if not m:
        return adjusted
    order = present[np.argsort(p[present], kind="stable")]
    ranked = p[order]
    if method == "holm":
        values = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        values = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
    adjusted[order] = np.minimum(values, 1.0)
    return adjusted
