"""Retail calendar: festivals and occasions with the categories they move.

Moving festivals (Diwali, Holi, Eid, ...) follow lunar calendars, so their
dates are listed per year; fixed and weekday-rule occasions are computed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Published dates of the main moving festivals.
_MOVING: dict[str, dict[int, str]] = {
    "Diwali": {
        2022: "2022-10-24",
        2023: "2023-11-12",
        2024: "2024-11-01",
        2025: "2025-10-21",
        2026: "2026-11-08",
        2027: "2027-10-29",
        2028: "2028-10-17",
    },
    "Holi": {
        2022: "2022-03-18",
        2023: "2023-03-08",
        2024: "2024-03-25",
        2025: "2025-03-14",
        2026: "2026-03-04",
        2027: "2027-03-22",
        2028: "2028-03-11",
    },
    "Eid al-Fitr": {
        2022: "2022-05-03",
        2023: "2023-04-22",
        2024: "2024-04-10",
        2025: "2025-03-31",
        2026: "2026-03-20",
        2027: "2027-03-10",
        2028: "2028-02-27",
    },
    "Raksha Bandhan": {
        2022: "2022-08-11",
        2023: "2023-08-30",
        2024: "2024-08-19",
        2025: "2025-08-09",
        2026: "2026-08-28",
        2027: "2027-08-17",
        2028: "2028-08-05",
    },
    "Navratri": {
        2022: "2022-09-26",
        2023: "2023-10-15",
        2024: "2024-10-03",
        2025: "2025-09-22",
        2026: "2026-10-11",
        2027: "2027-09-30",
        2028: "2028-09-19",
    },
}


@dataclass(frozen=True)
class Occasion:
    """A recurring occasion and how strongly it lifts sales in its categories."""

    name: str
    event_type: str
    categories: tuple[str, ...]
    lift: float
    description: str


OCCASIONS: dict[str, Occasion] = {
    "New Year": Occasion(
        "New Year",
        "holiday",
        ("Apparel", "Electronics", "Beauty"),
        0.6,
        "Fresh start sales for the new year.",
    ),
    "Makar Sankranti": Occasion(
        "Makar Sankranti",
        "festival",
        ("Grocery", "Sarees", "Home & Kitchen"),
        0.5,
        "Harvest festival; sweets, kites and new clothes.",
    ),
    "Valentine's Day": Occasion(
        "Valentine's Day",
        "occasion",
        ("Jewellery", "Beauty", "Apparel"),
        0.7,
        "Gifts for partners and loved ones.",
    ),
    "Holi": Occasion(
        "Holi",
        "festival",
        ("Apparel", "Grocery", "Beauty"),
        0.8,
        "Festival of colours; white outfits, colours and sweets.",
    ),
    "Eid al-Fitr": Occasion(
        "Eid al-Fitr",
        "festival",
        ("Apparel", "Jewellery", "Grocery"),
        0.8,
        "End of Ramadan; new clothes, gifts and feasts.",
    ),
    "Mother's Day": Occasion(
        "Mother's Day", "occasion", ("Sarees", "Jewellery", "Beauty"), 0.6, "Gifts for mothers."
    ),
    "End of Season Sale": Occasion(
        "End of Season Sale",
        "retail",
        ("Apparel", "Footwear", "Kids"),
        0.9,
        "Mid-year clearance across fashion.",
    ),
    "Independence Day": Occasion(
        "Independence Day",
        "holiday",
        ("Electronics", "Home & Kitchen", "Apparel"),
        0.5,
        "National holiday sales weekend.",
    ),
    "Raksha Bandhan": Occasion(
        "Raksha Bandhan",
        "festival",
        ("Jewellery", "Grocery", "Apparel"),
        0.7,
        "Siblings exchange rakhis and gifts.",
    ),
    "Navratri": Occasion(
        "Navratri",
        "festival",
        ("Sarees", "Jewellery", "Apparel"),
        1.0,
        "Nine nights of dance; ethnic wear and jewellery.",
    ),
    "Diwali": Occasion(
        "Diwali",
        "festival",
        ("Sarees", "Jewellery", "Home & Kitchen", "Electronics"),
        2.0,
        "Festival of lights; the biggest shopping season of the year.",
    ),
    "Black Friday": Occasion(
        "Black Friday",
        "retail",
        ("Electronics", "Footwear", "Apparel"),
        1.0,
        "Deep discounts across the store.",
    ),
    "Christmas": Occasion(
        "Christmas",
        "holiday",
        ("Kids", "Electronics", "Home & Kitchen"),
        0.9,
        "Gifts, decorations and family feasts.",
    ),
}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday (Monday=0) of a month."""
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def occasion_dates(year: int) -> list[tuple[str, dt.date]]:
    """Every occasion's date in a year; moving festivals without a listed date are left out."""
    fixed = {
        "New Year": dt.date(year, 1, 1),
        "Makar Sankranti": dt.date(year, 1, 14),
        "Valentine's Day": dt.date(year, 2, 14),
        "Mother's Day": _nth_weekday(year, 5, 6, 2),
        "End of Season Sale": dt.date(year, 7, 1),
        "Independence Day": dt.date(year, 8, 15),
        "Black Friday": _nth_weekday(year, 11, 4, 4),
        "Christmas": dt.date(year, 12, 25),
    }
    moving = {
        name: dt.date.fromisoformat(by_year[year])
        for name, by_year in _MOVING.items()
        if year in by_year
    }
    return sorted({**fixed, **moving}.items(), key=lambda item: item[1])


def occasions_between(start: dt.date, end: dt.date) -> list[tuple[Occasion, dt.date]]:
    """Occasions dated in [start, end], in date order."""
    found = []
    for year in range(start.year, end.year + 1):
        for name, day in occasion_dates(year):
            if start <= day <= end:
                found.append((OCCASIONS[name], day))
    return found
