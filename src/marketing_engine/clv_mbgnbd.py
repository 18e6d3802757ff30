"""Modified BG/NBD (Batislam, Denizel and Filiztekin 2007), the MBG/NBD.

Like BG/NBD (Poisson purchases at a gamma(r, alpha) rate while alive), but a
customer may also drop out right after the first purchase, at time 0, with
the same beta(a, b) dropout probability as after every repeat purchase. So a
customer with no repeat purchase is not certain to be alive, which BG/NBD
assumes. Per customer (x, t_x, T), as implemented by lifetimes'
ModifiedBetaGeoFitter (its likelihood is the paper's equation 3):

    L = B(a, b + x + 1) / B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
        * [(alpha + T)^-(r + x) + a / (b + x) * (alpha + t_x)^-(r + x)]

Log space throughout, and the conditional expectation uses the Euler
transform of its hypergeometric function, like clv.expected_purchases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from marketing_engine.clv import Fit, _nbd_gradient, _share_dead, fit_counting_model


@dataclass(frozen=True)
class MbgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


def mbgnbd_log_likelihood(params: MbgNbdParams, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, T) under MBG/NBD."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.logaddexp(a3, a4)


def mbgnbd_gradient(params: MbgNbdParams, x, t_x, T) -> np.ndarray:
    """Per-customer derivatives of mbgnbd_log_likelihood by r, alpha, a, b (columns)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    share_dead = _share_dead(
        -(r + x) * np.log(alpha + T),
        np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x),
    )
    return _nbd_gradient(params, x, t_x, T, share_dead, b + x + 1, a + b + x + 1, b + x)


def fit_mbgnbd(x, t_x, T, weights=None, start=None) -> Fit:
    """Fit MBG/NBD by maximum likelihood; `weights` counts identical customers."""
    return fit_counting_model(
        "MBG/NBD",
        mbgnbd_log_likelihood,
        MbgNbdParams,
        (False, True, False, False),
        x,
        t_x,
        T,
        weights,
        gradient=mbgnbd_gradient,
        start=start,
    )


def mbgnbd_p_alive(params: MbgNbdParams, x, t_x, T) -> np.ndarray:
    """Probability the customer is still active at T (below 1 even with x = 0)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_odds_dead = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return expit(-log_odds_dead)


def mbgnbd_expected_purchases(params: MbgNbdParams, t, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next `t` time units given (x, t_x, T)."""
    return mbgnbd_purchases_if_alive(params, t, x, T) * mbgnbd_p_alive(params, x, t_x, T)


def mbgnbd_purchases_if_alive(params: MbgNbdParams, t, x, T) -> np.ndarray:
    """Expected purchases in the next `t` time units for a customer alive at T."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    # ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)
    #   = (1-z)^(a-1) 2F1(a+b-r, a-1; a+b+x; z)   (Euler)
    if abs(a - 1) < 1e-9:  # the a -> 1 limit of (1 - tail)/(a - 1), before tail
        a = 1 + 1e-9
    tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - r, a - 1, a + b + x, z)
    return (a + b + x) / (a - 1) * (1 - tail)
