"""Experiment statistics: hand-computed cases, and seeded simulations that check the
error rates the statistics promise (A/A tests reject about alpha of the time; planted
effects of the stated minimum detectable size are found at about the stated power)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from marketing_engine.campaigns import (
    CampaignSettings,
    pre_period_revenue,
    results,
    welch_difference,
)
from marketing_engine.experiments import (
    adjust_p_values,
    cuped_adjust,
    cuped_theta,
    mde_difference,
    mde_proportions,
    power_of_difference,
    srm_p_value,
)

ALPHA, POWER = 0.05, 0.8


def test_holm_and_benjamini_hochberg_match_hand_computations():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 -> max 0.06.
    assert adjust_p_values(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: p x 4 / rank = 0.02, 0.02, 0.04, 0.04, then running minimum from the top.
    assert adjust_p_values(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # A missing p-value is neither counted nor filled; adjusted values stop at 1.
    adjusted = adjust_p_values([0.5, float("nan"), 0.6], "holm")
    assert math.isnan(adjusted[1]) and adjusted[0] == 1.0 and adjusted[2] == 1.0
    with pytest.raises(ValueError, match="correction must be one of"):
        adjust_p_values(p, "bonferroni")


def test_srm_is_a_chi_square_against_the_configured_share():
    # 120 holdout of 1,000 at a 10% share: expected 100 / 900.
    statistic = (120 - 100) ** 2 / 100 + (880 - 900) ** 2 / 900
    assert srm_p_value(120, 880, 0.10) == pytest.approx(math.erfc(math.sqrt(statistic / 2)))
    assert srm_p_value(100, 900, 0.10) == pytest.approx(1.0)
    assert srm_p_value(300, 700, 0.10) < 1e-10
    assert math.isnan(srm_p_value(0, 0, 0.10))


def test_minimum_detectable_effects_match_hand_computations():
    # (z_0.975 + z_0.8) x sqrt(1/100 + 1/100) = 2.8016 x 0.14142
    assert mde_difference(1, 100, 1, 100, ALPHA, POWER) == pytest.approx(0.396204, abs=1e-6)
    # around a 10% rate with 1,000 per arm: 2.8016 x sqrt(0.09 x 0.002)
    assert mde_proportions(0.1, 1000, 1000, ALPHA, POWER) == pytest.approx(
        2.801585 * math.sqrt(0.09 * 0.002), rel=1e-5
    )
    assert math.isnan(mde_difference(0, 50, 0, 50, ALPHA, POWER))  # nobody spent anything
    # An effect of exactly the MDE is found with the stated power.
    se = math.sqrt(2 / 100)
    assert power_of_difference(0.396204, se, ALPHA) == pytest.approx(POWER, abs=1e-4)


def test_cuped_theta_and_adjustment_match_a_hand_computation():
    y = np.array([1.0, 3.0, 2.0, 6.0])
    x = np.array([1.0, 2.0, 2.0, 3.0])
    # deviations x: -1, 0, 0, 1; y: -2, 0, -1, 3 -> cov = 5/3, var(x) = 2/3, theta = 2.5
    assert cuped_theta(y, x) == pytest.approx(2.5)
    assert cuped_adjust(y, x, 2.5, 2.0) == pytest.approx([3.5, 3.0, 2.0, 3.5])
    assert cuped_theta(y, np.ones(4)) == 0.0  # a covariate that does not vary: no change


def _revenue(rng, n, lift=0.0, pre=None):
    """Zero-inflated lognormal revenue, correlated with pre-period revenue when given."""
    base = rng.lognormal(3.0, 0.6, n) if pre is None else 0.6 * pre + rng.lognormal(2.5, 0.6, n)
    return np.where(rng.uniform(size=n) < 0.3, base, 0.0) + lift


def test_aa_tests_reject_at_about_alpha():
    rng = np.random.default_rng(20261125)
    rejections = 0
    for _ in range(2000):
        treated, control = _revenue(rng, 400), _revenue(rng, 400)
        rejections += welch_difference(treated, control, ALPHA).p_value < ALPHA
    # 2,000 runs: sd of the share is 0.005; allow about 3 sd.
    assert 0.035 <= rejections / 2000 <= 0.065


def test_planted_effects_of_the_mde_are_found_at_about_the_stated_power():
    rng = np.random.default_rng(7)
    probe_t, probe_c = _revenue(rng, 200_000), _revenue(rng, 200_000)
    mde = mde_difference(probe_t.std(ddof=1), 400, probe_c.std(ddof=1), 400, ALPHA, POWER)
    found = 0
    for _ in range(2000):
        treated, control = _revenue(rng, 400, lift=mde), _revenue(rng, 400)
        found += welch_difference(treated, control, ALPHA).p_value < ALPHA
    # 2,000 runs: sd of the share is 0.009.
    assert 0.77 <= found / 2000 <= 0.83


def test_cuped_keeps_the_false_positive_rate_and_adds_power():
    rng = np.random.default_rng(11)
    aa_rejections, plain_found, cuped_found = 0, 0, 0
    n = 300
    for run in range(1500):
        pre = rng.lognormal(3.0, 0.8, 2 * n)  # revenue before the send
        lift = 0.0 if run % 2 == 0 else 2.5
        y = 0.8 * pre + rng.lognormal(2.0, 0.6, 2 * n)
        y[:n] += lift
        theta = cuped_theta(y, pre)
        adjusted = cuped_adjust(y, pre, theta, pre.mean())
        cuped_p = welch_difference(adjusted[:n], adjusted[n:], ALPHA).p_value
        plain_p = welch_difference(y[:n], y[n:], ALPHA).p_value
        if lift == 0:
            aa_rejections += cuped_p < ALPHA
        else:
            plain_found += plain_p < ALPHA
            cuped_found += cuped_p < ALPHA
    # 750 A/A runs: sd of the share is 0.008.
    assert 0.025 <= aa_rejections / 750 <= 0.075
    # Most of the outcome's variance is the pre-period's: CUPED finds far more.
    assert cuped_found > 1.5 * plain_found


def test_holm_keeps_the_family_wise_error_rate_under_alpha():
    rng = np.random.default_rng(3)
    any_raw, any_holm = 0, 0
    for _ in range(1000):
        p = [
            welch_difference(_revenue(rng, 200), _revenue(rng, 200), ALPHA).p_value
            for _ in range(10)
        ]
        any_raw += min(p) < ALPHA
        any_holm += np.nanmin(adjust_p_values(p, "holm")) < ALPHA
    assert any_raw / 1000 > 0.3  # ten uncorrected tests: about 40% see a false winner
    assert any_holm / 1000 <= 0.065


def _outcomes(groups: dict[str, tuple[int, int, int, int, int]]) -> pd.DataFrame:
    """groups: segment -> (holdout, A sends, A conversions, B sends, B conversions)."""
    rows = []
    for segment, (holdout, a_n, a_conv, b_n, b_conv) in groups.items():
        for variant, n, conversions in (("H", holdout, 0), ("A", a_n, a_conv), ("B", b_n, b_conv)):
            for i in range(n):
                converted = i < conversions
                rows.append(
                    {
                        "send_id": f"{segment}-{variant}-{i}",
                        "campaign_id": "CMP",
                        "customer_id": f"{segment}-{variant}-{i}",
                        "offer_id": "OFR1",
                        "segment_name": segment,
                        "variant": "A" if variant == "H" else variant,
                        "is_holdout": variant == "H",
                        "sent_at": pd.Timestamp("2026-11-05"),
                        "is_delivered": variant != "H",
                        "is_opened": False,
                        "is_clicked": False,
                        "is_converted": converted,
                        "revenue": 10.0 * converted,
                        "source": "observed",
                    }
                )
    return pd.DataFrame(rows)


def test_a_winner_needs_the_corrected_test():
    # 60/400 vs 40/400: pooled 0.125, se = sqrt(0.125 x 0.875 x 2/400) = 0.023385,
    # z = 0.05 / se = 2.138, two-sided p = 0.0325 alone.
    alone = results(
        _outcomes({"S0": (89, 400, 60, 400, 40)}), pd.Series(dtype=float), CampaignSettings()
    )
    assert alone["ab_p_value"].iloc[0] == pytest.approx(0.0325, abs=2e-4)
    assert set(alone["ab_winner"]) == {"A"}
    # The same test among nine null tests: Holm multiplies its p-value by ten.
    groups = {"S0": (89, 400, 60, 400, 40)} | {
        f"S{i}": (89, 400, 50, 400, 50) for i in range(1, 10)
    }
    table = results(_outcomes(groups), pd.Series(dtype=float), CampaignSettings())
    s0 = table[table["segment_name"] == "S0"]
    assert s0["ab_p_value_adjusted"].iloc[0] == pytest.approx(10 * 0.0325, abs=3e-3)
    assert s0["ab_winner"].isna().all() and not table["is_winner"].any()
    assert "not after the Holm correction" in s0["note"].iloc[0]
    bh = results(_outcomes(groups), pd.Series(dtype=float), CampaignSettings(correction="bh"))
    assert set(bh["correction_method"]) == {"bh"}


def test_a_sample_ratio_mismatch_blocks_the_winner_and_says_why():
    # A 30% holdout where 10% was configured, with an A/B difference no correction hides.
    table = results(
        _outcomes({"S0": (343, 400, 120, 400, 40)}), pd.Series(dtype=float), CampaignSettings()
    )
    assert table["has_srm"].all() and (table["srm_p_value"] < 0.001).all()
    assert table["ab_p_value_adjusted"].iloc[0] < 1e-6
    assert table["ab_winner"].isna().all()
    assert "sample ratio mismatch" in table["note"].iloc[0]
    assert table["holdout_share"].iloc[0] == pytest.approx(343 / 1143)


def test_pre_period_revenue_sums_the_days_before_each_send():
    outcomes = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C1"],
            "sent_at": pd.to_datetime(["2026-03-31"] * 2 + ["2026-01-05"]),
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C1", "C2"],
            "order_date": pd.to_datetime(["2026-03-30", "2026-01-01", "2026-03-31", "2025-12-01"]),
            "revenue": [10.0, 5.0, 99.0, 7.0],
        }
    )
    # C1 at 03-31: 03-30 and 01-01 are inside the 90 days before, 03-31 is the send day;
    # C2's 2025-12-01 order is 120 days before; C1 at 01-05: only 01-01.
    assert list(pre_period_revenue(outcomes, orders, 90)) == [15.0, 0.0, 5.0]


def test_tests_that_cannot_be_measured_say_why_in_plain_words():
    # S0: one holdout customer (a 10% share of 20 sends is 2, so no sample-ratio alarm):
    # no Welch interval, no p-value, no minimum detectable effect.
    # S1: nobody converted, sent or not: every revenue is 0, the p-value is 1 by
    # construction and no effect size can be stated.
    table = results(
        _outcomes({"S0": (1, 10, 3, 10, 2), "S1": (20, 90, 0, 90, 0)}),
        pd.Series(dtype=float),
        CampaignSettings(),
    )
    s0, s1 = table[table["segment_name"] == "S0"], table[table["segment_name"] == "S1"]
    assert not table["has_srm"].any()
    assert s0["p_value"].isna().all() and s0["mde_revenue_per_recipient"].isna().all()
    assert all("only 1 holdout customer" in str(note) for note in s0["note"])
    assert s1["mde_revenue_per_recipient"].isna().all()
    assert all("revenue does not vary in this test" in str(note) for note in s1["note"])
