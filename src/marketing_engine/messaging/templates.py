"""Template hooks: the fallback's creative part, from enough combinations to never run out.

A hook is an opener (by segment) + an event phrase + a closer: about 900
combinations per pairing, tried in an order that depends on the pairing's
cache key (so neighbouring pairings start far apart), each composed with
the offer line and validated like a model's answer.
"""

from __future__ import annotations

from collections.abc import Iterator

_OPENERS = {
    "Champions": ["{first_name}, you are one of our best!", "Thank you, {first_name}!"],
    "Loyal": [
        "{first_name}, thanks for shopping with us so often!",
        "Hi {first_name}, old friend!",
    ],
    "Potential Loyalists": ["Great to see you again, {first_name}!", "{first_name}, welcome back!"],
    "New": ["Welcome, {first_name}!", "Hello {first_name}, glad you joined us!"],
    "Promising": [
        "Hi {first_name}, we saved something for you.",
        "{first_name}, you will like this.",
    ],
    "Need Attention": [
        "{first_name}, we picked this for you.",
        "{first_name}, a quick one for you.",
    ],
    "At Risk": ["We miss you, {first_name}!", "{first_name}, it has been a while!"],
    "Can't Lose Them": ["{first_name}, we really miss you!", "Come back, {first_name}!"],
    "Hibernating": ["Hello again, {first_name}!", "{first_name}, time for a treat?"],
    "Lost": ["{first_name}, we would love to see you back!", "Long time, {first_name}!"],
}
_GENERIC_OPENERS = [
    "Hi {first_name}!",
    "Hello {first_name}!",
    "{first_name}, good news!",
    "Hey {first_name}!",
    "Dear {first_name}!",
    "Good news, {first_name}!",
    "{first_name}, this is for you:",
    "{first_name}, a little treat:",
    "Psst, {first_name}!",
    "{first_name}, guess what?",
]
_EVENT_PHRASES = [
    "{event} is almost here.",
    "Get ready for {event}.",
    "Celebrate {event} with us.",
    "Make {event} special.",
    "{event} calls for a treat.",
    "Count down to {event} with us.",
    "Our {event} picks are in.",
    "Light up {event} with something new.",
    "Here is your {event} treat.",
    "Shop early for {event}.",
    "{event} deserves something nice.",
    "Say hello to {event}.",
]
_CLOSERS = [
    "",
    "Treat yourself.",
    "Enjoy!",
    "Do not miss it.",
    "We saved this for you.",
    "Happy shopping.",
    "See you soon.",
]


def template_hooks(segment: str, event: str, start: int) -> Iterator[str]:
    """Every hook for the segment and event, starting at combination `start` (cyclic)."""
    openers = _OPENERS.get(segment, []) + _GENERIC_OPENERS
    combos = [(o, p, c) for c in _CLOSERS for p in _EVENT_PHRASES for o in openers]
    # Step through the combinations with a stride coprime to their count, so
    # consecutive tries differ in opener, phrase and closer at once.
    count = len(combos)
    stride = next(s for s in (97, 89, 83, 79, 73, 71) if count % s)
    for step in range(count):
        opener, phrase, closer = combos[(start + step * stride) % count]
        event_phrase = phrase.format(event=event or "the season")
        yield " ".join(part for part in (opener, event_phrase, closer) if part)
