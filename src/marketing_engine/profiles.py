"""Cluster profiles: what each cluster's customers look like, in numbers and in sentences.

The sentences state facts computed from the numbers (no generation): they feed
the report's "Insights" button and the message prompts.
"""

from __future__ import annotations

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


UNKNOWN = "Unknown"  # what dim_customers shows for a missing gender or city


def _top(series: pd.Series) -> str | None:
    """The most frequent known value; among equally frequent ones the first in sort
    order, so the answer never depends on the order rows arrived in."""
    counts = series[series != UNKNOWN].dropna().astype(str).value_counts()
    if counts.empty:
        return None
    return min(counts.index[counts == counts.iloc[0]])


def _known(value) -> bool:
    return value is not None and not pd.isna(value)


def _share(flags: pd.Series, known: pd.Series) -> float | None:
    """Share of `flags` among rows where the underlying value is known; None if none is."""
    return float(flags[known].mean()) if known.any() else None


def _burn_rate(group: pd.DataFrame) -> float | None:
    """Burnt claims / claims (one definition with the coupon marts); None without claims."""
    claims = group["coupon_claims"].sum()
    return float(group["coupon_burns"].sum() / claims) if claims else None


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
    revenue = (
        f"bring {row['revenue_share']:.0%} of net revenue"
        if _known(row["revenue_share"])
        else "bring no share of net revenue (the base's net revenue is zero)"
    )
    sentences = [
        f"{row['customers']:,} customers ({row['customer_share']:.0%} of buyers) {revenue}.",
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
        _known(burn)
        and _known(overall_burn)
        and overall_burn > 0
        and (abs(burn - overall_burn) / overall_burn > 0.15)
    ):
        direction = "more" if burn > overall_burn else "less"
        sentences.append(
            f"They redeem coupons {direction} often than average ({burn:.0%} vs "
            f"{overall_burn:.0%} of claims burnt)."
        )
    return sentences


CUSTOMER_COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "orders_per_month",
    "discounted_revenue_share",
    "gender",
    "age_years",
    "num_kids",
    "income_band",
    "city_name",
    "is_churn_risk",
]


def cluster_category_revenue(
    assigned: pd.DataFrame, category_revenue: pd.DataFrame
) -> pd.DataFrame:
    """Revenue per algorithm, cluster and category from per-customer category revenue.

    assigned: customer_id, algorithm, cluster_id; category_revenue: customer_id,
    category, revenue. The build computes the same in DuckDB
    (cluster_category_revenue_in_duckdb); this is the reference the tests hold it to.
    """
    joined = assigned[["customer_id", "algorithm", "cluster_id"]].merge(
        category_revenue, on="customer_id", how="inner"
    )
    return (
        joined.groupby(["algorithm", "cluster_id", "category"], sort=True)["revenue"]
        .sum()
        .reset_index()
    )


def cluster_category_revenue_in_duckdb(order_lines, assigned):
    """cluster_category_revenue computed by DuckDB from relations (what the model runs).

    order_lines: a relation with customer_id, category, net_amount (fct_order_lines);
    assigned: a relation with customer_id, algorithm, cluster_id. Per-customer sums
    are exact DECIMAL sums cast to double, as the per-customer input of the reference.
    """
    return (
        order_lines.aggregate(
            "customer_id, category, sum(net_amount)::double as revenue", "customer_id, category"
        )
        .join(assigned.project("customer_id, algorithm, cluster_id"), "customer_id")
        .aggregate(
            "algorithm, cluster_id, category, sum(revenue) as revenue",
            "algorithm, cluster_id, category",
        )
        .df()
    )


def profile_clusters(
    assigned: pd.DataFrame,
    customers: pd.DataFrame,
    features: pd.DataFrame,
    cluster_categories: pd.DataFrame,
) -> pd.DataFrame:
    """One row per algorithm and cluster.

    assigned: customer_id, algorithm, cluster_id, cluster_name, is_primary.
    customers: dim_customers columns (recency_days, frequency, monetary,
    orders_per_month, discounted_revenue_share, gender, age_years, num_kids,
    income_band, city_name, is_churn_risk).
    features: customer_id, coupon_claims, coupon_burns.

    A measure that cannot be computed is None, never 0: coupon burn rate without
    claims, female share without any known gender, share with kids without any
    known num_kids.
    cluster_categories: algorithm, cluster_id, category, revenue (the revenue of
    the cluster's customers per category: cluster_category_revenue).
    """
    customers = customers[CUSTOMER_COLUMNS]
    # Rows in customer order: DuckDB hands them over in any order, and sums of
    # floats (and so means and shares) differ in their last bits with the order.
    base = customers.merge(
        features[["customer_id", "coupon_claims", "coupon_burns"]], on="customer_id", how="inner"
    ).sort_values("customer_id", ignore_index=True)
    assigned = assigned.sort_values(["algorithm", "customer_id"], ignore_index=True)
    cluster_categories = cluster_categories.sort_values(
        ["algorithm", "cluster_id", "category"], ignore_index=True
    )
    for column in (
        "recency_days",
        "frequency",
        "monetary",
        "orders_per_month",
        "coupon_claims",
        "coupon_burns",
        "discounted_revenue_share",
        "age_years",
    ):
        base[column] = base[column].astype(float)
    overall = pd.Series(
        {
            "orders_per_month": base["orders_per_month"].mean(),
            "aov": base["monetary"].sum() / max(base["frequency"].sum(), 1),
            "coupon_burn_rate": _burn_rate(base),
        }
    )
    total_revenue = base["monetary"].sum()
    rows = []
    by_cluster = {
        key: part.set_index("category")["revenue"]
        for key, part in cluster_categories.groupby(["algorithm", "cluster_id"], sort=False)
    }
    empty = pd.Series(dtype=float)
    for algorithm, members in assigned.groupby("algorithm", sort=True):
        joined = members.merge(base, on="customer_id", how="inner")
        total = len(joined)
        for cluster_id, group in joined.groupby("cluster_id", sort=True):
            by_category = (
                by_cluster.get((algorithm, cluster_id), empty)
                .sort_index()
                .sort_values(ascending=False)
            )
            share = by_category / by_category.sum() if by_category.sum() else by_category
            row = {
                "algorithm": algorithm,
                "cluster_id": int(cluster_id),
                "cluster_name": group["cluster_name"].iloc[0],
                "is_primary": bool(group["is_primary"].iloc[0]),
                "customers": len(group),
                "customer_share": len(group) / total,
                "revenue": group["monetary"].sum(),
                "revenue_share": group["monetary"].sum() / total_revenue if total_revenue else None,
                "mean_recency_days": group["recency_days"].mean(),
                "median_recency_days": group["recency_days"].median(),
                "mean_frequency": group["frequency"].mean(),
                "median_frequency": group["frequency"].median(),
                "mean_monetary": group["monetary"].mean(),
                "median_monetary": group["monetary"].median(),
                "aov": group["monetary"].sum() / max(group["frequency"].sum(), 1),
                "orders_per_month": group["orders_per_month"].mean(),
                "coupon_burn_rate": _burn_rate(group),
                "discounted_revenue_share": group["discounted_revenue_share"].mean(),
                "churn_risk_share": group["is_churn_risk"].astype(float).mean(),
                "top_categories": ", ".join(
                    f"{name} {value:.0%}" for name, value in share.head(3).items()
                ),
                "female_share": _share(
                    group["gender"] == "Female",
                    group["gender"].notna() & (group["gender"] != UNKNOWN),
                ),
                "mean_age_years": group["age_years"].mean(),
                "share_with_kids": _share(group["num_kids"] > 0, group["num_kids"].notna()),
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
    # Nullable types: a measure nobody's data gives is NULL in a typed column.
    profiles[numeric] = profiles[numeric].astype(float).astype("Float64")
    text = [
        "algorithm",
        "cluster_name",
        "top_categories",
        "top_income_band",
        "top_city",
        "insights",
    ]
    profiles[text] = profiles[text].astype("string")
    return profiles
