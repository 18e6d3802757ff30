"""Pareto/NBD (Schmittlein, Morrison and Colombo 1987), fitted as in Fader, Hardie
and Lee (2005), "A note on implementing the Pareto/NBD model in MATLAB".

Purchases are Poisson at a gamma(r, alpha) rate while alive; the lifetime is
exponential at a gamma(s, beta) dropout rate. Per customer (x, t_x, T):

    L = Gamma(r + x) alpha^r beta^s / Gamma(r)
        * [1 / ((alpha + T)^(r + x) (beta + T)^s) + s / (r + s + x) * A0]

with A0 = F(t_x) - F(T) and, for alpha >= beta,
F(u) = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+u)) / (alpha+u)^(r+s+x)
(alpha and beta swap roles, and s+1 becomes r+x, when alpha < beta).

Numerical care: that 2F1 grows like (1 - z)^-s as z -> 1 and its first
parameter grows with x, so it is never evaluated as written. The Euler
transform turns it into (1 - z)^-s 2F1(1, r+x; r+s+x+1; z) (resp.
(1 - z)^(1-r-x) 2F1(1, s+1; r+s+x+1; z)), whose series has positive terms
shrinking at least like z^n: bounded, no overflow, no cancellation. Then

    F(u) = (alpha+u)^-(r+x) (beta+u)^-s G(u),
    G(u) = 2F1(1, r+x; r+s+x+1; (alpha-beta)/(alpha+u))             alpha >= beta
    G(u) = (alpha+u)/(beta+u) 2F1(1, s+1; r+s+x+1; (beta-alpha)/(beta+u))  alpha < beta

and log A0 = log F(t_x) + log(1 - exp(log F(T) - log F(t_x))), all in log space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from marketing_engine.clv import Fit, distinct_rows, distinct_triples, fit_counting_model


@dataclass(frozen=True)
class ParetoNbdParams:
    r: float
    alpha: float
    s: float
    beta: float


def _log_f(params: ParetoNbdParams, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """log F(u) of the module docstring, stable for any x and alpha, beta."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    c = r + s + x + 1
    if alpha >= beta:
        g = np.log(hyp2f1(1.0, r + x, c, (alpha - beta) / (alpha + u)))
    else:
        g = (
            np.log(alpha + u)
            - np.log(beta + u)
            + np.log(hyp2f1(1.0, s + 1, c, (beta - alpha) / (beta + u)))
        )
    return -(r + x) * np.log(alpha + u) - s * np.log(beta + u) + g


def _log_f_per_pair(params: ParetoNbdParams, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """log F(u) computed once per distinct (x, u): hyp2f1 is the costly part."""
    if len(x) < 2:
        return _log_f(params, x, u)
    unique, inverse = distinct_rows(np.column_stack([x, u]))
    return _log_f(params, unique[:, 0], unique[:, 1])[inverse]


def _log_a0(params: ParetoNbdParams, x, t_x, T, pairs=None) -> np.ndarray:
    """log(F(t_x) - F(T)); -inf when t_x = T. `pairs` from _pairs() saves the sorting."""
    if pairs is None:
        at_last = _log_f_per_pair(params, x, t_x)
        at_end = _log_f_per_pair(params, x, T)
    else:
        (last_x, last_u, last_index), (end_x, end_u, end_index) = pairs
        at_last = _log_f(params, last_x, last_u)[last_index]
        at_end = _log_f(params, end_x, end_u)[end_index]
    with np.errstate(divide="ignore", invalid="ignore"):
        return at_last + np.log(np.maximum(-np.expm1(at_end - at_last), 0.0))


def _pairs(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple:
    """The distinct (x, t_x) and (x, T) pairs and each row's index among them."""
    result = []
    for u in (t_x, T):
        unique, inverse = distinct_rows(np.column_stack([x, u]))
        result.append((unique[:, 0], unique[:, 1], inverse))
    return tuple(result)


def pareto_nbd_log_likelihood(params: ParetoNbdParams, x, t_x, T, pairs=None) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, T) under Pareto/NBD."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, T, pairs)
    return head + np.logaddexp(alive, died)


def fit_pareto_nbd(x, t_x, T, weights=None, start=None) -> Fit:
    """Fit Pareto/NBD by maximum likelihood; `weights` counts identical customers."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if weights is None:
        x, t_x, T, weights, _ = distinct_triples(x, t_x, T)
    pairs = _pairs(x, t_x, T) if len(x) else None

    def log_likelihood(params, x_, t_x_, T_):
        return pareto_nbd_log_likelihood(params, x_, t_x_, T_, pairs)

    return fit_counting_model(
        "Pareto/NBD",
        log_likelihood,
        ParetoNbdParams,
        (False, True, False, True),
        x,
        t_x,
        T,
        weights,
        start=start,
    )


def pareto_nbd_p_alive(params: ParetoNbdParams, x, t_x, T) -> np.ndarray:
    """P(alive at T) = 1 / (1 + s / (r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_odds_dead = (
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + T)
        + s * np.log(beta + T)
        + _log_a0(params, x, t_x, T)
    )
    return expit(-log_odds_dead)


def pareto_nbd_expected_purchases(params: ParetoNbdParams, t, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next `t` time units given (x, t_x, T):
    (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)."""
    return pareto_nbd_purchases_if_alive(params, t, x, T) * pareto_nbd_p_alive(params, x, t_x, T)


def pareto_nbd_purchases_if_alive(params: ParetoNbdParams, t, x, T) -> np.ndarray:
    """Expected purchases in the next `t` time units for a customer alive at T."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    t = np.asarray(t, dtype=float)
    log_ratio = np.log1p(t / (beta + T))  # log((beta+T+t)/(beta+T))
    if abs(s - 1) < 1e-9:  # the s -> 1 limit
        s = 1 + 1e-9
    integral = -np.expm1(-(s - 1) * log_ratio) / (s - 1)
    return (r + x) / (alpha + T) * (beta + T) * integral
