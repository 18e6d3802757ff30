"""Personalization and scheduling: first names merged after generation, send times
inside quiet hours in each customer's time zone."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from marketing_engine import sms
from marketing_engine.messaging.facts import clean_text
from marketing_engine.messaging.settings import NAME_TOKEN, MessagingSettings
from marketing_engine.settings import FromConfig


@dataclass(frozen=True)
class ScheduleSettings(FromConfig):
    """When to send: days before the event, inside a local-time window (quiet hours)."""

    config_key: ClassVar[str] = "scheduling"

    send_days_before_event: int = 3
    window_start_hour: int = 10
    window_end_hour: int = 19

    def __post_init__(self) -> None:
        if not 8 <= self.window_start_hour < self.window_end_hour <= 21:
            raise ValueError("send window must lie within quiet hours 08:00-21:00")


def schedule(
    customers: pd.DataFrame, as_of: pd.Timestamp, settings: ScheduleSettings
) -> pd.DataFrame:
    """Send time per customer: `send_days_before_event` before the event (not before the
    day after as_of), at a minute in the local window spread by a hash of the customer id.

    customers: customer_id, timezone, event_date. Adds scheduled_local and scheduled_at_utc.
    """
    event = pd.to_datetime(customers["event_date"])
    day = (event - pd.Timedelta(days=settings.send_days_before_event)).clip(
        lower=as_of.normalize() + pd.Timedelta(days=1)
    )
    window = (settings.window_end_hour - settings.window_start_hour) * 60
    digest = pd.Series(
        [
            int(hashlib.sha256(str(cid).encode()).hexdigest()[:8], 16)
            for cid in customers["customer_id"]
        ],
        index=customers.index,
        dtype="int64",
    )
    local = day + pd.to_timedelta(settings.window_start_hour * 60 + digest % window, unit="m")
    utc = pd.Series(pd.NaT, index=customers.index, dtype="datetime64[us]")
    for zone, index in customers.groupby("timezone").groups.items():
        stamped = local.loc[index].dt.tz_localize(
            zone, nonexistent="shift_forward", ambiguous=False
        )
        utc.loc[index] = stamped.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return customers.assign(scheduled_local=local.astype("datetime64[us]"), scheduled_at_utc=utc)


def personalize(text: str, first_name: object, settings: MessagingSettings) -> str:
    """Merge a first name into {first_name}; drop the greeting name if it is unsafe or too long."""
    name = clean_text(first_name, 40)
    ok = (
        bool(name)
        and all(ch.isalpha() or ch in " -'" for ch in name)
        and len(name) <= settings.name_budget
        and sms.is_gsm7(name)
    )
    if ok:
        merged = text.replace(NAME_TOKEN, name)
        if sms.length(merged) <= sms.SINGLE_LIMIT[sms.encoding(merged)]:
            return merged
    without = re.sub(r"(,\s*)?\{first_name\}(\s*,)?", "", text)
    without = re.sub(r"\s+([!?.,])", r"\1", re.sub(r"\s{2,}", " ", without)).strip()
    return without[0].upper() + without[1:] if without else without
