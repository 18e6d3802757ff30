"""The published CLV scores: the SQL scores (clv_scored) wherever SQL could score a
customer, the Python scores (clv.score) only for the customers it could not.

clv_scored scores BG/NBD, MBG/NBD and the rule-based fallback in SQL; a Pareto/NBD
fit ('pareto_nbd (scored in Python only)') and a pair whose 2F1 series did not
converge ('<model> (series did not converge)') keep null purchases and CLV there,
and only those customers are taken from the Python scores.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd

from marketing_engine.frames import is_in

# scoring_method of clv_scored -> model of customer_lifetime_value, for the methods
# SQL scores in full.
SQL_MODELS = {
    "bg_nbd": "bg_nbd_gamma_gamma",
    "mbg_nbd": "mbg_nbd_gamma_gamma",
    "rule_based": "rule_based",
}
# The scores, in customer_lifetime_value's column order.
NUMBER_COLUMNS = [
    "p_alive",
    "churn_probability",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "expected_order_value",
    "clv_12_months",
    "days_to_next_purchase",
]
SCORE_COLUMNS = ["customer_id", *NUMBER_COLUMNS, "model"]


def publish_scores(
    scored: pd.DataFrame,
    as_of: date | pd.Timestamp | None,
    python_scores: Callable[[], pd.DataFrame],
) -> pd.DataFrame:
    """One row per customer of `scored` (clv_scored), in customer_id order.

    `python_scores` returns clv.score's frame for every customer; it is called only
    when some customer's scoring_method is not one SQL scores in full, and only those
    customers' rows are taken from it (matched on customer_id).
    """
    in_sql = scored["scoring_method"].isin(SQL_MODELS)
    from_sql = scored.loc[in_sql].assign(model=scored.loc[in_sql, "scoring_method"].map(SQL_MODELS))
    parts = [from_sql[SCORE_COLUMNS]]
    missing = scored.loc[~in_sql, "customer_id"]
    if len(missing):
        python = python_scores()
        from_python = python.loc[is_in(python["customer_id"], missing), SCORE_COLUMNS]
        if len(from_python) != len(missing) or from_python["customer_id"].duplicated().any():
            unmatched = sorted(missing[~is_in(missing, from_python["customer_id"])].unique())[:5]
            raise ValueError(
                f"clv_scored left {len(missing):,} customers to Python, but the Python scores "
                f"hold {len(from_python):,} of them (missing e.g. {unmatched}): "
                "int_customers_clv_summary and clv_scored disagree; rebuild both."
            )
        parts.append(from_python)
    scores = pd.concat(parts, ignore_index=True) if len(missing) else parts[0]
    scores = scores.sort_values("customer_id").reset_index(drop=True)
    days = scores["days_to_next_purchase"].round().clip(upper=3650)
    scores["expected_next_purchase_date"] = (
        (pd.Timestamp(as_of) + pd.to_timedelta(days, unit="D")).dt.date
        if as_of is not None and not pd.isna(as_of)
        else None
    )
    return scores
