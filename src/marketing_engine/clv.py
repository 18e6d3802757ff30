"""Customer lifetime value: BG/NBD (Fader, Hardie and Lee 2005) and Gamma-Gamma (2005).

Inputs per customer, in one time unit: x = repeat purchases (distinct purchase
days minus one), t_x = time of the last purchase since the first, T = time
from the first purchase to the end of observation, m = mean spend of the
repeat purchases. Everything is vectorized over customers and computed in log
space, so large x or T neither overflow nor underflow; the expectation uses
the Euler transform of the hypergeometric function, whose parameters do not
grow with x. Customers with x = 0 are handled by the same formulas.

Maximum likelihood with scipy on log-parameters (so they stay positive). A
fit that does not converge returns converged=False with the optimizer's
message; callers then use the rule-based fallback instead of crashing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

from marketing_engine.memo import OneSlotCache
from marketing_engine.settings import FromConfig

DAYS_PER = {"days": 1.0, "weeks": 7.0}
DAYS_PER_MONTH = 30.4375
# A fitted log-parameter beyond this sits on a degenerate edge (e.g. r -> 0,
# alpha -> infinity when nobody repeats): treated as not converged.
MAX_ABS_LOG_PARAM = 9.0
MIN_REPEAT_BUYERS = 10
# The smallest fit sample a user may ask for (ClvSettings.fit_sample_size): below a few
# hundred customers the sample holds a handful of repeat buyers, and the fits run off
# to the degenerate edges or stop on MIN_REPEAT_BUYERS.
MIN_FIT_SAMPLE_SIZE = 500


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit: parameters, total log-likelihood, convergence."""

    params: Any  # one of the *Params dataclasses
    log_likelihood: float
    converged: bool
    iterations: int
    n_customers: int
    message: str

    def as_dict(self) -> dict:
        return {
            **asdict(self.params),
            "log_likelihood": self.log_likelihood,
            "converged": self.converged,
            "iterations": self.iterations,
            "n_customers": self.n_customers,
            # why a fit is not converged, in words (the optimizer's text when it is)
            "message": self.message,
        }


# --- BG/NBD ------------------------------------------------------------------------


def bgnbd_log_likelihood(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, T) under BG/NBD."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(
        x > 0,
        np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def _minimize(negative_ll, start: np.ndarray, jac: bool = False):
    with np.errstate(all="ignore"):
        return minimize(
            negative_ll,
            start,
            jac=jac,
            method="L-BFGS-B",
            bounds=[(-12.0, 12.0)] * len(start),
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )


def distinct_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a 2-d float array (sorted) and each row's index among them.

    Hash-based (pandas groupby), several times faster than np.unique(axis=0).
    """
    keys = np.asarray(keys, dtype=float)
    if not len(keys):
        return keys.reshape(0, keys.shape[1] if keys.ndim == 2 else 0), np.zeros(0, dtype=int)
    frame = pd.DataFrame(keys)
    inverse = frame.groupby(list(frame.columns), sort=True).ngroup().to_numpy()
    unique = np.empty((int(inverse.max()) + 1, keys.shape[1]))
    unique[inverse] = keys
    return unique, inverse


def distinct_triples(x, t_x, T) -> tuple[np.ndarray, ...]:
    """The distinct (x, t_x, T) rows, their counts, and each input row's index among them.

    Every counting model's likelihood and prediction depends on a customer only
    through (x, t_x, T), so fitting and scoring the distinct triples with
    weights gives the same figures as one row per customer, far faster.
    """
    stacked = np.column_stack([np.asarray(v, dtype=float) for v in (x, t_x, T)])
    unique, inverse = distinct_rows(stacked)
    counts = np.bincount(inverse, minlength=len(unique)).astype(float)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts, inverse


def _weighted_sum(weights: np.ndarray, values: np.ndarray) -> float:
    """sum(weights x values) by numpy's own summation, not BLAS: a multi-threaded BLAS
    dot splits the sum by its thread count (the machine's cores, or a limit another
    model set meanwhile), which moved the fits' last digits from run to run."""
    return float(np.sum(weights * values))


def fit_counting_model(
    name: str,
    log_likelihood,
    make_params,
    scaled: tuple[bool, ...],
    x,
    t_x,
    T,
    weights=None,
    gradient=None,
    start=None,
) -> Fit:
    """Maximum likelihood for a purchase-count model on (x, t_x, T), weighted.

    `make_params(*values)` builds the parameter object; parameters flagged in
    `scaled` are rates in the time unit and are searched relative to the mean T,
    so the optimizer works on numbers near 1 whatever the unit. Without
    weights, identical customers are collapsed into weighted distinct triples.
    `gradient(params, x, t_x, T)`, when given, returns the per-customer
    derivatives of the log-likelihood (one column per parameter), saving the
    optimizer its finite differences; `start` (natural parameters, e.g. the
    calibration fit) is where the search begins instead of 1 x scale.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if weights is None:
        x, t_x, T, weights, _ = distinct_triples(x, t_x, T)
    weights = np.asarray(weights, dtype=float)
    total_weight = float(weights.sum())
    if not total_weight > 0:
        # Nothing to fit: report it as a non-converged fit, never raise.
        params = make_params(*[1.0] * len(scaled))
        return Fit(params, float("nan"), False, 0, 0, f"no customers to fit {name} on")
    scale = max(float(np.average(T, weights=weights)), 1e-9)
    factors = np.array([scale if flag else 1.0 for flag in scaled])

    def negative_ll(log_params: np.ndarray) -> float:
        params = make_params(*(np.exp(log_params) * factors))
        value = -_weighted_sum(weights, log_likelihood(params, x, t_x, T)) / total_weight
        return value if math.isfinite(value) else 1e300

    def negative_ll_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        natural = np.exp(log_params) * factors
        params = make_params(*natural)
        value = -_weighted_sum(weights, log_likelihood(params, x, t_x, T)) / total_weight
        # d/d log(theta) = theta d/d theta
        slope = -(weights[:, None] * gradient(params, x, t_x, T)).sum(axis=0)
        slope = slope * natural / total_weight
        if not (math.isfinite(value) and np.all(np.isfinite(slope))):
            return 1e300, np.zeros(len(scaled))
        return value, slope

    begin = np.zeros(len(scaled))
    if start is not None and np.all(np.asarray(start, dtype=float) > 0):
        begin = np.clip(np.log(np.asarray(start, dtype=float) / factors), -8.0, 8.0)
    if gradient is None:
        result = _minimize(negative_ll, begin)
    else:
        result = _minimize(negative_ll_and_gradient, begin, jac=True)
    params = make_params(*(float(v) for v in np.exp(result.x) * factors))
    total = _weighted_sum(weights, log_likelihood(params, x, t_x, T))
    message = _not_converged_reason(result, total) or str(result.message)
    if not np.any(x > 0):
        message = f"no repeat purchases: {name} is not identifiable"
    converged = _converged(result, total) and bool(np.any(x > 0))
    return Fit(params, total, converged, int(result.nit), round(total_weight), message)


def bgnbd_gradient(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """Per-customer derivatives of bgnbd_log_likelihood by r, alpha, a, b (columns)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    share_dead = _share_dead(
        -(r + x) * np.log(alpha + T),
        np.where(
            x > 0,
            np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        ),
    )
    return _nbd_gradient(params, x, t_x, T, share_dead, b + x, a + b + x, b + np.maximum(x, 1) - 1)


def _share_dead(alive: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """exp(dead) / (exp(alive) + exp(dead)), the weight of the dropped-out term."""
    return expit(dead - alive)


def _nbd_gradient(params, x, t_x, T, share_dead, b_x, a_b_x, b_dead) -> np.ndarray:
    """Gradient shared by BG/NBD and MBG/NBD; they differ in the beta terms' offsets:
    gammaln(b_x) - gammaln(a_b_x) in the likelihood and -log(b_dead) in the dead term."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    share_alive = 1 - share_dead
    log_alive, log_dead = np.log(alpha + T), np.log(alpha + t_x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - share_alive * log_alive
    d_r -= share_dead * np.where(share_dead > 0, log_dead, 0.0)
    d_alpha = r / alpha - (r + x) * (share_alive / (alpha + T) + share_dead / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a_b_x) + share_dead / a
    d_b = digamma(a + b) + digamma(b_x) - digamma(b) - digamma(a_b_x) - share_dead / b_dead
    return np.column_stack([d_r, d_alpha, d_a, d_b])


def fit_bgnbd(x, t_x, T, weights=None, start=None) -> Fit:
    """Fit BG/NBD by maximum likelihood; `weights` counts identical customers."""
    return fit_counting_model(
        "BG/NBD",
        bgnbd_log_likelihood,
        BgNbdParams,
        (False, True, False, False),
        x,
        t_x,
        T,
        weights,
        gradient=bgnbd_gradient,
        start=start,
    )


def _converged(result, log_likelihood: float) -> bool:
    """Success, a finite optimum, and parameters away from the degenerate edges."""
    return _not_converged_reason(result, log_likelihood) is None


def _not_converged_reason(result, log_likelihood: float) -> str | None:
    """Why _converged rejects a fit, in words (None: it does not). The optimizer's own
    message only when the optimizer failed: it reads as success for a fit that
    converged onto a degenerate edge."""
    if not result.success:
        text = str(result.message).strip().rstrip(":") or "no message"
        return f"the optimizer stopped without an optimum ({text})"
    if not bool(np.all(np.abs(result.x) < MAX_ABS_LOG_PARAM)):
        return (
            "the parameters ran off to a degenerate edge (a parameter beyond "
            f"e^{MAX_ABS_LOG_PARAM:g} or below e^-{MAX_ABS_LOG_PARAM:g}: too few customers "
            "or repeat buyers to tell the model's parameters apart)"
        )
    if not math.isfinite(log_likelihood):
        return "the log-likelihood at the optimum is not finite"
    return None


def p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """Probability the customer is still active at T."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_odds_dead = np.where(
        x > 0,
        np.log(a)
        - np.log(b + np.maximum(x, 1) - 1)
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
        -np.inf,
    )
    return expit(-log_odds_dead)


def expected_purchases(params: BgNbdParams, t, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next `t` time units given (x, t_x, T)."""
    return purchases_if_alive(params, t, x, T) * p_alive(params, x, t_x, T)


def purchases_if_alive(params: BgNbdParams, t, x, T) -> np.ndarray:
    """Expected purchases in the next `t` time units for a customer alive at T.

    Depends on (x, T) only, not on t_x: scoring computes it once per distinct pair.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    # Euler transform: ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)
    #   = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)
    if abs(a - 1) < 1e-9:  # the a -> 1 limit of (1 - tail)/(a - 1), before tail
        a = 1 + 1e-9
    c = a + b + x - 1
    tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    return (a + b + x - 1) / (a - 1) * (1 - tail)


def expected_next_purchase_days(params: BgNbdParams, x, T, unit_days: float) -> np.ndarray:
    """Expected days to the next purchase if still active: 1 / posterior mean rate."""
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    return (params.alpha + T) / (params.r + x) * unit_days


# --- Gamma-Gamma --------------------------------------------------------------------


def gamma_gamma_log_likelihood(params: GammaGammaParams, x, m) -> np.ndarray:
    """Per-customer log-likelihood of mean spend m over x repeat purchases (x > 0, m > 0)."""
    p, q, v = params.p, params.q, params.v
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def fit_gamma_gamma(x, m) -> Fit:
    """Fit Gamma-Gamma on repeat buyers with positive mean spend."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    scale = max(float(m.mean()), 1e-9) if m.size else 1.0

    log_m, log_x = np.log(m), np.log(x)

    def negative_ll(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(log_params) * np.array([1.0, 1.0, scale])
        ll = gamma_gamma_log_likelihood(GammaGammaParams(p, q, v), x, m)
        value = -float(ll.mean()) if ll.size else 1e300
        if not math.isfinite(value) or not ll.size:
            return 1e300, np.zeros(3)
        log_total = np.log(x * m + v)
        shared = digamma(p * x + q)
        d_p = x * (shared - digamma(p * x) + log_m + log_x - log_total)
        d_q = shared - digamma(q) + np.log(v) - log_total
        d_v = q / v - (p * x + q) / (x * m + v)
        # per log-parameter: theta x d/d theta, averaged and negated
        slope = -np.array([d_p.mean() * p, d_q.mean() * q, d_v.mean() * v])
        return value, slope

    result = _minimize(negative_ll, np.array([0.0, 1.0, 0.0]), jac=True)
    p, q, v = np.exp(result.x)
    params = GammaGammaParams(float(p), float(q), float(v * scale))
    total = float(gamma_gamma_log_likelihood(params, x, m).sum())
    reason = _not_converged_reason(result, total)
    message = reason or str(result.message)
    if reason is None and not q > 1:
        message = f"q = {q:.3g} <= 1: the expected spend would be infinite"
    if x.size < MIN_REPEAT_BUYERS:
        message = f"only {x.size} repeat buyers with positive spend (need {MIN_REPEAT_BUYERS})"
    # q > 1 is needed for a finite expected spend.
    converged = _converged(result, total) and bool(q > 1) and x.size >= MIN_REPEAT_BUYERS
    return Fit(params, total, converged, int(result.nit), int(x.size), message)


def expected_order_value(params: GammaGammaParams, x, m) -> np.ndarray:
    """Expected spend per future purchase; the population mean for non-repeaters."""
    p, q, v = params.p, params.q, params.v
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    usable = (x > 0) & (m > 0)
    individual = p * (v + x * np.where(usable, m, 0)) / (p * x + q - 1)
    population = p * v / (q - 1)
    return np.where(usable, individual, population)


# --- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClvSettings(FromConfig):
    """Settings from the models' YAML `config:` (key `clv`)."""

    config_key: ClassVar[str] = "clv"

    time_unit: str = "weeks"
    monthly_discount_rate: float = 0.01
    clv_months: int = 12
    # The fits (clv_model_parameters, clv_model_comparison) read at most this many
    # customers, a seeded sample chosen in SQL (clv_sample.py); everyone is scored.
    # 200,000: the frame pulled to the driver stays in the tens of MB and a fit in
    # seconds (the counting models on distinct (x, t_x, T) triples, Gamma-Gamma on
    # the repeat buyers), while the parameters' sampling error, shrinking as
    # 1/sqrt(n), is already far below what separates one model or period from the
    # next. Larger than CDNOW (23,570) and the embedded sample: they fit everyone.
    fit_sample_size: int = 200_000
    # Seed of the sample: the same data and seed give the same customers.
    random_state: int = 42

    def __post_init__(self) -> None:
        if self.time_unit not in DAYS_PER:
            raise ValueError(f"time_unit must be one of {sorted(DAYS_PER)}")
        # dbt renders a "{{ var(...) }}" in dbt_project.yml as text: take "5000" as 5000.
        for name in ("fit_sample_size", "random_state"):
            value = getattr(self, name)
            try:
                number = int(str(value).strip())
            except ValueError:
                raise ValueError(
                    f"clv {name} must be a whole number, got {value!r} "
                    f"(dbt_project.yml, +clv: {name})"
                ) from None
            object.__setattr__(self, name, number)
        if self.fit_sample_size < MIN_FIT_SAMPLE_SIZE:
            raise ValueError(
                f"clv fit_sample_size must be at least {MIN_FIT_SAMPLE_SIZE:,}, got "
                f"{self.fit_sample_size:,}: fewer customers leave too few repeat buyers "
                "to fit BG/NBD and Gamma-Gamma reliably. Raise it in dbt_project.yml "
                "(+clv: fit_sample_size) or in --vars clv_fit_sample_size."
            )


def in_units(summary: pd.DataFrame, unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, t_x and T from a day-based summary (columns x, t_x_days, t_days)."""
    days = DAYS_PER[unit]
    return (
        summary["x"].to_numpy(float),
        summary["t_x_days"].to_numpy(float) / days,
        summary["t_days"].to_numpy(float) / days,
    )


def discounted_clv(
    bgnbd: BgNbdParams,
    value: np.ndarray,
    x,
    t_x,
    T,
    months: int,
    monthly_rate: float,
    unit_days: float,
) -> np.ndarray:
    """Sum over months of expected purchases in the month x expected value, discounted."""
    total = np.zeros(len(value))
    previous = np.zeros(len(value))
    for month in range(1, months + 1):
        horizon = month * DAYS_PER_MONTH / unit_days
        cumulative = expected_purchases(bgnbd, horizon, x, t_x, T)
        total += (cumulative - previous) * value / (1 + monthly_rate) ** month
        previous = cumulative
    return total


def rule_based_scores(summary: pd.DataFrame, settings: ClvSettings) -> pd.DataFrame:
    """Fallback when a fit fails: survival from recency against the usual gap, naive rates."""
    x = summary["x"].to_numpy(float)
    span = np.maximum(summary["t_days"].to_numpy(float), 1.0)
    recency = summary["t_days"].to_numpy(float) - summary["t_x_days"].to_numpy(float)
    gap = np.where(x > 0, summary["t_x_days"].to_numpy(float) / np.maximum(x, 1), 180.0)
    alive = np.exp(-recency / (3 * np.maximum(gap, 1.0)))
    rate = (x + 1) / span  # purchases per day
    value = summary["mean_repeat_value"].fillna(summary["first_value"]).to_numpy(float)
    frame = _scores_frame(
        summary, alive, rate[:, None] * np.array([30, 90, 365]) * alive[:, None], value, settings
    )
    frame["clv_12_months"] = rate * DAYS_PER_MONTH * settings.clv_months * alive * value
    frame["days_to_next_purchase"] = 1 / np.maximum(rate, 1e-9)
    frame["model"] = "rule_based"
    return frame


def _scores_frame(summary, alive, purchases, value, settings) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "p_alive": alive,
            "churn_probability": 1 - alive,
            "expected_purchases_30d": purchases[:, 0],
            "expected_purchases_90d": purchases[:, 1],
            "expected_purchases_365d": purchases[:, 2],
            "expected_order_value": value,
        }
    )


_FIT_CACHE = OneSlotCache()
_SCORE_CACHE = OneSlotCache()


@dataclass(frozen=True)
class ClvFit:
    """The fit half of the CLV split: the counting model and Gamma-Gamma fitted on the
    distinct (x, t_x, T) triples, and one parameter row per model."""

    model_name: str
    counts: Fit
    gamma_gamma: Fit
    parameters: list[dict]

    @property
    def converged(self) -> bool:
        return self.counts.converged and self.gamma_gamma.converged


def fit(summary: pd.DataFrame, settings: ClvSettings, model: str = "bg_nbd", start=None) -> ClvFit:
    """Fit `model` (bg_nbd, mbg_nbd or pareto_nbd) and Gamma-Gamma on `summary` (columns
    x, t_x_days, t_days, mean_repeat_value): parameters only, no per-customer scores
    (clv_scored scores every customer in SQL). Memoized, so a build fits once."""
    start = None if start is None else tuple(float(v) for v in start)
    return _FIT_CACHE.get_or_compute(
        summary, (settings, model, start), lambda: _fit(summary, settings, model, start)
    )


def _fit(summary: pd.DataFrame, settings: ClvSettings, model_name: str, start) -> ClvFit:
    from marketing_engine.clv_selection import MODELS

    if model_name not in MODELS:
        raise ValueError(f"unknown CLV model {model_name!r}: use one of {sorted(MODELS)}")
    x, t_x, T = in_units(summary, settings.time_unit)
    m = summary["mean_repeat_value"].fillna(0).to_numpy(float)
    # The counts depend on (x, t_x, T) only: fit the distinct triples, weighted.
    ux, ut_x, uT, weights, _ = distinct_triples(x, t_x, T)
    counts = MODELS[model_name].fit(ux, ut_x, uT, weights, start=start)
    gamma_gamma = fit_gamma_gamma(x, m)
    parameters = [
        _parameter_row(model_name, counts, settings),
        _parameter_row("gamma_gamma", gamma_gamma, settings),
    ]
    fitted = ClvFit(model_name, counts, gamma_gamma, parameters)
    if not fitted.converged:
        warnings.warn(
            f"CLV fit did not converge ({MODELS[model_name].label}: "
            f"{counts.message}; Gamma-Gamma: {gamma_gamma.message}); "
            "using the rule-based fallback scores.",
            RuntimeWarning,
            stacklevel=3,
        )
    return fitted


def score(
    summary: pd.DataFrame,
    settings: ClvSettings,
    model: str = "bg_nbd",
    start=None,
    fit_sample: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[dict]]:
    """Fit `model` (bg_nbd, mbg_nbd or pareto_nbd) and Gamma-Gamma; score all of `summary`.

    summary columns: customer_id, x, t_x_days, t_days, mean_repeat_value,
    first_value. Returns the per-customer scores and one parameter row per model.
    `start`: parameters to start the search from (the calibration fit).
    `fit_sample`: the customers to fit on (clv_sample.read_fit_sample, as
    clv_model_parameters fits); every customer of `summary` when None.
    Memoized, and the fit is `fit`'s (shared with a build's parameters model).
    """
    start = None if start is None else tuple(float(v) for v in start)
    sample = summary if fit_sample is None else fit_sample
    sample_key = OneSlotCache.key(sample, None)
    return _SCORE_CACHE.get_or_compute(
        summary,
        (settings, model, start, sample_key),
        lambda: _score(summary, settings, model, start, sample),
    )


def _score(
    summary: pd.DataFrame, settings: ClvSettings, model_name: str, start, sample: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    from marketing_engine.clv_selection import MODELS

    fitted = fit(sample, settings, model_name, start)
    counts, gamma_gamma, parameters = fitted.counts, fitted.gamma_gamma, fitted.parameters
    model = MODELS[model_name]
    unit_days = DAYS_PER[settings.time_unit]
    x, t_x, T = in_units(summary, settings.time_unit)
    m = summary["mean_repeat_value"].fillna(0).to_numpy(float)
    if not fitted.converged:  # _fit warned
        return rule_based_scores(summary, settings), parameters
    # Everything but the spend depends on (x, t_x, T) only: score the distinct
    # triples, then map back to customers.
    ux, ut_x, uT, _, inverse = distinct_triples(x, t_x, T)
    params = counts.params
    alive_triples = model.p_alive(params, ux, ut_x, uT)
    alive = alive_triples[inverse]
    # Purchases if alive depend on (x, T) only: once per distinct pair and horizon.
    pairs, pair_of_triple = distinct_rows(np.column_stack([ux, uT]))

    def expected(horizon: float) -> np.ndarray:
        """Expected purchases in `horizon` time units, per triple."""
        if_alive = model.purchases_if_alive(params, horizon, pairs[:, 0], pairs[:, 1])
        return if_alive[pair_of_triple] * alive_triples

    horizons = np.array([30, 90, 365]) / unit_days
    purchases = np.column_stack([expected(h)[inverse] for h in horizons])
    value = expected_order_value(gamma_gamma.params, x, m)
    frame = _scores_frame(summary, alive, purchases, value, settings)
    # Discounted CLV = sum over months of (purchases in the month x value) / (1 + rate)^month:
    # the purchase part is a per-triple weight, so value multiplies it once.
    monthly = np.zeros(len(ux))
    previous = np.zeros(len(ux))
    for month in range(1, settings.clv_months + 1):
        horizon = month * DAYS_PER_MONTH / unit_days
        cumulative = expected(horizon)
        monthly += (cumulative - previous) / (1 + settings.monthly_discount_rate) ** month
        previous = cumulative
    frame["clv_12_months"] = monthly[inverse] * value
    frame["days_to_next_purchase"] = expected_next_purchase_days(params, x, T, unit_days)
    frame["model"] = f"{model_name}_gamma_gamma"
    return frame, parameters


def _parameter_row(model: str, fit: Fit, settings: ClvSettings) -> dict:
    return {
        "model": model,
        **{k: float(v) for k, v in asdict(fit.params).items()},
        "log_likelihood": fit.log_likelihood,
        "is_converged": fit.converged,
        "iterations": fit.iterations,
        "n_customers": fit.n_customers,
        "time_unit": settings.time_unit,
        # The scoring settings, for the SQL score (clv_scored) to read with the fit.
        "monthly_discount_rate": float(settings.monthly_discount_rate),
        "clv_months": int(settings.clv_months),
        "message": fit.message,
    }


HOLDOUT_COLUMNS = {
    "calibration_purchases": "string",
    "customers": "int64",
    "mean_predicted": "float64",
    "mean_actual": "float64",
    "mae": "float64",
    "correlation": "float64",
    "is_converged": "bool",
}


def holdout_validation(
    calibration: pd.DataFrame,
    settings: ClvSettings,
    model: str = "bg_nbd",
    fit: Fit | None = None,
) -> pd.DataFrame:
    """Predicted vs actual holdout repeat purchases by calibration purchase count.

    calibration: the summary columns plus holdout_purchases and holdout_days.
    One row per calibration x (0..6, then '7+') and an 'all' row; MAE and
    correlation are per customer within the row. `model` is the counting model
    fitted on the calibration period (the one clv_selection chose); `fit` is that
    model's calibration fit when the caller has it (clv_selection.compare made it:
    then these figures are the comparison's own, and nothing is fitted again).
    """
    from marketing_engine.clv_sample import fit_rows
    from marketing_engine.clv_selection import MODELS, predict

    counting = MODELS[model]
    x, t_x, T = in_units(calibration, settings.time_unit)
    if fit is None:  # on the seeded sample when the frame flags one (clv_sample)
        fitting = in_units(fit_rows(calibration), settings.time_unit)
        ux, ut_x, uT, weights, _ = distinct_triples(*fitting)
        fit = counting.fit(ux, ut_x, uT, weights)
    if fit.n_customers == 0:
        warnings.warn(
            f"CLV holdout validation is empty: {fit.message} in the calibration period.",
            RuntimeWarning,
            stacklevel=2,
        )
        frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in HOLDOUT_COLUMNS.items()})
        return frame.assign(model=pd.Series(dtype="string"))
    horizon = calibration["holdout_days"].to_numpy(float) / DAYS_PER[settings.time_unit]
    # A fit that did not converge has no valid prediction (it may sit where 2F1 is NaN).
    predicted = predict(counting, fit, horizon, x, t_x, T) if fit.converged else np.nan + x
    actual = calibration["holdout_purchases"].to_numpy(float)
    frame = pd.DataFrame({"x": x, "predicted": predicted, "actual": actual})
    frame["group"] = np.where(frame["x"] >= 7, "7+", frame["x"].astype(int).astype(str))
    rows = []
    groups = [(str(g), part) for g, part in frame.groupby("group", sort=False)]
    order = {str(i): i for i in range(7)} | {"7+": 7}
    for label, part in [*sorted(groups, key=lambda item: order[item[0]]), ("all", frame)]:
        rows.append(
            {
                "calibration_purchases": label,
                "customers": len(part),
                "mean_predicted": float(part["predicted"].mean()),
                "mean_actual": float(part["actual"].mean()),
                "mae": float((part["predicted"] - part["actual"]).abs().mean()),
                "correlation": float(part["predicted"].corr(part["actual"]))
                if len(part) > 2 and part["actual"].std() > 0
                else None,
                "is_converged": fit.converged,
            }
        )
    table = pd.DataFrame(rows).astype(HOLDOUT_COLUMNS)
    return table.assign(model=pd.Series([model] * len(table), dtype="string"))


SUMMARY_SQL = """
with purchase_days as (
    select customer_id, cast({date} as date) as purchase_date, sum({amount}) as amount
    from {relation}
    where cast({date} as date) <= cast($observation_end as date)
    group by 1, 2
),
ranked as (
    select *, row_number() over (partition by customer_id order by purchase_date) as n
    from purchase_days
)
select
    customer_id,
    count(*) - 1 as x,
    date_diff('day', min(purchase_date), max(purchase_date)) as t_x_days,
    date_diff('day', min(purchase_date), cast($observation_end as date)) as t_days,
    avg(case when n > 1 then amount end) as mean_repeat_value,
    max(case when n = 1 then amount end) as first_value
from ranked
group by customer_id
order by customer_id
"""


def summary_from_transactions(
    con, relation: str, observation_end: str, date: str = "date", amount: str = "amount"
) -> pd.DataFrame:
    """The per-customer summary in DuckDB SQL (the CLI's twin of the dbt macro clv_summary).

    `observation_end` is the last day observed (inclusive), as in Fader, Hardie
    and Lee's CDNOW calibration ending 1997-09-30: T runs from the first
    purchase to that day.
    """
    sql = SUMMARY_SQL.format(relation=relation, date=date, amount=amount)
    return con.execute(sql, {"observation_end": observation_end}).df()
