"""What a cluster name may claim, written independently of marketing_engine.clustering.

A name contradicts its profile when a word says the opposite of the cluster's
medians against the population's medians (customers with an order).
"""

from __future__ import annotations


def contradictions(
    name: str,
    median: dict[str, float],
    population: dict[str, float],
    churn_risk_share: float | None,
) -> list[str]:
    """Reasons `name` contradicts the figures; empty when it does not."""
    words = name.lower()
    problems = []
    recency, frequency, monetary = (
        median["recency_days"],
        median["frequency"],
        median["monetary"],
    )
    if words.startswith(("active", "steady")):
        if recency >= population["recency_days"]:
            problems.append(
                f"{name!r}: median recency {recency} >= everyone's {population['recency_days']}"
            )
        if churn_risk_share is not None and churn_risk_share >= 0.5:
            problems.append(f"{name!r}: {churn_risk_share:.0%} at churn risk")
    if words.startswith("lapsed") and recency <= population["recency_days"]:
        problems.append(
            f"{name!r}: median recency {recency} <= everyone's {population['recency_days']}"
        )
    if ("big spenders" in words or "high spenders" in words) and monetary <= population["monetary"]:
        problems.append(
            f"{name!r}: median monetary {monetary} <= everyone's {population['monetary']}"
        )
    if ("light spenders" in words or "occasional" in words) and monetary >= population["monetary"]:
        problems.append(
            f"{name!r}: median monetary {monetary} >= everyone's {population['monetary']}"
        )
    if ("frequent" in words or "loyal" in words) and frequency <= population["frequency"]:
        problems.append(
            f"{name!r}: median frequency {frequency} <= everyone's {population['frequency']}"
        )
    if "occasional" in words and frequency > population["frequency"]:
        problems.append(
            f"{name!r}: median frequency {frequency} > everyone's {population['frequency']}"
        )
    return problems
