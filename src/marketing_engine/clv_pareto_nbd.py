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

from marketing_engine.clv import Fit, fit_counting_model


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


def _log_a0(params: ParetoNbdParams, x, t_x, T) -> np.ndarray:
    """log(F(t_x) - F(T)); -inf when t_x = T."""
    at_last = _log_f(params, x, t_x)
    at_end = _log_f(params, x, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        return at_last + np.log(np.maximum(-np.expm1(at_end - at_last), 0.0))


def pareto_nbd_log_likelihood(params: ParetoNbdParams, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, T) under Pareto/NBD."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, T)
    return head + np.logaddexp(alive, died)


def fit_pareto_nbd(x, t_x, T, weights=None) -> Fit:
    """Fit Pareto/NBD by maximum likelihood; `weights` counts identical customers."""
    return fit_counting_model(
        "Pareto/NBD",
        pareto_nbd_log_likelihood,
        ParetoNbdParams,
        (False, True, False, True),
        x,
        t_x,
        T,
        weights,
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
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = np.asarray(t, dtype=float)
    log_ratio = np.log1p(t / (beta + T))  # log((beta+T+t)/(beta+T))
    if abs(s - 1) < 1e-9:  # the s -> 1 limit
        s = 1 + 1e-9
    integral = -np.expm1(-(s - 1) * log_ratio) / (s - 1)
    rate = (r + x) / (alpha + T) * (beta + T)
    return rate * integral * pareto_nbd_p_alive(params, x, t_x, T)
