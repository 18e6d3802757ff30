"""MBG/NBD and Pareto/NBD: reference fits on CDNOW, numerical stability, weighted triples.

Reference figures and where they come from:
* Pareto/NBD on the 2,357-customer CDNOW sample, 39-week calibration (to
  1997-09-30), time in weeks: r = 0.553, alpha = 10.578, s = 0.606,
  beta = 11.669, log-likelihood -9595.0 (Fader, Hardie and Lee 2005, "A Note on
  Implementing the Pareto/NBD Model in MATLAB", brucehardie.com/notes/008).
  lifetimes 0.11.3's ParetoNBDFitter, run live below, agrees.
* MBG/NBD: no published CDNOW fit exists (Batislam, Denizel and Filiztekin 2007
  used grocery data), so the reference is lifetimes 0.11.3's
  ModifiedBetaGeoFitter, an independent implementation, fitted live on the same data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import gammaln, hyp2f1

from marketing_engine.clv import (
    BgNbdParams,
    ClvSettings,
    bgnbd_gradient,
    bgnbd_log_likelihood,
    distinct_triples,
    fit_bgnbd,
    in_units,
    score,
)
from marketing_engine.clv_mbgnbd import (
    MbgNbdParams,
    fit_mbgnbd,
    mbgnbd_expected_purchases,
    mbgnbd_gradient,
    mbgnbd_log_likelihood,
    mbgnbd_p_alive,
)
from marketing_engine.clv_pareto_nbd import (
    ParetoNbdParams,
    fit_pareto_nbd,
    pareto_nbd_expected_purchases,
    pareto_nbd_log_likelihood,
    pareto_nbd_p_alive,
)
from tests.unit.test_clv import cdnow, cdnow_summary  # noqa: F401 (fixtures)

PUBLISHED_PARETO_NBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


@pytest.fixture(scope="module")
def cdnow_weeks(cdnow_summary):  # noqa: F811
    return in_units(cdnow_summary, "weeks")


def _lifetimes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes
    return lifetimes


def test_pareto_nbd_reproduces_the_published_cdnow_fit(cdnow_weeks):
    fit = fit_pareto_nbd(*cdnow_weeks)
    assert fit.converged and fit.n_customers == 2357
    for name, published in PUBLISHED_PARETO_NBD.items():
        assert getattr(fit.params, name) == pytest.approx(published, rel=0.005), name
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.5)


def test_pareto_nbd_agrees_with_lifetimes(cdnow_weeks):
    x, t_x, T = cdnow_weeks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = _lifetimes().ParetoNBDFitter().fit(x, t_x, T)
    ours = fit_pareto_nbd(x, t_x, T)
    for name in ("r", "alpha", "s", "beta"):
        assert getattr(ours.params, name) == pytest.approx(reference.params_[name], rel=0.005)
    # Same parameters -> same predictions, to float precision.
    params = ParetoNbdParams(*(reference.params_[k] for k in ("r", "alpha", "s", "beta")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alive = reference.conditional_probability_alive(x, t_x, T)
        purchases = reference.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T)
    assert pareto_nbd_p_alive(params, x, t_x, T) == pytest.approx(np.asarray(alive), rel=1e-5)
    assert pareto_nbd_expected_purchases(params, 39, x, t_x, T) == pytest.approx(
        np.asarray(purchases), rel=1e-5
    )


def test_mbgnbd_matches_lifetimes_on_cdnow(cdnow_weeks):
    x, t_x, T = cdnow_weeks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = _lifetimes().ModifiedBetaGeoFitter().fit(x, t_x, T)
    ours = fit_mbgnbd(x, t_x, T)
    assert ours.converged
    for name in ("r", "alpha", "a", "b"):
        assert getattr(ours.params, name) == pytest.approx(reference.params_[name], rel=0.005)
    params = MbgNbdParams(*(reference.params_[k] for k in ("r", "alpha", "a", "b")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alive = reference.conditional_probability_alive(x, t_x, T)
        purchases = reference.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T)
    assert mbgnbd_p_alive(params, x, t_x, T) == pytest.approx(np.asarray(alive), rel=1e-6)
    assert mbgnbd_expected_purchases(params, 39, x, t_x, T) == pytest.approx(
        np.asarray(purchases), rel=1e-6
    )
    # Unlike BG/NBD, a customer with no repeat purchase may have dropped out.
    assert (mbgnbd_p_alive(params, x, t_x, T)[x == 0] < 1).all()


def _naive_pareto_nbd_log_likelihood(params: ParetoNbdParams, x, t_x, T) -> np.ndarray:
    """The note's formula as written (no transform, no log space): fine for small x."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    big, small = (alpha, beta) if alpha >= beta else (beta, alpha)
    second = s + 1 if alpha >= beta else r + x

    def f(u):
        return hyp2f1(r + s + x, second, r + s + x + 1, (big - small) / (big + u)) / (big + u) ** (
            r + s + x
        )

    a0 = f(t_x) - f(T)
    head = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r * beta**s
    return np.log(head * (1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / (r + s + x) * a0))


@pytest.mark.parametrize(
    "params",
    [ParetoNbdParams(0.55, 10.6, 0.61, 11.7), ParetoNbdParams(0.9, 14.0, 0.4, 3.0)],
    ids=["alpha<beta", "alpha>=beta"],
)
def test_pareto_nbd_stable_form_equals_the_formula_as_published(params):
    x = np.array([0, 0, 1, 2, 5, 10])
    t_x = np.array([0, 0, 3.0, 10.0, 30.0, 35.0])
    T = np.array([5.0, 39.0, 39.0, 39.0, 39.0, 39.0])
    assert pareto_nbd_log_likelihood(params, x, t_x, T) == pytest.approx(
        _naive_pareto_nbd_log_likelihood(params, x, t_x, T), rel=1e-9
    )


@pytest.mark.parametrize(
    "params", [ParetoNbdParams(0.55, 10.6, 0.61, 11.7), ParetoNbdParams(0.9, 14.0, 0.4, 3.0)]
)
def test_pareto_nbd_and_mbgnbd_stay_finite_for_large_x_and_T(params):
    x = np.array([0, 1, 500, 5000])
    t_x = np.array([0, 10, 900, 9000.0])
    T = np.full(4, 1e4)
    # The published form overflows here (2F1 with a first parameter of 5000).
    assert np.isfinite(pareto_nbd_log_likelihood(params, x, t_x, T)).all()
    alive = pareto_nbd_p_alive(params, x, t_x, T)
    assert np.isfinite(alive).all() and ((alive >= 0) & (alive <= 1)).all()
    assert np.isfinite(pareto_nbd_expected_purchases(params, 52, x, t_x, T)).all()
    mbg = MbgNbdParams(0.5, 5.0, 0.8, 2.5)
    assert np.isfinite(mbgnbd_log_likelihood(mbg, x, t_x, T)).all()
    assert np.isfinite(mbgnbd_expected_purchases(mbg, 52, x, t_x, T)).all()


@pytest.mark.parametrize(
    ("log_likelihood", "gradient", "make"),
    [
        (bgnbd_log_likelihood, bgnbd_gradient, BgNbdParams),
        (mbgnbd_log_likelihood, mbgnbd_gradient, MbgNbdParams),
    ],
)
def test_analytic_gradients_match_finite_differences(log_likelihood, gradient, make):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, 200).astype(float)
    T = rng.uniform(1, 100, 200)
    t_x = np.where(x > 0, T * rng.uniform(0, 1, 200), 0)
    theta = np.array([0.7, 3.0, 0.8, 2.5])
    analytic = gradient(make(*theta), x, t_x, T)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        numeric = (
            log_likelihood(make(*(theta + step)), x, t_x, T)
            - log_likelihood(make(*(theta - step)), x, t_x, T)
        ) / 2e-6
        assert analytic[:, k] == pytest.approx(numeric, abs=1e-6)


@pytest.mark.parametrize("fit", [fit_bgnbd, fit_mbgnbd, fit_pareto_nbd])
def test_fitting_weighted_distinct_triples_equals_one_row_per_customer(cdnow_weeks, fit):
    x, t_x, T = cdnow_weeks
    per_customer = fit(x, t_x, T, np.ones_like(x))
    ux, ut_x, uT, weights, inverse = distinct_triples(x, t_x, T)
    assert len(ux) < len(x)  # CDNOW has many identical one-time buyers
    np.testing.assert_array_equal(ux[inverse], x)
    weighted = fit(ux, ut_x, uT, weights)
    assert weighted.log_likelihood == pytest.approx(per_customer.log_likelihood, abs=1e-4)
    for name, value in vars(per_customer.params).items():
        assert getattr(weighted.params, name) == pytest.approx(value, rel=1e-3), name


@pytest.mark.parametrize(
    ("model", "expected", "make"),
    [
        ("mbg_nbd", mbgnbd_expected_purchases, MbgNbdParams),
        ("pareto_nbd", pareto_nbd_expected_purchases, ParetoNbdParams),
    ],
)
def test_scores_per_distinct_triple_equal_the_per_customer_formula(
    cdnow_summary,  # noqa: F811
    model,
    expected,
    make,
):
    summary = cdnow_summary.assign(customer_id=cdnow_summary["customer_id"].astype(str))
    scores, parameters = score(summary, ClvSettings(), model)
    assert (scores["model"] == f"{model}_gamma_gamma").all()
    row = next(p for p in parameters if p["model"] == model)
    params = make(*(row[f] for f in make.__dataclass_fields__))
    x, t_x, T = in_units(summary, "weeks")
    direct = expected(params, 90 / 7, x, t_x, T)
    assert scores["expected_purchases_90d"].to_numpy() == pytest.approx(direct, rel=1e-9)


def test_score_rejects_an_unknown_model(cdnow_summary):  # noqa: F811
    with pytest.raises(ValueError, match="unknown CLV model 'nope'"):
        score(cdnow_summary.head(50), ClvSettings(), "nope")


def test_an_empty_summary_is_not_identifiable_for_any_model():
    empty = np.zeros(0)
    for fit in (fit_mbgnbd, fit_pareto_nbd):
        result = fit(empty, empty, empty)
        assert not result.converged and "no customers" in result.message
    only_one_timers = fit_pareto_nbd(np.zeros(5), np.zeros(5), np.full(5, 10.0))
    assert not only_one_timers.converged
    assert "not identifiable" in only_one_timers.message


def test_purchases_if_alive_at_a_equal_to_one_is_the_limit_not_zero():
    # At a = 1 exactly, (1 - tail) / (a - 1) is 0 / 0: the limit must be used before the
    # tail is computed, or every customer is predicted 0 purchases.
    from marketing_engine.clv import BgNbdParams, purchases_if_alive
    from marketing_engine.clv_mbgnbd import mbgnbd_purchases_if_alive

    for function, make in (
        (purchases_if_alive, BgNbdParams),
        (mbgnbd_purchases_if_alive, MbgNbdParams),
    ):
        at_one = function(make(0.5, 5.0, 1.0, 2.5), 10.0, 3.0, 20.0)
        near_one = function(make(0.5, 5.0, 1.0 + 1e-6, 2.5), 10.0, 3.0, 20.0)
        assert at_one == pytest.approx(near_one, rel=1e-4)
        assert near_one > 0.5


def test_fits_do_not_depend_on_the_blas_thread_count():
    """dbt runs models on several threads and the clustering limits BLAS threads
    process-wide while it fits: a CLV fit must give the same numbers either way."""
    from threadpoolctl import threadpool_limits

    from marketing_engine.clv import fit_bgnbd

    rng = np.random.default_rng(2)
    n = 60_000  # past the size where a BLAS dot splits its work between threads
    T = rng.integers(10, 400, n).astype(float)
    t_x = np.floor(T * rng.random(n))
    x = np.where(t_x > 0, rng.integers(1, 30, n), 0).astype(float)
    with threadpool_limits(limits=1):
        one = fit_bgnbd(x, t_x, T)
    with threadpool_limits(limits=2):
        two = fit_bgnbd(x, t_x, T)
    assert one.params == two.params and one.log_likelihood == two.log_likelihood
