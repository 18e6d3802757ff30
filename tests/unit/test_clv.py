"""BG/NBD and Gamma-Gamma: the published CDNOW fit, numerical stability, fallback."""

from __future__ import annotations

import importlib.resources
import json
import warnings
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from marketing_engine import clv
from marketing_engine.cli import main
from marketing_engine.clv import (
    BgNbdParams,
    ClvSettings,
    GammaGammaParams,
    bgnbd_log_likelihood,
    expected_order_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_validation,
    in_units,
    p_alive,
    score,
    summary_from_transactions,
)

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.45}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The raw CDNOW sample transactions shipped in the lifetimes wheel."""
    path = importlib.resources.files("lifetimes") / "datasets" / "CDNOW_sample.txt"
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw[["customer_id", "date", "amount"]]


@pytest.fixture(scope="module")
def cdnow_summary(cdnow) -> pd.DataFrame:
    con = duckdb.connect()
    con.register("transactions", cdnow)
    return summary_from_transactions(con, "transactions", "1997-09-30")


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_summary):
    assert len(cdnow_summary) == 2357
    fit = fit_bgnbd(*in_units(cdnow_summary, "weeks"))
    assert fit.converged
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fit.params, name) == pytest.approx(published, rel=0.005), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.5)


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow_summary):
    fit = fit_gamma_gamma(cdnow_summary["x"], cdnow_summary["mean_repeat_value"].fillna(0))
    assert fit.n_customers == 946
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fit.params, name) == pytest.approx(published, rel=0.005), name


def test_fit_clv_command_prints_the_fit_as_json(cdnow, tmp_path):
    csv = tmp_path / "cdnow.csv"
    cdnow.assign(date=cdnow["date"].dt.date).to_csv(csv, index=False)
    result = CliRunner().invoke(
        main, ["fit-clv", "--transactions", str(csv), "--calibration-end", "1997-09-30"]
    )
    assert result.exit_code == 0, result.output
    fitted = json.loads(result.output)
    assert fitted["bg_nbd"]["r"] == pytest.approx(0.243, rel=0.005)
    assert fitted["gamma_gamma"]["p"] == pytest.approx(6.25, rel=0.005)
    # Pareto/NBD: Fader, Hardie and Lee (2005), "A note on implementing the Pareto/NBD
    # model in MATLAB", on the same data.
    assert fitted["pareto_nbd"]["s"] == pytest.approx(0.606, rel=0.005)
    assert fitted["mbg_nbd"]["converged"]
    days = CliRunner().invoke(
        main,
        [
            "fit-clv",
            "--transactions",
            str(csv),
            "--calibration-end",
            "1997-09-30",
            "--time-unit",
            "days",
        ],
    )
    # alpha scales with the unit; the shape parameters do not.
    in_days = json.loads(days.output)["bg_nbd"]
    assert in_days["alpha"] == pytest.approx(7 * fitted["bg_nbd"]["alpha"], rel=0.01)
    assert in_days["r"] == pytest.approx(fitted["bg_nbd"]["r"], rel=0.01)


def test_fit_clv_says_why_a_fit_did_not_converge(tmp_path):
    csv = tmp_path / "one_time_buyers.csv"
    csv.write_text("customer_id,date,amount\nA,2020-01-01,10\nB,2020-01-02,20\nC,2020-01-03,30\n")
    result = CliRunner().invoke(main, ["fit-clv", "--transactions", str(csv)])
    assert result.exit_code == 0, result.output
    fitted = json.loads(result.output)
    assert not fitted["bg_nbd"]["converged"]
    assert fitted["bg_nbd"]["message"] == "no repeat purchases: BG/NBD is not identifiable"


def test_fit_clv_names_missing_columns(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("customer,when,amount\nA,2024-01-01,10\n")
    result = CliRunner().invoke(main, ["fit-clv", "--transactions", str(csv)])
    assert result.exit_code == 1
    assert "customer_id" in result.output and "date" in result.output


def test_large_x_and_T_stay_finite():
    params = BgNbdParams(r=0.5, alpha=5.0, a=0.8, b=2.5)
    x = np.array([0, 1, 500, 5000])
    t_x = np.array([0, 10, 900, 9000])
    T = np.array([1e4, 1e4, 1e4, 1e4])
    assert np.isfinite(bgnbd_log_likelihood(params, x, t_x, T)).all()
    alive = p_alive(params, x, t_x, T)
    purchases = expected_purchases(params, 52, x, t_x, T)
    assert np.isfinite(alive).all() and np.isfinite(purchases).all()
    assert alive[0] == 1.0  # x = 0: never seen to repeat, so never seen to drop out
    assert (purchases >= 0).all()


def test_expected_purchases_match_a_direct_hypergeometric_evaluation():
    from scipy.special import hyp2f1

    params = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    x, t_x, T, t = 2.0, 30.43, 38.86, 39.0
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    direct = (
        (a + b + x - 1)
        / (a - 1)
        * (
            1
            - ((alpha + T) / (alpha + T + t)) ** (r + x)
            * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        )
        / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    )
    assert expected_purchases(params, t, x, t_x, T) == pytest.approx(direct, rel=1e-9)


def test_expected_order_value_shrinks_to_the_population_mean():
    params = GammaGammaParams(p=6.25, q=3.74, v=15.45)
    population = 6.25 * 15.45 / 2.74
    values = expected_order_value(params, np.array([0, 1, 50]), np.array([0.0, 100.0, 100.0]))
    assert values[0] == pytest.approx(population)
    assert population < values[1] < values[2] < 100.0 + 1e-9


def test_non_convergence_falls_back_to_rules_with_a_warning():
    # Everyone bought once on day zero and never again: BG/NBD has no finite optimum.
    summary = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(50)],
            "x": 0,
            "t_x_days": 0.0,
            "t_days": 100.0,
            "mean_repeat_value": np.nan,
            "first_value": 50.0,
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores, parameters = score(summary, ClvSettings())
    assert any("did not converge" in str(w.message) for w in caught)
    assert (scores["model"] == "rule_based").all()
    assert scores["p_alive"].between(0, 1).all()
    assert not all(row["is_converged"] for row in parameters)


def test_holdout_validation_on_cdnow_tracks_actual_purchases(cdnow):
    con = duckdb.connect()
    con.register("transactions", cdnow)
    calibration = summary_from_transactions(con, "transactions", "1997-09-30")
    holdout = cdnow[(cdnow["date"] > "1997-09-30") & (cdnow["date"] <= "1998-06-30")]
    counts = holdout.groupby("customer_id")["date"].nunique()
    calibration["holdout_purchases"] = calibration["customer_id"].map(counts).fillna(0)
    calibration["holdout_days"] = (pd.Timestamp("1998-06-30") - pd.Timestamp("1997-09-30")).days
    table = holdout_validation(calibration, ClvSettings()).set_index("calibration_purchases")
    overall = table.loc["all"]
    assert overall["mean_predicted"] == pytest.approx(overall["mean_actual"], rel=0.15)
    assert overall["correlation"] > 0.5
    # More calibration purchases, more predicted holdout purchases.
    predicted = table.drop(index="all")["mean_predicted"]
    assert predicted.is_monotonic_increasing


def test_bgnbd_on_no_customers_is_a_non_converged_fit_not_an_error():
    fit = fit_bgnbd(np.array([]), np.array([]), np.array([]))
    assert not fit.converged
    assert fit.n_customers == 0
    assert "no customers" in fit.message


def test_bgnbd_with_zero_weights_is_a_non_converged_fit():
    fit = fit_bgnbd(np.array([1.0, 0.0]), np.array([3.0, 0.0]), np.array([5.0, 5.0]), [0, 0])
    assert not fit.converged
    assert fit.n_customers == 0


def test_holdout_validation_with_an_empty_calibration_is_an_empty_typed_table():
    calibration = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="string"),
            "x": pd.Series(dtype="int64"),
            "t_x_days": pd.Series(dtype="int64"),
            "t_days": pd.Series(dtype="int64"),
            "mean_repeat_value": pd.Series(dtype="float64"),
            "first_value": pd.Series(dtype="float64"),
            "holdout_purchases": pd.Series(dtype="int64"),
            "holdout_days": pd.Series(dtype="int64"),
        }
    )
    with pytest.warns(RuntimeWarning, match="no customers"):
        table = holdout_validation(calibration, ClvSettings())
    assert table.empty
    assert table.dtypes.astype(str).to_dict() == {
        "calibration_purchases": "string",
        "customers": "int64",
        "mean_predicted": "float64",
        "mean_actual": "float64",
        "mae": "float64",
        "correlation": "float64",
        "is_converged": "bool",
        "model": "string",
    }


def test_holdout_validation_of_three_one_time_buyers_reports_non_convergence():
    calibration = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "x": [0, 0, 0],
            "t_x_days": [0, 0, 0],
            "t_days": [40, 30, 20],
            "mean_repeat_value": [np.nan] * 3,
            "first_value": [10.0, 11.0, 12.0],
            "holdout_purchases": [1, 0, 0],
            "holdout_days": [60, 60, 60],
        }
    )
    table = holdout_validation(calibration, ClvSettings()).set_index("calibration_purchases")
    assert list(table.index) == ["0", "all"]
    assert table.loc["all", "customers"] == 3
    assert not table["is_converged"].any()
    assert table.loc["all", "mean_actual"] == pytest.approx(1 / 3)


def test_a_fit_rejected_at_a_degenerate_edge_says_so_not_the_optimizers_success_text():
    success = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"
    edge = SimpleNamespace(success=True, x=np.array([0.1, 12.0, 0.0, 0.0]), message=success)
    reason = clv._not_converged_reason(edge, -100.0)
    assert reason is not None and "degenerate edge" in reason and success not in reason
    assert not clv._converged(edge, -100.0)
    failed = SimpleNamespace(success=False, x=np.zeros(4), message="ABNORMAL: ")
    assert clv._not_converged_reason(failed, -100.0) == (
        "the optimizer stopped without an optimum (ABNORMAL)"
    )
    inside = SimpleNamespace(success=True, x=np.zeros(4), message=success)
    assert clv._not_converged_reason(inside, float("nan")) is not None
    assert clv._not_converged_reason(inside, -100.0) is None and clv._converged(inside, -100.0)


def test_the_fit_alone_scores_no_customer_and_matches_the_scores_fit(cdnow_summary, monkeypatch):
    """clv_model_parameters fits only (every customer is scored in SQL by clv_scored):
    clv.fit must not run the per-customer scoring, and its parameters are score()'s."""
    summary = cdnow_summary.reset_index(drop=True)
    settings = clv.ClvSettings()
    clv._FIT_CACHE.clear()
    with monkeypatch.context() as patched:
        patched.setattr(clv, "_score", lambda *_: pytest.fail("fit() scored the customers"))
        fitted = clv.fit(summary, settings, "mbg_nbd")
    assert fitted.converged and fitted.model_name == "mbg_nbd"
    clv._SCORE_CACHE.clear()
    _, parameters = clv.score(summary, settings, "mbg_nbd")
    assert parameters == fitted.parameters
