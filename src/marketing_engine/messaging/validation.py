"""Validation: a message is tokenised and every fact in it checked against the offer.

Every percentage, money amount, date and code-like word must be one of the
offer's own facts; the discount, code, minimum spend and end date must appear
exactly; any other number is invented. Links (bare domains too), phone
numbers, placeholders, banned words and opt-out text inside the body are
refused, and the whole must fit one SMS with its footer and a first name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain

from marketing_engine import sms
from marketing_engine.messaging.facts import MONTHS, OfferFacts, clean_text, offer_lines
from marketing_engine.messaging.settings import NAME_TOKEN, MessagingSettings

# Plain words per reason code: the message_generation_stats mart shows them.
REASONS = {
    "accepted": "accepted",
    "not_json": "answer was not the requested JSON",
    "empty": "empty message",
    "too_long": "too long for one SMS",
    "non_gsm": "characters outside the GSM-7 set",
    "placeholder": "placeholder other than {first_name}",
    "banned_word": "a word the brand avoids",
    "opt_out_text": "opt-out text inside the message",
    "digit_date": "date or time written in digits",
    "wrong_date": "a date that is not the offer's",
    "url": "a link or web address",
    "email": "an e-mail address",
    "phone": "a phone number",
    "wrong_percentage": "a percentage that is not the offer's discount",
    "wrong_amount": "a money amount that is not the offer's minimum spend",
    "wrong_code": "a code-like word that is not the offer's code",
    "invented_number": "a number that is not one of the offer's facts",
    "invented_claim": "a deal, scope or deadline that is not the offer's",
    "missing_fact": "the discount, code, minimum spend or end date missing",
    "near_duplicate": "too similar to an earlier campaign's message",
    "timeout": "the server did not answer in time",
    "server_error": "the server answered with an error",
    "unreachable": "the server was not reachable",
}


@dataclass(frozen=True)
class Problem:
    """Why a message cannot be sent: a reason code and the words for the user."""

    code: str
    detail: str

    def __str__(self) -> str:
        return self.detail


_MONTH = "|".join(f"{m[:3]}(?:{m[3:]})?" for m in MONTHS) + "|Sept"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(
    rf"\b(?P<day>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?(?P<month>{_MONTH})\b\.?(?:,?\s+(?P<year>\d{{4}})\b)?",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}}){_ORDINAL}\b(?:,?\s+(?P<year>\d{{4}})\b)?",
    re.IGNORECASE,
)
_DIGIT_DATE = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\b"
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"
    r"|\b\d{1,2}/\d{1,2}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm)?\b"
)
_URL = re.compile(
    r"https?://|\bwww\.|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,24}\b(?:/\S*)?"
    r"|[(\[]?\bdot\b[)\]]?\s*(?:com|net|org|in|co|xyz|shop|store)\b"
    r"|\s\.\s?(?:com|net|org|in|co|xyz|shop|store)\b",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\S+@\S+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{[^}]*\}|<[^>]*>|\{|\}")
_PERCENT = re.compile(r"(?P<value>\d+(?:[.,]\d+)?)\s*(?:%|per\s*cent\b|pct\b)", re.IGNORECASE)
_CURRENCY = r"rs\.?|inr|usd|eur|gbp|\$|€|£|₹"
_CURRENCY_AFTER = r"/-|rupees\b|rs\b|dollars\b|euros?\b|inr\b|usd\b|eur\b|gbp\b"
# Words for the same currency: an amount in another one is not the offer's.
_CURRENCY_GROUPS = [
    {"rs", "inr", "₹", "rupee", "rupees", "/-"},
    {"$", "usd", "dollar", "dollars"},
    {"€", "eur", "euro", "euros"},
    {"£", "gbp"},
]
# An amount stated as money off (the offers have none: an amount is the minimum spend).
_MONEY_OFF_AFTER = re.compile(
    r"\s*(?:off|cashback|cash\s+back|back|discount|voucher|coupon|credit|free)\b", re.IGNORECASE
)
_MONEY_OFF_BEFORE = re.compile(r"\b(?:save|saving|flat|extra|worth|win|get)\s*$", re.IGNORECASE)
_NUMBER_WORD = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred)"
)
_WORD_PERCENT = re.compile(
    rf"\b{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*\s*(?:per\s*cent|pct)\b"
    r"|\bhalf[\s-]+(?:price|off)\b",
    re.IGNORECASE,
)


# Deals and deadlines a hook may not claim: the offer line states the offer's own.
_DEADLINE = re.compile(
    r"\b(?:today|tonight|tomorrow|this\s+(?:week(?:end)?|month)|midnight|last\s+(?:day|chance)|"
    r"final\s+(?:day|hours?)|hours?\s+(?:left|only)|ends?\s+soon|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
    re.IGNORECASE,
)
_DEAL_WORDS = re.compile(
    r"\b(?:free|bogo|buy\s+(?:one|1|two|2)|cash\s*back|double|triple|extra|bonus|"
    r"gift\s+card|voucher|coupon|sale\s+price|clearance)\b",
    re.IGNORECASE,
)
_STOREWIDE = re.compile(
    r"\b(?:everything|storewide|sitewide|store-wide|site-wide|all\s+(?:items|products|"
    r"orders|categories)|entire\s+(?:store|range)|anything)\b",
    re.IGNORECASE,
)


def _currency_key(token: str) -> str:
    return re.sub(r"[\s.]", "", token.lower())


def _same_currency(found: str, configured: str) -> bool:
    found, configured = _currency_key(found), _currency_key(configured)
    if found == configured:
        return True
    return any(found in group and configured in group for group in _CURRENCY_GROUPS)


def _amount_pattern(currency: str) -> re.Pattern:
    """Money amounts with a currency before or after, the configured one included."""
    own = re.escape(currency.strip())
    before = f"{own}|{_CURRENCY}" if own else _CURRENCY
    return re.compile(
        rf"(?P<cur>{before})\s*(?P<value>\d[\d,]*(?:\.\d+)?)"
        rf"|(?P<value2>\d[\d,]*(?:\.\d+)?)\s*(?P<cur2>{_CURRENCY_AFTER})",
        re.IGNORECASE,
    )


_CODE_LIKE = re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{2,}\b")
_SHOUTED = re.compile(r"\b[A-Z]{4,}[A-Z0-9]*\b")
_NUMBER = re.compile(r"\d+")
_OPT_OUT = re.compile(r"\b(?:opt[\s-]?out|unsubscribe|reply\s+stop|text\s+stop)\b", re.IGNORECASE)


def _number(text: str) -> float:
    """'1,000' -> 1000; '12,5' (a decimal comma) -> 12.5."""
    if re.fullmatch(r"\d+,\d{1,2}", text):
        return float(text.replace(",", "."))
    return float(text.replace(",", ""))


def _mask(text: str, span: tuple[int, int]) -> str:
    return text[: span[0]] + " " * (span[1] - span[0]) + text[span[1] :]


def _date_of(match: re.Match) -> tuple[int, int, int | None]:
    month_text = match.group("month").lower()[:3]
    month = next(i for i, m in enumerate(MONTHS, 1) if m.lower().startswith(month_text))
    year = match.group("year")
    return int(match.group("day")), month, int(year) if year else None


def _matches_date(found: tuple[int, int, int | None], day: dt.date) -> bool:
    return found[0] == day.day and found[1] == day.month and found[2] in (None, day.year)


def check_message(body: str, facts: OfferFacts, settings: MessagingSettings) -> list[Problem]:
    """Problems that keep `body` (the message without footer) from being sent."""
    if not body.strip():
        return [Problem("empty", "empty message")]
    problems: list[Problem] = []
    kind = sms.encoding(body)
    limit, size = settings.body_limit(kind), sms.length(body)
    if size > limit:
        problems.append(
            Problem("too_long", f"too long: {size} units, limit {limit} ({kind}, footer included)")
        )
    if kind == "UCS-2":
        odd = sorted({ch for ch in body if not sms.is_gsm7(ch)})
        problems.append(Problem("non_gsm", "non-GSM characters " + " ".join(map(repr, odd[:5]))))
    placeholders = [p for p in _PLACEHOLDER.findall(body.replace(NAME_TOKEN, " "))]
    if placeholders:
        problems.append(Problem("placeholder", "placeholder " + ", ".join(placeholders[:3])))
    if body.count(NAME_TOKEN) > 1:
        problems.append(Problem("placeholder", "name token used more than once"))
    lowered = body.lower()
    banned = [
        word
        for word in settings.avoid_words
        if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered)
    ]
    if banned:
        problems.append(Problem("banned_word", "uses avoided word(s) " + ", ".join(banned)))
    if _OPT_OUT.search(body):
        problems.append(Problem("opt_out_text", "opt-out text in the body (the footer adds it)"))
    problems += _check_facts(body, facts, clean_text(settings.sender_name, 20))
    return problems


def _check_facts(body: str, facts: OfferFacts, sender: str = "") -> list[Problem]:
    """Tokenise `body` and hold every fact-like token against the offer."""
    problems: list[Problem] = []
    text = body.replace(NAME_TOKEN, " " * len(NAME_TOKEN))
    # Names from the data (event, category) may hold digits: they are facts, not inventions.
    for name in sorted({facts.event_name, facts.scope, sender} - {""}, key=len, reverse=True):
        whole = rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])"
        for match in re.finditer(whole, text, re.IGNORECASE):
            text = _mask(text, match.span())
    for match in _DIGIT_DATE.finditer(text):
        problems.append(
            Problem("digit_date", f"date or time in digits {match.group(0)!r}: write '8 Nov'")
        )
        text = _mask(text, match.span())
    dates_seen: list[tuple[int, int, int | None]] = []
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(text):
            found = _date_of(match)
            if not any(_matches_date(found, day) for day in facts.dates().values()):
                problems.append(
                    Problem("wrong_date", f"date {match.group(0)!r} is not the offer's")
                )
            dates_seen.append(found)
            text = _mask(text, match.span())
    if _EMAIL.search(text):
        problems.append(Problem("email", "contains an e-mail address"))
    for match in _URL.finditer(text):
        problems.append(Problem("url", f"contains a link or domain {match.group(0)!r}"))
        text = _mask(text, match.span())
    percents = []
    for match in _PERCENT.finditer(text):
        value = _number(match.group("value"))
        percents.append(value)
        if facts.discount_pct is None or abs(value - facts.discount_pct) > 1e-9:
            expected = facts.discount_text or "none (the offer has no discount)"
            problems.append(
                Problem("wrong_percentage", f"percentage {match.group(0)!r}; discount {expected}")
            )
        text = _mask(text, match.span())
    for match in _WORD_PERCENT.finditer(text):
        expected = facts.discount_text or "none (the offer has no discount)"
        problems.append(
            Problem(
                "wrong_percentage", f"percentage in words {match.group(0)!r}; discount {expected}"
            )
        )
        text = _mask(text, match.span())
    amounts = []
    for match in _amount_pattern(facts.currency).finditer(text):
        value = _number(match.group("value") or match.group("value2"))
        currency = match.group("cur") or match.group("cur2")
        money_off = _MONEY_OFF_AFTER.match(text, match.end()) or _MONEY_OFF_BEFORE.search(
            text[: match.start()]
        )
        expected = facts.spend_text or "none"
        if facts.min_spend is None or abs(value - facts.min_spend) > 0.005:
            problems.append(
                Problem("wrong_amount", f"amount {match.group(0).strip()!r}; min. spend {expected}")
            )
        elif not _same_currency(currency, facts.currency):
            problems.append(
                Problem(
                    "wrong_amount",
                    f"amount {match.group(0).strip()!r} in another currency; min. spend {expected}",
                )
            )
        elif money_off:
            problems.append(
                Problem(
                    "wrong_amount",
                    f"amount {match.group(0).strip()!r} as money off; min. spend {expected}",
                )
            )
        else:
            amounts.append(value)
        text = _mask(text, match.span())
    code_seen = False
    if facts.code:
        for match in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(facts.code)}(?![A-Za-z0-9])", text):
            code_seen = True
            text = _mask(text, match.span())
    for pattern in (_CODE_LIKE, _SHOUTED):
        for match in pattern.finditer(text):
            expected = facts.code or "none"
            problems.append(
                Problem("wrong_code", f"code-like word {match.group(0)!r}; the code is {expected}")
            )
            text = _mask(text, match.span())
    # Words of the offer line or name (a free-delivery or double-points deal) are facts.
    own_deal = " ".join([*offer_lines(facts), facts.offer_name]).lower()
    for match in _DEAL_WORDS.finditer(text):
        if match.group(0).lower() not in own_deal:
            problems.append(
                Problem("invented_claim", f"{match.group(0)!r}: a deal the offer does not make")
            )
    if facts.scope:
        for match in _STOREWIDE.finditer(text):
            problems.append(
                Problem("invented_claim", f"{match.group(0)!r}: the offer is for {facts.scope}")
            )
    for match in _DEADLINE.finditer(text):
        problems.append(
            Problem(
                "invented_claim",
                f"deadline {match.group(0)!r}; the offer runs till {facts.until_text or 'no date'}",
            )
        )
    for match in _PHONE.finditer(text):
        problems.append(Problem("phone", "contains a phone number"))
        text = _mask(text, match.span())
    for match in _NUMBER.finditer(text):
        problems.append(Problem("invented_number", f"number {match.group(0)!r} is not a fact"))
    missing = []
    if facts.discount_pct is not None and not any(
        abs(v - facts.discount_pct) <= 1e-9 for v in percents
    ):
        missing.append(f"discount {facts.discount_text}")
    if facts.code and not code_seen:
        missing.append(f"code {facts.code}")
    if facts.min_spend is not None and not any(abs(v - facts.min_spend) <= 0.005 for v in amounts):
        missing.append(f"minimum spend {facts.spend_text}")
    if facts.valid_to and not any(_matches_date(d, facts.valid_to) for d in dates_seen):
        missing.append(f"end date {facts.until_text}")
    if missing:
        problems.append(Problem("missing_fact", "missing " + ", ".join(missing)))
    return problems


def strip_footer(text: str, settings: MessagingSettings) -> str:
    """Text without a trailing opt-out footer, with or without its final period."""
    pattern = r"\s*[-.,;:]?\s*" + r"\s+".join(map(re.escape, settings.opt_out_footer.split()))
    return re.sub(pattern + r"\s*[.!]?\s*$", "", text, flags=re.IGNORECASE).rstrip()


def tidy_hook(text: object, settings: MessagingSettings) -> str:
    """A model's hook made plain: typographic characters to ASCII, quotes and footer off."""
    hook = clean_text(text, 1000).strip().strip('"').strip()
    return strip_footer(hook, settings)


def check_final(text: str, settings: MessagingSettings) -> list[str]:
    """Checks on a personalized SMS as sent: one part, the footer once at the end."""
    reasons = []
    kind, size = sms.encoding(text), sms.length(text)
    if size > sms.SINGLE_LIMIT[kind]:
        reasons.append(f"{size} units, more than one {kind} SMS ({sms.SINGLE_LIMIT[kind]})")
    footer = settings.opt_out_footer
    if not text.endswith(footer) or text.lower().count(footer.lower()) != 1:
        reasons.append(f"the footer {footer!r} is not there exactly once at the end")
    if "{" in text or "}" in text:
        reasons.append("an unfilled placeholder")
    if not strip_footer(text, settings).strip():
        reasons.append("no message before the footer")
    return reasons


def shingles(text: str, size: int = 3) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9%]+", text.lower().replace(NAME_TOKEN, " "))
    return frozenset(tuple(words[i : i + size]) for i in range(max(len(words) - size + 1, 1)))


def similarity(first: str, second: str) -> float:
    """Jaccard similarity of word 3-gram shingles."""
    return jaccard(shingles(first), shingles(second))


def jaccard(a: frozenset, b: frozenset) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


class ShingleIndex:
    """Earlier messages' shingles, indexed by shingle so a check only scores
    the messages that share one (the log grows by every campaign)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.owners: list[object] = []
        self.postings: dict[tuple, list[int]] = {}

    def add(self, items: frozenset, owner: object = None) -> None:
        number = len(self.sizes)
        self.sizes.append(len(items))
        self.owners.append(owner)
        for item in items:
            self.postings.setdefault(item, []).append(number)

    def closest(self, items: frozenset, skip_owner: object = None) -> float:
        """Highest Jaccard similarity to an indexed message not owned by `skip_owner`."""
        shared = Counter(chain.from_iterable(self.postings.get(item, ()) for item in items))
        best = 0.0
        for number, common in shared.items():
            if skip_owner is not None and self.owners[number] == skip_owner:
                continue
            best = max(best, common / (len(items) + self.sizes[number] - common))
        return best


def near_duplicate(
    body: str, earlier: ShingleIndex, threshold: float, skip_owner: object = None
) -> Problem | None:
    """The problem if `body` is too close to an earlier message (other than skip_owner's)."""
    score = earlier.closest(shingles(body), skip_owner)
    if score >= threshold:
        return Problem(
            "near_duplicate", f"near-duplicate of an earlier message (similarity {score:.2f})"
        )
    return None
