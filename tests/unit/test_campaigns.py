"""Campaign measurement formulas (hand-computed cases) and the simulation's properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from marketing_engine.campaigns import (
    CampaignSettings,
    results,
    simulate,
    two_proportion_test,
    welch_difference,
)

SENT = pd.Timestamp("2026-11-05 04:30:00")


def test_welch_interval_matches_a_hand_computation():
    treated = np.array([10.0, 0.0, 20.0, 0.0, 30.0])  # mean 12, sample variance 170
    control = np.array([0.0, 10.0, 0.0, 0.0])  # mean 2.5, sample variance 25
    result = welch_difference(treated, control)
    se = math.sqrt(170 / 5 + 25 / 4)  # = sqrt(40.25) = 6.3443
    assert result.estimate == pytest.approx(9.5)
    assert result.lower == pytest.approx(9.5 - 1.959964 * se, rel=1e-6)
    assert result.upper == pytest.approx(9.5 + 1.959964 * se, rel=1e-6)
    # z = 9.5 / 6.3443 = 1.4974 -> two-sided p = 0.1343
    assert result.p_value == pytest.approx(0.1343, abs=1e-4)


def test_two_proportion_test_matches_a_hand_computation():
    # 60/500 vs 40/500: pooled p = 0.1, se = sqrt(0.1*0.9*(2/500)) = 0.018974
    # z = 0.04 / 0.018974 = 2.1082 -> p = 0.03502
    assert two_proportion_test(60, 500, 40, 500) == pytest.approx(0.03502, abs=1e-5)
    assert two_proportion_test(50, 500, 50, 500) == pytest.approx(1.0)


def targets(n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "segment_name": rng.choice(["Champions", "Lost"], n),
            "event_id": "EVT1",
            "offer_id": "OFR1",
            "offer_type": "percent_discount",
            "offer_category": "Sarees",
            "recency_days": rng.choice([10, 400], n),
            "frequency": rng.integers(1, 30, n),
            "expected_order_value": 2000.0,
            "aov": 1800.0,
            "expected_purchases_30d": 0.3,
        }
    )


def test_simulation_is_deterministic_and_holds_out_the_configured_share():
    frame = targets()
    settings = CampaignSettings(holdout_share=0.10)
    first = simulate(frame, settings, SENT)
    second = simulate(frame.sample(frac=1, random_state=1), settings, SENT)
    pd.testing.assert_frame_equal(
        first.sort_values("send_id").reset_index(drop=True),
        second.sort_values("send_id").reset_index(drop=True),
    )
    assert first["is_holdout"].mean() == pytest.approx(0.10, abs=0.01)
    held = first[first["is_holdout"]]
    assert not held["is_delivered"].any() and not held["is_opened"].any()


def test_recent_customers_respond_more_and_messages_lift_conversion():
    outcome = simulate(targets(), CampaignSettings(), SENT)
    recency = targets().set_index("customer_id")["recency_days"]
    outcome["recent"] = outcome["customer_id"].map(recency).to_numpy() <= 60
    sent = outcome[~outcome["is_holdout"]]
    assert (
        sent.loc[sent["recent"], "is_opened"].mean() > sent.loc[~sent["recent"], "is_opened"].mean()
    )
    holdout = outcome[outcome["is_holdout"]]
    assert sent["is_converted"].mean() > holdout["is_converted"].mean()


def test_results_report_uplift_and_declare_a_winner_only_when_significant():
    outcome = simulate(targets(), CampaignSettings(), SENT)
    table = results(outcome, pd.Series({"OFR1": 20.0}), CampaignSettings())
    assert set(table["variant"]) == {"A", "B"}
    for row in table.itertuples():
        assert row.uplift_ci_lower <= row.incremental_revenue <= row.uplift_ci_upper
        assert 0 <= row.open_rate <= 1 and 0 <= row.click_rate <= row.open_rate
    significant = table["ab_p_value"] < 0.05
    assert (table.loc[~significant, "ab_winner"].isna()).all()
    assert table["is_winner"].sum() == (table["ab_winner"].notna().sum() // 2)
    # Variant B opens more by construction; at 20k customers B should win or tie.
    assert set(table["ab_winner"].dropna()) <= {"B"}


def test_results_of_outcomes_without_an_offer_are_a_typed_empty_table():
    """Rows whose group key is missing leave no result rows; the table keeps its types."""
    from marketing_engine.campaigns import RESULT_COLUMNS, CampaignSettings, results

    outcomes = pd.DataFrame(
        {
            "send_id": ["S1"],
            "campaign_id": ["C1"],
            "customer_id": ["K1"],
            "offer_id": [None],
            "segment_name": [None],
            "variant": ["A"],
            "is_holdout": [False],
            "is_delivered": [True],
            "is_opened": [False],
            "is_clicked": [False],
            "is_converted": [False],
            "revenue": [0.0],
            "source": ["observed"],
        }
    )
    table = results(outcomes, pd.Series(dtype=float), CampaignSettings.from_mapping({}))
    assert list(table.columns) == RESULT_COLUMNS and table.empty
    assert table["sends"].dtype == "int64" and table["is_winner"].dtype == bool
    assert table["campaign_id"].dtype == "string"


def test_results_keep_ab_winner_text_when_no_test_is_significant():
    from marketing_engine.campaigns import CampaignSettings, results

    outcomes = pd.DataFrame(
        {
            "send_id": ["S1", "S2"],
            "campaign_id": ["C1", "C1"],
            "customer_id": ["K1", "K2"],
            "offer_id": ["O1", "O1"],
            "segment_name": ["Loyal", "Loyal"],
            "variant": ["A", "A"],
            "is_holdout": [False, True],
            "is_delivered": [True, True],
            "is_opened": [False, False],
            "is_clicked": [False, False],
            "is_converted": [False, False],
            "revenue": [0.0, 0.0],
            "source": ["observed", "observed"],
        }
    )
    table = results(outcomes, pd.Series({"O1": 10.0}), CampaignSettings.from_mapping({}))
    assert table["ab_winner"].isna().all()
    assert table["ab_winner"].dtype == "string"


def test_vectorised_draws_equal_the_one_key_at_a_time_definition():
    """_hashed (DuckDB's sha256 over many keys) gives exactly _uniform's numbers and
    hashlib's digests, for ASCII and non-ASCII keys and keys that look like numbers."""
    import hashlib

    from marketing_engine.campaigns import _hashed, _uniform

    keys = pd.Series(["C1|EVT1-OFR1", "Ünïcode|日本-€", "", "0|1", "x" * 300] * 3)
    keys = keys + pd.Series([str(i) for i in range(len(keys))])
    salts = {"open": "42|open", "value": "42|value"}
    draws, digests = _hashed(keys, salts)
    for name, salt in salts.items():
        assert np.array_equal(draws[name], _uniform(keys, salt))
    assert list(digests) == [hashlib.sha256(k.encode()).hexdigest()[:16] for k in keys]


def test_results_do_not_depend_on_row_order():
    """DuckDB hands campaign_outcomes and the orders over in any order; float sums
    (and so every mean, interval and p-value) must not change with it."""
    from marketing_engine.campaigns import pre_period_revenue

    rng = np.random.default_rng(3)
    n = 6_000
    outcomes = pd.DataFrame(
        {
            "send_id": [f"S{i:05d}" for i in range(n)],
            "campaign_id": "C1",
            "customer_id": [f"K{i % 2_000:04d}" for i in range(n)],
            "offer_id": rng.choice(["O1", "O2"], n),
            "segment_name": "Loyal",
            "variant": rng.choice(["A", "B"], n),
            "is_holdout": rng.random(n) < 0.2,
            "sent_at": SENT,
            "is_delivered": True,
            "is_opened": rng.random(n) < 0.3,
            "is_clicked": rng.random(n) < 0.1,
            "is_converted": rng.random(n) < 0.05,
            # revenue with cents and no exact binary form: sums depend on their order
            "revenue": np.round(rng.exponential(900.0, n), 2) * (rng.random(n) < 0.3),
            "source": "observed",
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": [f"K{i % 2_000:04d}" for i in range(20_000)],
            "order_date": SENT.normalize() - pd.to_timedelta(rng.integers(1, 200, 20_000), "D"),
            "revenue": np.round(rng.exponential(700.0, 20_000), 2),
        }
    )
    settings = CampaignSettings.from_mapping({})
    offers = pd.Series({"O1": 10.0, "O2": 20.0})

    def table(outcome_rows, order_rows):
        pre = pre_period_revenue(outcome_rows, order_rows, settings.pre_period_days)
        return results(outcome_rows, offers, settings, pre)

    expected = table(outcomes, orders)
    for seed in range(3):
        shuffle = np.random.default_rng(seed).permutation
        shuffled = table(
            outcomes.iloc[shuffle(n)].reset_index(drop=True),
            orders.iloc[shuffle(len(orders))].reset_index(drop=True),
        )
        pd.testing.assert_frame_equal(shuffled, expected, check_exact=True)
