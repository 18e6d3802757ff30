"""Campaign simulation and measurement: holdout uplift with confidence intervals, A/B tests.

Response model of the simulation (used only when no campaign data is
supplied; every draw is a hash of seed, customer and campaign, so the same
inputs give the same outcome whatever the row order):

* holdout: a customer is in the control group when
  hash(customer, campaign) < holdout_share; the others get variant A or B;
* delivered with probability 0.97;
* opened: logistic(-0.4 + 0.9 [recency <= 60 days] - 0.8 [recency > 365]
  + 0.15 log(1 + frequency) + 0.2 [variant B]);
* clicked, if opened: logistic(-1.3 + offer-type effect + 0.3 [offer targets
  a category the event lifts]); offer-type effects below;
* bought because of the message, if clicked: logistic(-1.0 + 0.25 log(1 +
  frequency) - 0.6 [recency > 365]);
* everyone, sent or not, may buy anyway within the response window with the
  BG/NBD probability 1 - exp(-expected purchases in the window): that is what
  the holdout measures;
* revenue of a conversion: the customer's expected order value (AOV when
  unknown) times a lognormal(0, 0.3) factor.

Measurement (real or simulated data alike): incremental revenue per
recipient is the treated mean minus the holdout mean, with a Welch 95%
interval and two-sided p-value, scaled by the number of sends; the CUPED
version subtracts theta x (pre-period revenue - its mean) first (statistics
in experiments.py). Each campaign x segment x offer is one test: its holdout
split is checked for a sample-ratio mismatch against holdout_share, each
figure carries its minimum detectable effect at `power`, and the p-values are
corrected across all tests (`correction`: holm by default, or bh). Variants
are compared on conversion rate with a two-proportion z-test; a winner is
declared only when the corrected p-value is below alpha and the split shows
no sample-ratio mismatch; `note` says why otherwise.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import ClassVar

import duckdb
import numpy as np
import pandas as pd
from scipy import special, stats

from marketing_engine import experiments
from marketing_engine.settings import FromConfig

OFFER_EFFECT = {
    "percent_discount": 0.4,
    "win_back": 0.3,
    "bundle": 0.2,
    "early_access": 0.2,
    "loyalty_reward": 0.1,
    "free_shipping": 0.15,
}
OUTCOME_COLUMNS = [
    "send_id",
    "campaign_id",
    "customer_id",
    "offer_id",
    "segment_name",
    "variant",
    "is_holdout",
    "sent_at",
    "is_delivered",
    "is_opened",
    "is_clicked",
    "is_converted",
    "revenue",
    "source",
]


@dataclass(frozen=True)
class CampaignSettings(FromConfig):
    """Settings from the models' YAML `config:` (key `campaigns`)."""

    config_key: ClassVar[str] = "campaigns"
    holdout_share: float = 0.10
    random_seed: int = 7
    response_window_days: int = 14
    alpha: float = 0.05
    send_cost: float = 0.25
    power: float = 0.8
    srm_alpha: float = 0.001
    correction: str = "holm"
    pre_period_days: int = 90

    def __post_init__(self) -> None:
        if not 0 < self.holdout_share < 1:
            raise ValueError("holdout_share must be between 0 and 1")
        if not 0 < self.power < 1:
            raise ValueError("power must be between 0 and 1")
        if self.correction not in experiments.CORRECTIONS:
            raise ValueError(f"correction must be one of {experiments.CORRECTIONS}")


# --- statistics ------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    estimate: float
    lower: float
    upper: float
    p_value: float


def welch_difference(treated: np.ndarray, control: np.ndarray, alpha: float = 0.05) -> Interval:
    """Mean(treated) - mean(control) with a Welch (unequal variances) interval and p-value.

    Normal critical values: the groups are campaign-sized, far past where t and z differ.
    """
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    if treated.size < 2 or control.size < 2:
        return Interval(float("nan"), float("nan"), float("nan"), float("nan"))
    difference = treated.mean() - control.mean()
    se = math.sqrt(treated.var(ddof=1) / treated.size + control.var(ddof=1) / control.size)
    z = stats.norm.ppf(1 - alpha / 2)
    p = 2 * stats.norm.sf(abs(difference) / se) if se > 0 else (0.0 if difference else 1.0)
    return Interval(
        float(difference), float(difference - z * se), float(difference + z * se), float(p)
    )


def two_proportion_test(x1: int, n1: int, x0: int, n0: int) -> float:
    """Two-sided p-value of H0: p1 = p0 (pooled z-test)."""
    if min(n1, n0) == 0:
        return float("nan")
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs(x1 / n1 - x0 / n0) / se))


# --- simulation --------------------------------------------------------------------------


def _uniform(keys: pd.Series, salt: str) -> np.ndarray:
    """A deterministic uniform(0, 1) per key: the first 8 bytes of sha256(salt|key) / 2^64.

    The reference definition, one key at a time; `_hashed` computes the same
    numbers for many keys and salts at once.
    """
    return np.array(
        [
            int.from_bytes(hashlib.sha256(f"{salt}|{key}".encode()).digest()[:8], "big") / 2**64
            for key in keys
        ]
    )


def _hashed(keys: pd.Series, salts: dict[str, str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """`_uniform(keys, salt)` for every salt, and sha256(key)'s first 16 hex digits.

    DuckDB's vectorised sha256 over UTF-8 text gives the same digests as hashlib
    (one row per key, several times faster than a Python loop); the 8-byte prefix
    read as an unsigned integer and divided by 2^64 in double precision is the
    correctly rounded quotient, as in Python.
    """
    if not len(keys):
        return {name: np.zeros(0) for name in salts}, np.zeros(0, dtype=object)
    text = pd.Series([f"{key}" for key in keys], dtype="str")
    frame = pd.DataFrame({"row": np.arange(len(text)), "k": text})
    draws = ", ".join(
        f"cast(cast('0x' || left(sha256(${i + 1} || '|' || k), 16) as ubigint) as double)"
        f" / cast(18446744073709551616 as double) as d{i}"
        for i in range(len(salts))
    )
    with duckdb.connect() as con:
        con.register("hash_keys", frame)
        hashed = con.execute(
            f"select left(sha256(k), 16) as digest, {draws} from hash_keys order by row",
            list(salts.values()),
        ).df()
    uniforms = {name: hashed[f"d{i}"].to_numpy(float) for i, name in enumerate(salts)}
    return uniforms, hashed["digest"].to_numpy(dtype=object)


def _logistic(x: np.ndarray) -> np.ndarray:
    return special.expit(x)


def simulate(
    targets: pd.DataFrame, settings: CampaignSettings, sent_at: pd.Timestamp
) -> pd.DataFrame:
    """Simulated sends and responses for every targeted customer.

    targets: customer_id, segment_name, event_id, offer_id, offer_type,
    offer_category, recency_days, frequency, expected_order_value, aov,
    expected_purchases_30d.
    """
    if targets.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _OUTCOME_TYPES.items()})
    frame = targets.reset_index(drop=True).copy()
    frame["campaign_id"] = frame["event_id"] + "-" + frame["offer_id"]
    key = frame["customer_id"].astype(str) + "|" + frame["campaign_id"]
    seed = str(settings.random_seed)
    names = ("holdout", "variant", "deliver", "open", "click", "buy", "base", "value")
    draw, digest = _hashed(key, {name: f"{seed}|{name}" for name in names})
    recency = frame["recency_days"].fillna(9999).to_numpy(float)
    log_frequency = np.log1p(frame["frequency"].fillna(0).to_numpy(float))
    is_holdout = draw["holdout"] < settings.holdout_share
    variant = np.where(draw["variant"] < 0.5, "A", "B")
    relevant = frame["offer_category"].notna().to_numpy()
    offer_effect = frame["offer_type"].map(OFFER_EFFECT).fillna(0.0).to_numpy(float)

    delivered = ~is_holdout & (draw["deliver"] < 0.97)
    p_open = _logistic(
        -0.4
        + 0.9 * (recency <= 60)
        - 0.8 * (recency > 365)
        + 0.15 * log_frequency
        + 0.2 * (variant == "B")
    )
    opened = delivered & (draw["open"] < p_open)
    clicked = opened & (draw["click"] < _logistic(-1.3 + offer_effect + 0.3 * relevant))
    bought_from_message = clicked & (
        draw["buy"] < _logistic(-1.0 + 0.25 * log_frequency - 0.6 * (recency > 365))
    )
    expected = frame["expected_purchases_30d"].fillna(0.05).to_numpy(float)
    baseline = 1 - np.exp(-expected * settings.response_window_days / 30.4375)
    bought_anyway = draw["base"] < np.minimum(baseline, 0.95)
    converted = bought_anyway | bought_from_message
    value = frame["expected_order_value"].fillna(frame["aov"]).fillna(0).to_numpy(float)
    noise = np.exp(0.3 * special.ndtri(np.clip(draw["value"], 1e-9, 1 - 1e-9)))
    revenue = np.round(np.where(converted, value * noise, 0.0), 2)
    outcome = pd.DataFrame(
        {
            "send_id": "SIM-" + pd.Series(digest, index=frame.index, dtype="string"),
            "campaign_id": frame["campaign_id"],
            "customer_id": frame["customer_id"],
            "offer_id": frame["offer_id"],
            "segment_name": frame["segment_name"],
            "variant": variant,
            "is_holdout": is_holdout,
            "sent_at": sent_at,
            "is_delivered": delivered,
            "is_opened": opened,
            "is_clicked": clicked,
            "is_converted": converted,
            "revenue": revenue,
            "source": "simulation",
        }
    )
    return outcome.astype(_OUTCOME_TYPES)


_OUTCOME_TYPES = {
    "send_id": "string",
    "campaign_id": "string",
    "customer_id": "string",
    "offer_id": "string",
    "segment_name": "string",
    "variant": "string",
    "is_holdout": "bool",
    "sent_at": "datetime64[us]",
    "is_delivered": "bool",
    "is_opened": "bool",
    "is_clicked": "bool",
    "is_converted": "bool",
    "revenue": "float64",
    "source": "string",
}


# --- results -------------------------------------------------------------------------------

RESULT_COLUMNS = [
    "campaign_id",
    "segment_name",
    "offer_id",
    "variant",
    "source",
    "sends",
    "delivered",
    "opens",
    "clicks",
    "conversions",
    "open_rate",
    "click_rate",
    "conversion_rate",
    "revenue",
    "discount_cost",
    "send_cost",
    "holdout_customers",
    "holdout_conversion_rate",
    "incremental_revenue",
    "uplift_ci_lower",
    "uplift_ci_upper",
    "p_value",
    "roi",
    "ab_p_value",
    "ab_winner",
    "is_winner",
    "holdout_share",
    "srm_p_value",
    "has_srm",
    "mde_revenue_per_recipient",
    "ab_mde_conversion_rate",
    "cuped_incremental_revenue",
    "cuped_ci_lower",
    "cuped_ci_upper",
    "cuped_p_value",
    "cuped_variance_reduction",
    "p_value_adjusted",
    "is_significant_uplift",
    "ab_p_value_adjusted",
    "correction_method",
    "alpha",
    "note",
]
_STRINGS = ("campaign_id", "segment_name", "offer_id", "variant", "source", "ab_winner")
_INTEGERS = ("sends", "delivered", "opens", "clicks", "conversions", "holdout_customers")
_BOOLEANS = ("is_winner", "has_srm", "is_significant_uplift")


def _result_type(column: str) -> str:
    """Column type of the results table, so an empty one is typed too."""
    if column in (*_STRINGS, "correction_method", "note"):
        return "string"
    if column in _INTEGERS:
        return "int64"
    if column in _BOOLEANS:
        return "bool"
    return "float64"


def pre_period_revenue(outcomes: pd.DataFrame, orders: pd.DataFrame, days: int) -> pd.Series:
    """Per outcome row: the customer's net revenue in the `days` days before the send date.

    orders: customer_id, order_date, revenue. The covariate CUPED uses: it is
    measured before anyone was sent anything, so the campaign cannot move it.
    """
    if outcomes.empty:
        return pd.Series(dtype=float)
    sends = outcomes[["customer_id", "sent_at"]].copy()
    sends["row"] = range(len(sends))
    sends["end"] = pd.to_datetime(sends["sent_at"]).dt.normalize()
    sends["start"] = sends["end"] - pd.Timedelta(days=days)
    history = orders[["customer_id", "order_date", "revenue"]].copy()
    history["order_date"] = pd.to_datetime(history["order_date"])
    history["customer_id"] = history["customer_id"].astype(str)
    # A fixed order for the sums, whatever order DuckDB returned the orders in.
    history = history.sort_values(["customer_id", "order_date", "revenue"], ignore_index=True)
    sends["customer_id"] = sends["customer_id"].astype(str)
    joined = sends.merge(history, on="customer_id", how="inner")
    inside = joined[
        (joined["order_date"] >= joined["start"]) & (joined["order_date"] < joined["end"])
    ]
    totals = inside.groupby("row")["revenue"].sum()
    return pd.Series(totals.reindex(range(len(sends)), fill_value=0.0).to_numpy(float))


def results(
    outcomes: pd.DataFrame,
    discount_pct: pd.Series,
    settings: CampaignSettings,
    pre_revenue: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per campaign x segment x offer x variant; see the module docstring.

    pre_revenue: per outcome row (same order), the customer's pre-period
    revenue, the CUPED covariate; without it CUPED equals the plain estimate.
    """
    rows = []
    if outcomes.empty:
        return pd.DataFrame({c: pd.Series(dtype=_result_type(c)) for c in RESULT_COLUMNS})
    outcomes = outcomes.reset_index(drop=True)
    covariate = (
        np.zeros(len(outcomes)) if pre_revenue is None else np.asarray(pre_revenue, dtype=float)
    )
    # In send order: DuckDB hands rows over in any order, and float sums (so every
    # mean, variance and p-value) differ in their last bits with the order.
    outcomes = outcomes.assign(
        revenue=outcomes["revenue"].astype(float), pre_revenue=covariate
    ).sort_values("send_id", kind="stable", ignore_index=True)
    keys = ["campaign_id", "segment_name", "offer_id"]
    tests = []  # one A/B test per campaign x segment x offer
    for (campaign, segment, offer), group in outcomes.groupby(keys, sort=True):
        control = group[group["is_holdout"]]
        treated_all = group[~group["is_holdout"]]
        by_variant = {v: part for v, part in treated_all.groupby("variant", sort=True)}
        srm = experiments.srm_p_value(len(control), len(treated_all), settings.holdout_share)
        has_srm = bool(srm < settings.srm_alpha)
        ab_p, ab_mde, leader = float("nan"), float("nan"), None
        if {"A", "B"} <= set(by_variant):
            a, b = by_variant["A"], by_variant["B"]
            ab_p = two_proportion_test(
                int(a["is_converted"].sum()), len(a), int(b["is_converted"].sum()), len(b)
            )
            base = float(pd.concat([a, b])["is_converted"].mean())
            ab_mde = experiments.mde_proportions(
                base, len(a), len(b), settings.alpha, settings.power
            )
            leader = "A" if a["is_converted"].mean() > b["is_converted"].mean() else "B"
        tests.append({"ab_p_value": ab_p, "leader": leader, "has_srm": has_srm})
        # CUPED: theta pooled over the test's treated and holdout customers.
        theta = experiments.cuped_theta(group["revenue"], group["pre_revenue"])
        pre_mean = float(group["pre_revenue"].mean())
        adjusted_control = experiments.cuped_adjust(
            control["revenue"], control["pre_revenue"], theta, pre_mean
        )
        pct = float(discount_pct.get(offer, 0) or 0) / 100
        for variant, treated in by_variant.items():
            delivered = int(treated["is_delivered"].sum())
            uplift = welch_difference(
                treated["revenue"].to_numpy(), control["revenue"].to_numpy(), settings.alpha
            )
            adjusted_treated = experiments.cuped_adjust(
                treated["revenue"], treated["pre_revenue"], theta, pre_mean
            )
            cuped = welch_difference(adjusted_treated, adjusted_control, settings.alpha)
            sends = len(treated)
            incremental = uplift.estimate * sends
            clicked_revenue = treated.loc[treated["is_clicked"], "revenue"].sum()
            discount_cost = clicked_revenue * pct / (1 - pct) if pct < 1 else 0.0
            cost = discount_cost + settings.send_cost * sends
            raw_width = uplift.upper - uplift.lower
            rows.append(
                {
                    "test": len(tests) - 1,
                    "campaign_id": campaign,
                    "segment_name": segment,
                    "offer_id": offer,
                    "variant": variant,
                    "source": treated["source"].iloc[0],
                    "sends": sends,
                    "delivered": delivered,
                    "opens": int(treated["is_opened"].sum()),
                    "clicks": int(treated["is_clicked"].sum()),
                    "conversions": int(treated["is_converted"].sum()),
                    "open_rate": treated["is_opened"].sum() / delivered if delivered else None,
                    "click_rate": treated["is_clicked"].sum() / delivered if delivered else None,
                    "conversion_rate": treated["is_converted"].mean(),
                    "revenue": treated["revenue"].sum(),
                    "discount_cost": discount_cost,
                    "send_cost": settings.send_cost * sends,
                    "holdout_customers": len(control),
                    "holdout_conversion_rate": control["is_converted"].mean()
                    if len(control)
                    else None,
                    "incremental_revenue": incremental,
                    "uplift_ci_lower": uplift.lower * sends,
                    "uplift_ci_upper": uplift.upper * sends,
                    "p_value": uplift.p_value,
                    "roi": (incremental - cost) / cost if cost else None,
                    "ab_p_value": ab_p,
                    "holdout_share": len(control) / len(group),
                    "srm_p_value": srm,
                    "has_srm": has_srm,
                    "mde_revenue_per_recipient": experiments.mde_difference(
                        float(treated["revenue"].std(ddof=1)) if sends > 1 else float("nan"),
                        sends,
                        float(control["revenue"].std(ddof=1)) if len(control) > 1 else float("nan"),
                        len(control),
                        settings.alpha,
                        settings.power,
                    ),
                    "ab_mde_conversion_rate": ab_mde,
                    "cuped_incremental_revenue": cuped.estimate * sends,
                    "cuped_ci_lower": cuped.lower * sends,
                    "cuped_ci_upper": cuped.upper * sends,
                    "cuped_p_value": cuped.p_value,
                    "cuped_variance_reduction": 1 - ((cuped.upper - cuped.lower) / raw_width) ** 2
                    if raw_width > 0
                    else None,
                }
            )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=_result_type(c)) for c in RESULT_COLUMNS})
    table = pd.DataFrame(rows)
    # One family per kind of test: every variant-vs-holdout uplift (CUPED p-values), and
    # every A/B test (one per campaign x segment x offer).
    method = settings.correction
    table["p_value_adjusted"] = experiments.adjust_p_values(table["cuped_p_value"], method)
    table["is_significant_uplift"] = table["p_value_adjusted"] < settings.alpha
    ab_adjusted = experiments.adjust_p_values([t["ab_p_value"] for t in tests], method)
    winners = [
        t["leader"] if adjusted < settings.alpha and not t["has_srm"] else None
        for t, adjusted in zip(tests, ab_adjusted, strict=True)
    ]
    table["ab_p_value_adjusted"] = ab_adjusted[table["test"]]
    table["ab_winner"] = [winners[i] for i in table["test"]]
    table["is_winner"] = table["ab_winner"] == table["variant"]
    table["correction_method"] = method
    table["alpha"] = settings.alpha
    table["note"] = [_note(row, settings, tests[row.test]) for row in table.itertuples(index=False)]
    table = table[RESULT_COLUMNS]
    return table.astype({c: _result_type(c) for c in RESULT_COLUMNS})


def _note(row, settings: CampaignSettings, test: dict) -> str | None:
    """Why a result must not be trusted or why no winner was declared, in plain words."""
    if row.has_srm:
        return (
            f"sample ratio mismatch: the holdout is {row.holdout_share:.1%} of this test, "
            f"not the configured {settings.holdout_share:.0%} (chi-square p = "
            f"{row.srm_p_value:.2g}); the split is broken, so no winner is declared and "
            "the uplift is not trustworthy"
        )
    if (
        test["leader"] is not None
        and test["ab_p_value"] < settings.alpha
        and row.ab_p_value_adjusted >= settings.alpha
    ):
        return (
            f"the A/B test is significant alone (p = {test['ab_p_value']:.2g}) but not after "
            f"the {'Holm' if settings.correction == 'holm' else 'Benjamini-Hochberg'} "
            f"correction across all tests (adjusted p = {row.ab_p_value_adjusted:.2g}): "
            "no winner"
        )
    if row.holdout_customers < 2 or row.sends < 2:
        return (
            f"only {row.holdout_customers} holdout customer(s) and {row.sends} send(s) of "
            f"variant {row.variant}: at least 2 of each are needed to measure the uplift, "
            "so it has no interval, p-value or minimum detectable effect"
        )
    if pd.isna(row.mde_revenue_per_recipient):
        return (
            "revenue does not vary in this test (typically nobody spent anything in the "
            "response window, sent or held out): the uplift has no spread, so its p-value "
            "says nothing and no minimum detectable effect can be stated"
        )
    return None
