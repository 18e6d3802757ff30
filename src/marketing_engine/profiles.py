"""Cluster profiles: what each cluster's customers look like, in numbers and in sentences.

The sentences state facts computed from the numbers (no generation): they feed
the report's "Insights" button and the message prompts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PROFILE_COLUMNS = [
    "algorithm",
    "cluster_id",
    "cluster_name",
    "is_primary",
    "customers",
    "customer_share",
    "revenue",
    "revenue_share",
    "mean_recency_days",
    "median_recency_days",
    "mean_frequency",
    "median_frequency",
    "mean_monetary",
    "median_monetary",
    "aov",
    "orders_per_month",
    "coupon_burn_rate",
    "discounted_revenue_share",
    "churn_risk_share",
    "top_categories",
    "female_share",
    "mean_age_years",
    "share_with_kids",
    "top_income_band",
    "top_city",
    "insights",
]


def _top(series: pd.Series) -> str | None:
    counts = series.dropna().value_counts()
    return None if counts.empty else str(counts.index[0])


def _ratio_phrase(value: float, reference: float) -> str:
    if not reference:
        return "about the same as"
    ratio = value / reference
    if ratio >= 1.15:
        return f"{ratio:.1f}x"
    if ratio <= 0.87:
        return f"{(1 - ratio):.0%} below"
    return "about the same as"


def insights(row: pd.Series, overall: pd.Series) -> list[str]:
    """3-5 factual sentences about one cluster compared with all customers."""
    sentences = [
        f"{row['customers']:,} customers ({row['customer_share']:.0%} of the base) bring "
        f"{row['revenue_share']:.0%} of net revenue.",
        f"They order {row['orders_per_month']:.2f} times a month, "
        f"{_ratio_phrase(row['orders_per_month'], overall['orders_per_month'])} the average; "
        f"the median customer last ordered {row['median_recency_days']:.0f} days ago and "
        f"{row['churn_risk_share']:.0%} are flagged at churn risk.",
        f"Average order value is {row['aov']:,.0f}, "
        f"{_ratio_phrase(row['aov'], overall['aov'])} the overall {overall['aov']:,.0f}.",
    ]
    if row["top_categories"]:
        sentences.append(f"Preferred categories: {row['top_categories']}.")
    burn, overall_burn = row["coupon_burn_rate"], overall["coupon_burn_rate"]
    if (
        pd.notna(burn)
        and pd.notna(overall_burn)
        and overall_burn
        and abs(burn - overall_burn) / overall_burn > 0.15
    ):
        direction = "more" if burn > overall_burn else "less"
        sentences.append(
            f"They redeem coupons {direction} often than average ({burn:.0%} vs "
            f"{overall_burn:.0%} of claims burnt)."
        )
    return sentences


def _pooled_burn_rate(frame: pd.DataFrame) -> float:
    """Share of claimed coupons that were burnt; NaN when nothing was claimed."""
    claims = frame["coupon_claims"].sum()
    return float(frame["coupon_claims_burnt"].sum() / claims) if claims else float("nan")


def profile_clusters(
    assigned: pd.DataFrame,
    customers: pd.DataFrame,
    features: pd.DataFrame,
    category_revenue: pd.DataFrame,
) -> pd.DataFrame:
    """One row per algorithm and cluster.

    assigned: customer_id, algorithm, cluster_id, cluster_name, is_primary.
    customers: dim_customers columns (recency_days, frequency, monetary,
    orders_per_month, discounted_revenue_share, gender, age_years, num_kids,
    income_band, city_name, is_churn_risk).
    features: customer_id, coupon_burn_rate.
    category_revenue: customer_id, category, revenue.
    """
    customers = customers.drop(columns=["cluster_id", "cluster_name"], errors="ignore")
    base = customers.merge(
        features[["customer_id", "coupon_claims", "coupon_burn_rate"]],
        on="customer_id",
        how="inner",
    )
    # Pooled burn rate (claims burnt / claims), as on the Coupons page: customers
    # without a claim do not count as 0% burners.
    base["coupon_claims"] = base["coupon_claims"].astype(float)
    base["coupon_claims_burnt"] = (
        base["coupon_claims"] * base["coupon_burn_rate"].astype(float)
    ).round()
    for column in (
        "recency_days",
        "frequency",
        "monetary",
        "orders_per_month",
        "coupon_burn_rate",
        "discounted_revenue_share",
        "age_years",
    ):
        base[column] = base[column].astype(float)
    overall = pd.Series(
        {
            "orders_per_month": base["orders_per_month"].mean(),
            "aov": base["monetary"].sum() / max(base["frequency"].sum(), 1),
            "coupon_burn_rate": _pooled_burn_rate(base),
        }
    )
    total_revenue = base["monetary"].sum()
    rows = []
    for algorithm, members in assigned.groupby("algorithm", sort=True):
        joined = members.merge(base, on="customer_id", how="inner")
        categories = members.merge(category_revenue, on="customer_id", how="inner")
        total = len(joined)
        for cluster_id, group in joined.groupby("cluster_id", sort=True):
            cats = categories[categories["cluster_id"] == cluster_id]
            by_category = cats.groupby("category")["revenue"].sum().sort_values(ascending=False)
            share = by_category / by_category.sum() if by_category.sum() else by_category
            row = {
                "algorithm": algorithm,
                "cluster_id": int(cluster_id),
                "cluster_name": group["cluster_name"].iloc[0],
                "is_primary": bool(group["is_primary"].iloc[0]),
                "customers": len(group),
                "customer_share": len(group) / total,
                "revenue": group["monetary"].sum(),
                "revenue_share": group["monetary"].sum() / total_revenue if total_revenue else 0.0,
                "mean_recency_days": group["recency_days"].mean(),
                "median_recency_days": group["recency_days"].median(),
                "mean_frequency": group["frequency"].mean(),
                "median_frequency": group["frequency"].median(),
                "mean_monetary": group["monetary"].mean(),
                "median_monetary": group["monetary"].median(),
                "aov": group["monetary"].sum() / max(group["frequency"].sum(), 1),
                "orders_per_month": group["orders_per_month"].mean(),
                "coupon_burn_rate": _pooled_burn_rate(group),
                "discounted_revenue_share": group["discounted_revenue_share"].mean(),
                "churn_risk_share": group["is_churn_risk"].astype(float).mean(),
                "top_categories": ", ".join(
                    f"{name} {value:.0%}" for name, value in share.head(3).items()
                ),
                "female_share": (group["gender"] == "Female").mean(),
                "mean_age_years": group["age_years"].mean(),
                "share_with_kids": (group["num_kids"].fillna(0) > 0).mean(),
                "top_income_band": _top(group["income_band"]),
                "top_city": _top(group["city_name"]),
            }
            row["insights"] = "\n".join(insights(pd.Series(row), overall))
            rows.append(row)
    profiles = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    numeric = [
        c
        for c in PROFILE_COLUMNS
        if c
        not in (
            "algorithm",
            "cluster_id",
            "cluster_name",
            "is_primary",
            "customers",
            "top_categories",
            "top_income_band",
            "top_city",
            "insights",
        )
    ]
    profiles[numeric] = profiles[numeric].astype(float).replace({np.nan: None})
    return profiles
