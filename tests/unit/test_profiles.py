"""Cluster profiles state facts computed from the numbers."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from marketing_engine.profiles import (
    cluster_category_revenue,
    cluster_category_revenue_in_duckdb,
    profile_clusters,
)


@pytest.fixture
def inputs():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "recency_days": [5, 7, 300, 320],
            "frequency": [20, 30, 1, 1],
            "monetary": [40000.0, 60000.0, 1000.0, 3000.0],
            "orders_per_month": [2.0, 3.0, 0.1, 0.1],
            "discounted_revenue_share": [0.1, 0.0, 0.5, 0.5],
            "gender": ["Female", "Female", "Male", "Female"],
            "age_years": [30, 40, 50, 60],
            "num_kids": [0, 2, 0, 1],
            "income_band": ["High", "High", "Low", "Low"],
            "city_name": ["Mumbai", "Mumbai", "Pune", "Delhi"],
            "is_churn_risk": [False, False, True, True],
            "cluster_id": [0, 0, 1, 1],
        }
    )
    assigned = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "algorithm": "kmeans",
            "cluster_id": [0, 0, 1, 1],
            "cluster_name": ["Active loyal big spenders"] * 2 + ["Lapsed occasional buyers"] * 2,
            "is_primary": True,
        }
    )
    features = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "coupon_claims": [10, 10, 10, 10],
            "coupon_burns": [9, 7, 1, 1],
        }
    )
    category_revenue = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "d"],
            "category": ["Sarees", "Beauty", "Sarees", "Grocery", "Grocery"],
            "revenue": [30000.0, 10000.0, 60000.0, 1000.0, 3000.0],
        }
    )
    return assigned, customers, features, cluster_category_revenue(assigned, category_revenue)


def test_profile_numbers(inputs):
    profiles = profile_clusters(*inputs).set_index("cluster_id")
    assert profiles["customer_share"].sum() == pytest.approx(1.0)
    assert profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert profiles.loc[0, "revenue_share"] == pytest.approx(100000 / 104000)
    assert profiles.loc[0, "aov"] == pytest.approx(100000 / 50)
    assert profiles.loc[0, "top_categories"].startswith("Sarees 90%")
    assert profiles.loc[1, "churn_risk_share"] == 1.0
    assert profiles.loc[0, "female_share"] == 1.0
    # Delhi and Pune have one customer each: the tie goes to the first in sort order.
    assert profiles.loc[1, "top_city"] == "Delhi"


def test_profiles_do_not_depend_on_row_order():
    """DuckDB hands rows over in any order; the profile must not change with it
    (float sums differ in their last bits with the order, and a tie for the top
    value would go to whichever value came first)."""
    rng = np.random.default_rng(7)
    n = 2_000
    ids = [f"c{i:05d}" for i in range(n)]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": rng.integers(0, 400, n),
            "frequency": rng.integers(1, 40, n),
            "monetary": rng.random(n) * 1e5 + 0.01,
            "orders_per_month": rng.random(n) * 3,
            "discounted_revenue_share": rng.random(n),
            "gender": rng.choice(["Female", "Male"], n),
            "age_years": rng.integers(18, 80, n),
            "num_kids": rng.integers(0, 3, n),
            # exactly half and half in every cluster, Low seen first: a tie that
            # goes to High (first in sort order), not to the first value seen
            "income_band": ["Low", "High"] * (n // 2),
            "city_name": rng.choice(["Delhi", "Mumbai", "Pune"], n),
            "is_churn_risk": rng.random(n) < 0.3,
        }
    )
    assigned = pd.DataFrame(
        {
            "customer_id": ids,
            "algorithm": "kmeans",
            "cluster_id": np.repeat([0, 1], n // 2),
            "cluster_name": np.repeat(["A", "B"], n // 2),
            "is_primary": True,
        }
    )
    features = pd.DataFrame(
        {
            "customer_id": ids,
            "coupon_claims": rng.integers(0, 10, n),
            "coupon_burns": 0,
        }
    )
    category_revenue = cluster_category_revenue(
        assigned,
        pd.DataFrame(
            {
                "customer_id": ids,
                "category": rng.choice(["Beauty", "Sarees"], n),
                "revenue": customers["monetary"],
            }
        ),
    )
    expected = profile_clusters(assigned, customers, features, category_revenue)
    assert set(expected["top_income_band"]) == {"High"}
    for seed in range(3):
        order = np.random.default_rng(seed).permutation
        shuffled = [
            frame.iloc[order(len(frame))].reset_index(drop=True)
            for frame in (assigned, customers, features, category_revenue)
        ]
        got = profile_clusters(*shuffled)
        # bit for bit: assert_frame_equal lets Float64 columns differ in the last bits
        for column in expected.columns:
            assert (
                got[column].astype(object).tolist() == expected[column].astype(object).tolist()
            ), column


def test_insights_are_three_to_five_factual_sentences(inputs):
    profiles = profile_clusters(*inputs).set_index("cluster_id")
    sentences = profiles.loc[0, "insights"].split("\n")
    assert 3 <= len(sentences) <= 5
    assert sentences[0].startswith("2 customers (50% of buyers) bring 96% of net revenue")
    assert any("Sarees 90%" in s for s in sentences)
    assert any("redeem coupons more often" in s for s in sentences)
    lapsed = profiles.loc[1, "insights"]
    assert "100% are flagged at churn risk" in lapsed


def test_burn_rate_is_burnt_claims_over_claims(inputs):
    profiles = profile_clusters(*inputs).set_index("cluster_id")
    assert profiles.loc[0, "coupon_burn_rate"] == pytest.approx(16 / 20)
    assert "(80% vs 45% of claims burnt)" in profiles.loc[0, "insights"]


def test_measures_without_data_are_null_not_zero(inputs):
    assigned, customers, features, cluster_categories = inputs
    features = features.assign(coupon_claims=0, coupon_burns=0)  # no coupons file
    # Optional columns absent: dim_customers shows gender and city as 'Unknown'.
    customers = customers.assign(gender="Unknown", num_kids=None, city_name="Unknown")
    profiles = profile_clusters(assigned, customers, features, cluster_categories)
    assert profiles["coupon_burn_rate"].isna().all()
    assert profiles["female_share"].isna().all()
    assert profiles["share_with_kids"].isna().all()
    assert profiles["top_city"].isna().all()
    assert not profiles["insights"].str.contains("coupon").any()


def test_duckdb_category_revenue_equals_the_pandas_reference():
    """The model sums category revenue per cluster in DuckDB from order lines; it must
    equal the pandas reference over per-customer category revenue (a customer with no
    lines, a category only one cluster buys, two algorithms, the noise cluster)."""
    rng = np.random.default_rng(3)
    customers = [f"C{i:03d}" for i in range(60)]
    lines = pd.DataFrame(
        {
            "customer_id": rng.choice(customers[:55], 400),
            "category": rng.choice(["Sarees", "Beauty", "Grocery", "Toys"], 400),
            "net_amount": rng.integers(100, 500_000, 400) / 100,
        }
    )
    assigned = pd.concat(
        [
            pd.DataFrame(
                {"customer_id": customers, "algorithm": name, "cluster_id": rng.integers(-1, 3, 60)}
            )
            for name in ("kmeans", "dbscan")
        ],
        ignore_index=True,
    )
    con = duckdb.connect()
    order_lines = con.from_df(lines).project(
        "customer_id, category, net_amount::decimal(18, 2) as net_amount"
    )
    in_duckdb = cluster_category_revenue_in_duckdb(order_lines, con.from_df(assigned))
    per_customer = (
        lines.groupby(["customer_id", "category"])["net_amount"]
        .sum()
        .rename("revenue")
        .reset_index()
    )
    reference = cluster_category_revenue(assigned, per_customer)
    keys = ["algorithm", "cluster_id", "category"]
    got = in_duckdb.sort_values(keys).reset_index(drop=True)
    want = reference.sort_values(keys).reset_index(drop=True)
    assert len(got) == len(want) > 10
    assert got[keys].astype(str).equals(want[keys].astype(str))
    np.testing.assert_allclose(got["revenue"], want["revenue"], rtol=1e-12)
