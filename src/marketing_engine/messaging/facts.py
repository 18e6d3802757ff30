"""The offer's facts and the SMS composed from them by code.

A model (or a template) writes only the hook, the creative opening. The offer
line (discount, scope, code, minimum spend, end date) and the opt-out footer
are written here from the pairing's own values, so they are exact by
construction and no model can invent an offer.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from marketing_engine import sms
from marketing_engine.messaging.settings import MessagingError, MessagingSettings

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f]")
ASCII_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u20b9": "Rs.",
}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# The shortest hook worth sending; less room than this and the offer line is shortened.
MIN_HOOK_ROOM = 24
NO_DISCOUNT_DEALS = {
    "free_shipping": "Free delivery",
    "loyalty_reward": "Bonus points",
    "early_access": "Early access",
    "bundle": "Bundle deals",
}


def is_missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def clean_text(value: object, limit: int = 200) -> str:
    """Data text made safe to embed: control characters out, whitespace collapsed, cut."""
    if is_missing(value):
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    for old, new in ASCII_REPLACEMENTS.items():
        text = text.replace(old, new)
    text = _CONTROL.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


def as_date(value: object) -> dt.date | None:
    if is_missing(value):
        return None
    return pd.Timestamp(value).date()


def human_date(value: object) -> str:
    """A date as people write it: '8 November 2026' (never '2026-11-08 00:00:00')."""
    day = as_date(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day else ""


def short_date(day: dt.date, with_year: bool) -> str:
    """'8 Nov', or '8 Nov 2027' when the year is not the obvious one."""
    text = f"{day.day} {MONTHS[day.month - 1][:3]}"
    return f"{text} {day.year}" if with_year else text


def format_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class OfferFacts:
    """What a message may state about its offer and event, from the pairing."""

    offer_id: str
    offer_type: str
    code: str
    discount_pct: float | None
    min_spend: float | None
    valid_to: dt.date | None
    event_name: str
    event_date: dt.date | None
    scope: str
    currency: str
    offer_name: str = ""

    @classmethod
    def from_pairing(cls, pairing: dict, settings: MessagingSettings) -> OfferFacts:
        pct = None if is_missing(pairing.get("discount_pct")) else float(pairing["discount_pct"])
        spend = None if is_missing(pairing.get("min_spend")) else float(pairing["min_spend"])
        return cls(
            offer_id=clean_text(pairing.get("offer_id"), 40),
            offer_type=clean_text(pairing.get("offer_type"), 30),
            code=clean_text(pairing.get("offer_code"), 30),
            discount_pct=pct if pct and pct > 0 else None,
            min_spend=spend if spend and spend > 0 else None,
            valid_to=as_date(pairing.get("valid_to")),
            event_name=clean_text(pairing.get("event_name"), 40),
            event_date=as_date(pairing.get("event_date")),
            scope=clean_text(pairing.get("offer_category"), 30),
            currency=settings.currency,
            offer_name=clean_text(pairing.get("offer_name"), 60),
        )

    @property
    def discount_text(self) -> str:
        return f"{self.discount_pct:g}%" if self.discount_pct else ""

    @property
    def spend_text(self) -> str:
        return f"{self.currency}{format_number(self.min_spend)}" if self.min_spend else ""

    @property
    def until_text(self) -> str:
        if not self.valid_to:
            return ""
        reference = self.event_date.year if self.event_date else self.valid_to.year
        return short_date(self.valid_to, with_year=self.valid_to.year != reference)

    def dates(self) -> dict[str, dt.date]:
        """The dates a message may name."""
        named = {"end date": self.valid_to, "event date": self.event_date}
        return {label: day for label, day in named.items() if day}


def offer_lines(facts: OfferFacts) -> list[str]:
    """The offer line in forms from the fullest to the shortest, all with every fact."""
    deal = (
        f"{facts.discount_text} off"
        if facts.discount_text
        else NO_DISCOUNT_DEALS.get(facts.offer_type, "A special offer")
    )
    joiner = " " if facts.discount_text else " on "
    scoped = f"{deal}{joiner}{facts.scope}" if facts.scope else deal
    spend = f", min. spend {facts.spend_text}" if facts.spend_text else ""
    short_spend = f", min. {facts.spend_text}" if facts.spend_text else ""
    until = f", till {facts.until_text}" if facts.until_text else ""
    code = facts.code
    forms = [
        f"{scoped} with code {code}{spend}{until}.",
        f"{deal} with code {code}{spend}{until}.",
        f"Code {code}: {deal}{short_spend}{until}.",
    ]
    if not code:
        forms = [f"{scoped}{spend}{until}.", f"{deal}{short_spend}{until}."]
    return list(dict.fromkeys(forms))


@dataclass(frozen=True)
class Composition:
    """How a body is put together: sender prefix, hook room, offer line."""

    prefix: str
    offer_line: str
    hook_limit: int

    def body(self, hook: str) -> str:
        return f"{self.prefix}{hook} {self.offer_line}"


def composition(facts: OfferFacts, settings: MessagingSettings) -> Composition:
    """The fullest offer line that leaves a hook room; fails when nothing fits one SMS."""
    prefix = f"{clean_text(settings.sender_name, 20)}: " if settings.sender_name.strip() else ""
    lines = offer_lines(facts)
    for line in lines:
        kind = sms.encoding(prefix + line)
        room = settings.body_limit(kind) - sms.length(prefix) - sms.length(line) - 1
        if room >= MIN_HOOK_ROOM:
            return Composition(prefix, line, room)
    shortest = lines[-1]
    raise MessagingError(
        f"offer {facts.offer_id}: its facts ({shortest!r}) with the sender name, the "
        f"opt-out footer {settings.opt_out_footer!r} and room for a first name leave "
        f"fewer than {MIN_HOOK_ROOM} characters of one SMS for the message. Fix: "
        "shorten the offer code or category in the offers file, or sender_name / "
        "opt_out_footer in the messaging config."
    )


def with_footer(body: str, settings: MessagingSettings) -> str:
    return f"{body} {settings.opt_out_footer}"
