"""Message validation: tokenised fact checks, links, SMS sizes, composition, templates."""

from __future__ import annotations

import pandas as pd
import pytest

from marketing_engine import sms
from marketing_engine.messaging import (
    MessagingError,
    MessagingSettings,
    OfferFacts,
    check_final,
    check_message,
    composition,
    personalize,
    strip_footer,
    tidy_hook,
    with_footer,
)
from marketing_engine.messaging.templates import template_hooks


def pairing(**overrides) -> dict:
    row = {
        "pairing_id": "New | EVT1 | OFR01",
        "segment_name": "New",
        "event_id": "EVT1",
        "event_name": "Diwali",
        "event_date": pd.Timestamp("2026-11-08"),
        "offer_id": "OFR01",
        "offer_type": "percent_discount",
        "discount_pct": 20.0,
        "offer_category": "Sarees",
        "offer_code": "SAREE20",
        "min_spend": 1000.0,
        "valid_to": pd.Timestamp("2026-12-31"),
    }
    return {**row, **overrides}


SETTINGS = MessagingSettings(avoid_words=("cheap", "act now"))


def body_with(hook: str, **overrides) -> tuple[str, OfferFacts]:
    facts = OfferFacts.from_pairing(pairing(**overrides), SETTINGS)
    return composition(facts, SETTINGS).body(hook), facts


def codes(hook: str, **overrides) -> set[str]:
    body, facts = body_with(hook, **overrides)
    return {problem.code for problem in check_message(body, facts, SETTINGS)}


# Each hook is composed with the offer line (20% off Sarees, code SAREE20, min.
# spend Rs.1,000, till 31 Dec), so every required fact is present: only the
# hook's own tokens can make it fail.
@pytest.mark.parametrize(
    ("hook", "reason"),
    [
        ("Diwali special: 50% off everything plus 20% extra!", "wrong_percentage"),
        ("Save 120% this Diwali!", "wrong_percentage"),
        ("Save 2% more!", "wrong_percentage"),
        ("Take 20 percent and 30 percent off!", "wrong_percentage"),
        ("Use SAREE2000 for Diwali!", "wrong_code"),
        ("Use saree20 for Diwali!", "wrong_code"),
        ("Use DIWALI50 today!", "wrong_code"),
        ("HURRY, Diwali is here!", "wrong_code"),
        ("Diwali deals at bestdeals.xyz now!", "url"),
        ("Shop shop.example.in/sale today", "url"),
        ("See www.shop.com", "url"),
        ("Go to https://x.io", "url"),
        ("Visit bestdeals dot com", "url"),
        ("Write to offers@shop.store", "email"),
        ("See you on 2026-11-08 00:00:00!", "digit_date"),
        ("See you on 08/11!", "digit_date"),
        ("Doors open at 10:00 am", "digit_date"),
        ("Offer ends 30 Dec!", "wrong_date"),
        ("Diwali is on 9 November", "wrong_date"),
        ("Starts December 1st", "wrong_date"),
        ("Plus Rs.500 cashback!", "wrong_amount"),
        ("Get a $20 voucher", "wrong_amount"),
        ("Spend 2000 rupees", "wrong_amount"),
        # The minimum spend's value in another currency, or stated as money off.
        ("Spend $1,000 and save!", "wrong_amount"),
        ("Spend 1000 dollars!", "wrong_amount"),
        ("Get Rs.1,000 off Sarees!", "wrong_amount"),
        ("Save Rs. 1,000 today!", "wrong_amount"),
        ("Rs 1000 cashback for you!", "wrong_amount"),
        # Percentages in words.
        ("Enjoy fifty percent off!", "wrong_percentage"),
        ("Twenty-five per cent off!", "wrong_percentage"),
        ("Half price for Diwali!", "wrong_percentage"),
        # Deals, scope and deadlines the offer does not make.
        ("20% off everything in store!", "invented_claim"),
        ("Buy one get one free!", "invented_claim"),
        ("Free delivery too!", "invented_claim"),
        ("Double points this Diwali!", "invented_claim"),
        ("Today only!", "invented_claim"),
        ("Diwali sale ends Sunday!", "invented_claim"),
        ("Visit bestdeals (dot) com", "url"),
        ("Visit bestdeals .com", "url"),
        ("Only 3 days left!", "invented_number"),
        ("Top 10 picks for Diwali", "invented_number"),
        ("Call 98765 43210 now", "phone"),
        ("Hi {name}!", "placeholder"),
        ("Hi [Customer Name]!", "placeholder"),
        ("Hi {first_name}, yes {first_name}!", "placeholder"),
        ("Cheap thrills for Diwali!", "banned_word"),
        ("Act now for Diwali!", "banned_word"),
        ("Happy Diwali! Reply STOP to opt out.", "opt_out_text"),
        ("Diwali \U0001f389 sparkle", "non_gsm"),
        ("Diwali " + "is bright and " * 12, "too_long"),
    ],
)
def test_a_hook_with_an_invented_or_unsafe_token_fails(hook, reason):
    assert reason in codes(hook)


@pytest.mark.parametrize(
    ("hook", "overrides"),
    [
        ("Hi {first_name}! Diwali is near.", {}),
        ("Diwali falls on 8 Nov, treat yourself.", {}),
        ("Celebrate on November 8th!", {}),
        ("Yes, 20% off again!", {}),
        ("Min. spend Rs.1,000 and you are in.", {}),
        ("Use code SAREE20 at checkout.", {}),
        ("Our 11.11 Sale is here!", {"event_name": "11.11 Sale"}),
        ("Kids 2-5 picks are in.", {"offer_category": "Kids 2-5"}),
        ("Hello again!", {"discount_pct": None, "offer_type": "early_access", "min_spend": 0}),
        (
            "Double points for Diwali!",
            {"discount_pct": None, "offer_type": "loyalty_reward", "offer_name": "Double Points"},
        ),
        ("Free delivery for Diwali!", {"discount_pct": None, "offer_type": "free_shipping"}),
    ],
)
def test_a_hook_that_only_repeats_facts_passes(hook, overrides):
    assert codes(hook, **overrides) == set()


@pytest.mark.parametrize("currency", ["AED ", "CHF ", "kr ", "S$", "USD ", "Rs "])
def test_the_composed_offer_line_passes_with_any_configured_currency(currency):
    settings = MessagingSettings(currency=currency)
    facts = OfferFacts.from_pairing(pairing(), settings)
    body = composition(facts, settings).body("Hi {first_name}!")
    assert f"min. spend {currency}1,000" in body
    assert check_message(body, facts, settings) == []


def test_an_invented_discount_on_an_offer_without_one_fails():
    found = codes("Grab 50% off!", discount_pct=None, offer_type="free_shipping")
    assert found == {"wrong_percentage"}


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ("Hi {first_name}! 20% off Sarees.", "code SAREE20"),
        ("Hi! Code SAREE20, min. spend Rs.1,000, till 31 Dec.", "discount 20%"),
        ("Hi! 20% off with code SAREE20, till 31 Dec.", "minimum spend Rs.1,000"),
        ("Hi! 20% off with code SAREE20, min. spend Rs.1,000.", "end date 31 Dec"),
    ],
)
def test_every_fact_must_appear_exactly(body, missing):
    facts = OfferFacts.from_pairing(pairing(), SETTINGS)
    problems = check_message(body, facts, SETTINGS)
    assert [p.code for p in problems] == ["missing_fact"]
    assert missing in str(problems[0])


def test_the_composed_offer_line_states_every_fact():
    body, facts = body_with("Hi {first_name}!")
    assert body == (
        "Hi {first_name}! 20% off Sarees with code SAREE20, min. spend Rs.1,000, till 31 Dec."
    )
    assert check_message(body, facts, SETTINGS) == []
    later, _ = body_with("Hi!", valid_to=pd.Timestamp("2027-01-30"), min_spend=None)
    assert later.endswith("till 30 Jan 2027.")  # another year is named


def test_an_offer_that_cannot_fit_one_sms_fails_the_build_with_the_reason():
    facts = OfferFacts.from_pairing(pairing(offer_code="X" * 30, offer_category="C" * 30), SETTINGS)
    long_footer = MessagingSettings(opt_out_footer="To stop these messages " * 4)
    with pytest.raises(MessagingError, match=r"offer OFR01: .*Fix: shorten"):
        composition(facts, long_footer)


def test_a_sender_name_prefixes_every_message_and_may_hold_digits():
    branded = MessagingSettings(sender_name="Shop24")
    facts = OfferFacts.from_pairing(pairing(), branded)
    body = composition(facts, branded).body("Hi!")
    assert body.startswith("Shop24: Hi! 20% off")
    assert check_message(body, facts, branded) == []


# --- SMS size and footer -----------------------------------------------------------------


def test_sms_length_counts_septets_and_ucs2_units():
    assert sms.length("price [now] 5€") == len("price [now] 5€") + 3  # [, ], € cost 2
    assert sms.length("Diwali \U0001f389") == 9  # UCS-2: the emoji is a surrogate pair
    base, facts = body_with("Hi!")
    assert sms.length(with_footer(base, SETTINGS)) <= 160
    # A hook of plain characters that fits by characters but not by septets fails.
    room = composition(facts, SETTINGS).hook_limit
    assert "too_long" not in codes("a" * room)
    assert "too_long" in codes("a" * (room - 2) + "[]")


@pytest.mark.parametrize(
    "answer",
    [
        "Happy Diwali! Reply STOP to opt out",
        "Happy Diwali! Reply STOP to opt out.",
        "Happy Diwali! reply stop to opt out!",
        "Happy Diwali!  - Reply STOP to opt out.",
    ],
)
def test_a_footer_with_or_without_period_is_recognised(answer):
    assert tidy_hook(answer, SETTINGS) == "Happy Diwali!"
    assert strip_footer(answer, SETTINGS) == "Happy Diwali!"


def test_final_checks_count_the_footer_and_the_size():
    good = "Hi Priya! 20% off Sarees, code SAREE20. Reply STOP to opt out"
    assert check_final(good, SETTINGS) == []
    assert check_final("Hi! Reply STOP to opt out. Reply STOP to opt out", SETTINGS)
    assert check_final(" Reply STOP to opt out", SETTINGS)  # a bare footer
    assert check_final("a" * 140 + "€€ Reply STOP to opt out", SETTINGS)  # 163 septets
    other = MessagingSettings(opt_out_footer="Text STOP to end")
    assert check_final("Hi! Text STOP to end", other) == []
    assert check_final(good, other)


def test_personalized_messages_fit_with_the_longest_name():
    body, _ = body_with("Hi {first_name}! Light up Diwali with something new today.")
    final = personalize(with_footer(body, SETTINGS), "Alexandriana", SETTINGS)
    assert check_final(final, SETTINGS) == []


# --- templates ---------------------------------------------------------------------------


def test_templates_offer_hundreds_of_distinct_valid_hooks():
    hooks = list(template_hooks("Champions", "Diwali", start=12345))
    assert len(hooks) == len(set(hooks)) >= 500
    facts = OfferFacts.from_pairing(pairing(), SETTINGS)
    comp = composition(facts, SETTINGS)
    reasons = {h: {p.code for p in check_message(comp.body(h), facts, SETTINGS)} for h in hooks}
    assert sum(not found for found in reasons.values()) >= 300
    assert {code for found in reasons.values() for code in found} == {"too_long"}
