"""Deterministic generator of a realistic retail sample.

Behaviour follows the models the warehouse fits, so every mart has signal:

* purchases are a Poisson process whose rate varies across customers
  (gamma) and over the calendar (seasonality plus festival spikes); after
  each purchase a customer drops out with a customer-specific probability
  (beta-geometric), which gives new, loyal, lapsed and one-off customers;
* spend per order is heavy-tailed and varies by customer (income, basket size);
* demographics move behaviour: income lifts spend, kids lift the Kids
  category, gender and age shift the favourite category;
* a few categories carry most of the revenue (Sarees about 30%).

Same seed, same bytes: one numpy Generator per block of customers, spawned
from the seed, and sorted, fixed-format output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from marketing_engine.calendar import OCCASIONS, occasions_between

# Target revenue share and typical list price (INR) per category.
CATEGORIES: dict[str, tuple[float, float]] = {
    "Sarees": (0.40, 2600.0),
    "Apparel": (0.16, 1300.0),
    "Jewellery": (0.09, 5200.0),
    "Footwear": (0.09, 1500.0),
    "Home & Kitchen": (0.08, 900.0),
    "Electronics": (0.07, 2400.0),
    "Beauty": (0.06, 450.0),
    "Kids": (0.05, 700.0),
    "Grocery": (0.03, 180.0),
}
PRODUCTS_PER_CATEGORY = 28
COMPLEMENTS = {
    "Sarees": "Jewellery",
    "Jewellery": "Sarees",
    "Apparel": "Footwear",
    "Footwear": "Apparel",
    "Home & Kitchen": "Grocery",
    "Grocery": "Home & Kitchen",
    "Electronics": "Home & Kitchen",
    "Beauty": "Apparel",
    "Kids": "Apparel",
}

CITIES = [
    # city_id, name, country, timezone, population weight
    ("CTY01", "Mumbai", "India", "Asia/Kolkata", 0.17),
    ("CTY02", "Delhi", "India", "Asia/Kolkata", 0.16),
    ("CTY03", "Bengaluru", "India", "Asia/Kolkata", 0.13),
    ("CTY04", "Hyderabad", "India", "Asia/Kolkata", 0.09),
    ("CTY05", "Chennai", "India", "Asia/Kolkata", 0.09),
    ("CTY06", "Kolkata", "India", "Asia/Kolkata", 0.08),
    ("CTY07", "Pune", "India", "Asia/Kolkata", 0.07),
    ("CTY08", "Ahmedabad", "India", "Asia/Kolkata", 0.06),
    ("CTY09", "Jaipur", "India", "Asia/Kolkata", 0.05),
    ("CTY10", "Dubai", "United Arab Emirates", "Asia/Dubai", 0.05),
    ("CTY11", "Singapore", "Singapore", "Asia/Singapore", 0.03),
    ("CTY12", "London", "United Kingdom", "Europe/London", 0.02),
]
COUNTRY_PHONE = {
    "India": "+91",
    "United Arab Emirates": "+971",
    "Singapore": "+65",
    "United Kingdom": "+44",
}

MERCHANTS = [
    ("MER01", "Kanchi Silks", "Sarees"),
    ("MER02", "Urban Threads", "Apparel"),
    ("MER03", "Tanishka Jewels", "Jewellery"),
    ("MER04", "StepUp Footwear", "Footwear"),
    ("MER05", "HomeNest", "Home & Kitchen"),
    ("MER06", "GadgetHub", "Electronics"),
    ("MER07", "GlowUp Beauty", "Beauty"),
    ("MER08", "Little Steps", "Kids"),
    ("MER09", "FreshBasket", "Grocery"),
    ("MER10", "Bazaar Central", "Department Store"),
]

COUPON_NAMES = [
    "WELCOME10",
    "FLAT200",
    "SILK15",
    "GLOW20",
    "STEPUP25",
    "FESTIVE500",
    "KIDS10",
    "FRESH50",
    "GADGET15",
    "HOME20",
    "JEWEL5",
    "WEEKEND12",
]

FEMALE_NAMES = [
    "Aanya",
    "Priya",
    "Ananya",
    "Diya",
    "Isha",
    "Kavya",
    "Meera",
    "Neha",
    "Pooja",
    "Riya",
    "Saanvi",
    "Shreya",
    "Sneha",
    "Tara",
    "Aditi",
    "Lakshmi",
    "Fatima",
    "Zara",
    "Sara",
    "Anjali",
    "Divya",
    "Nisha",
    "Radhika",
    "Simran",
    "Emma",
    "Olivia",
    "Aisha",
    "Mei",
]
MALE_NAMES = [
    "Aarav",
    "Vihaan",
    "Arjun",
    "Rohan",
    "Karan",
    "Rahul",
    "Siddharth",
    "Vikram",
    "Aditya",
    "Nikhil",
    "Ravi",
    "Sanjay",
    "Amit",
    "Imran",
    "Omar",
    "Yusuf",
    "Kabir",
    "Dev",
    "Ishaan",
    "Manish",
    "Suresh",
    "Harish",
    "James",
    "Oliver",
    "Wei",
    "Ahmed",
    "Farhan",
    "Tarun",
]

EDUCATION = ["High School", "Diploma", "Bachelor", "Master", "PhD"]
INCOME_BANDS = ["Low", "Lower-Middle", "Upper-Middle", "High"]
CHANNELS = ["store", "online", "app"]

CUSTOMER_BLOCK = 50_000


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate; the defaults are the embedded sample."""

    customers: int = 2000
    seed: int = 42
    start_date: dt.date = dt.date(2024, 1, 1)
    end_date: dt.date = dt.date(2026, 10, 31)
    dirty_rows: bool = True
    # Customers per transaction block (one seeded generator and one row group each);
    # part of the data's identity, like the seed.
    block_customers: int = CUSTOMER_BLOCK


# --- calendar intensity -----------------------------------------------------------


def seasonal_intensity(start: dt.date, end: dt.date) -> np.ndarray:
    """Relative purchase intensity per day: yearly wave, weekends, festival run-ups."""
    days = (end - start).days + 1
    index = np.arange(days)
    dates = np.array([start + dt.timedelta(days=int(i)) for i in index])
    day_of_year = np.array([d.timetuple().tm_yday for d in dates])
    weekday = np.array([d.weekday() for d in dates])
    intensity = 1.0 + 0.15 * np.cos(2 * np.pi * (day_of_year - 300) / 365.25)
    intensity *= np.where(weekday >= 5, 1.25, 0.95)
    for occasion, day in occasions_between(start, end + dt.timedelta(days=14)):
        offset = (day - start).days
        # Shopping builds in the 10 days before an occasion and stops after it.
        lead = offset - index
        ramp = np.where((lead >= 0) & (lead <= 10), np.exp(-lead / 4.0), 0.0)
        intensity += occasion.lift * ramp
    return intensity


# --- reference tables ---------------------------------------------------------------


def _products(rng: np.random.Generator) -> dict[str, list]:
    ids, names, categories, prices, costs = [], [], [], [], []
    adjectives = ["Classic", "Premium", "Festive", "Everyday", "Signature", "Heritage", "Modern"]
    for c_index, (category, (_, typical_price)) in enumerate(CATEGORIES.items()):
        sampled = typical_price * rng.lognormal(0.0, 0.55, PRODUCTS_PER_CATEGORY)
        for p_index, price in enumerate(np.sort(sampled)):
            number = c_index * PRODUCTS_PER_CATEGORY + p_index + 1
            ids.append(f"PRD{number:04d}")
            names.append(f"{adjectives[number % len(adjectives)]} {category} {p_index + 1:02d}")
            categories.append(category)
            price = round(float(max(price, 20.0)), 0) - 1 + 0.99 * (price > 100)
            prices.append(round(price, 2))
            costs.append(round(price * float(rng.uniform(0.45, 0.7)), 2))
    return {
        "product_id": ids,
        "product_name": names,
        "category": categories,
        "list_price": prices,
        "unit_cost": costs,
    }


def _branches(rng: np.random.Generator) -> dict[str, list]:
    rows: dict[str, list] = {"branch_id": [], "branch_name": [], "merchant_id": [], "city_id": []}
    number = 0
    for city_id, city_name, _, _, weight in CITIES:
        n_branches = max(1, round(weight * 40))
        for merchant_index in rng.choice(len(MERCHANTS), n_branches, replace=False):
            number += 1
            merchant_id, merchant_name, _ = MERCHANTS[int(merchant_index)]
            rows["branch_id"].append(f"BR{number:03d}")
            rows["branch_name"].append(f"{merchant_name} {city_name}")
            rows["merchant_id"].append(merchant_id)
            rows["city_id"].append(city_id)
    return rows


def _events(start: dt.date, end: dt.date) -> dict[str, list]:
    rows: dict[str, list] = {
        "event_id": [],
        "event_name": [],
        "event_date": [],
        "event_type": [],
        "relevant_categories": [],
        "description": [],
    }
    for occasion, day in occasions_between(start, end):
        rows["event_id"].append(f"EVT{day:%Y%m%d}{occasion.name[:3].upper()}")
        rows["event_name"].append(occasion.name)
        rows["event_date"].append(day.isoformat())
        rows["event_type"].append(occasion.event_type)
        rows["relevant_categories"].append("|".join(occasion.categories))
        rows["description"].append(occasion.description)
    return rows


def _offers(end: dt.date) -> dict[str, list]:
    """A marketer's offer list around the data's end: some live, some expired."""
    soon = end + dt.timedelta(days=1)
    specs = [
        ("OFR01", "Festive Saree Week", "percent_discount", 20, "Sarees", 1500, "SAREE20", -10, 60),
        (
            "OFR02",
            "Jewellery Gold Rush",
            "percent_discount",
            10,
            "Jewellery",
            5000,
            "GOLD10",
            -5,
            45,
        ),
        ("OFR03", "Loyalty Double Points", "loyalty_reward", 0, None, 0, "DOUBLEPTS", -30, 90),
        ("OFR04", "VIP Early Access", "early_access", 0, None, 0, "VIPEARLY", 0, 40),
        ("OFR05", "We Miss You", "win_back", 25, None, 1000, "COMEBACK25", -20, 90),
        (
            "OFR06",
            "Electronics Mega Deal",
            "percent_discount",
            15,
            "Electronics",
            3000,
            "TECH15",
            10,
            40,
        ),
        ("OFR07", "Free Home Delivery", "free_shipping", 0, None, 499, "FREESHIP", -60, 120),
        ("OFR08", "Kids Back to School", "percent_discount", 15, "Kids", 800, "KIDS15", -120, -60),
        ("OFR09", "Beauty Bundle", "bundle", 30, "Beauty", 1200, "GLOWKIT30", -10, 50),
        ("OFR10", "First Repeat Reward", "percent_discount", 10, None, 500, "THANKS10", -30, 120),
        ("OFR11", "Home Makeover", "percent_discount", 20, "Home & Kitchen", 2000, "HOME20", 5, 50),
        ("OFR12", "Summer Clearance", "percent_discount", 40, "Apparel", 0, "SUMMER40", -150, -90),
    ]
    rows: dict[str, list] = {
        "offer_id": [],
        "offer_name": [],
        "offer_type": [],
        "discount_pct": [],
        "category": [],
        "min_spend": [],
        "offer_code": [],
        "valid_from": [],
        "valid_to": [],
        "is_active": [],
        "description": [],
    }
    for offer_id, name, kind, pct, category, min_spend, code, from_days, to_days in specs:
        valid_from = soon + dt.timedelta(days=from_days)
        valid_to = soon + dt.timedelta(days=to_days)
        rows["offer_id"].append(offer_id)
        rows["offer_name"].append(name)
        rows["offer_type"].append(kind)
        rows["discount_pct"].append(f"{pct:.2f}")
        rows["category"].append(category)
        rows["min_spend"].append(f"{min_spend:.2f}")
        rows["offer_code"].append(code)
        rows["valid_from"].append(valid_from.isoformat())
        rows["valid_to"].append(valid_to.isoformat())
        rows["is_active"].append("true" if valid_to >= soon else "false")
        scope = f"on {category}" if category else "storewide"
        rows["description"].append(f"{name}: {kind.replace('_', ' ')} {scope}.")
    return rows


# --- customers ------------------------------------------------------------------------


@dataclass
class CustomerTraits:
    """Latent behaviour per customer, kept for the transaction simulation."""

    join_day: np.ndarray
    rate: np.ndarray
    dropout: np.ndarray
    spend: np.ndarray
    discount_affinity: np.ndarray
    favourite_category: np.ndarray
    city_index: np.ndarray
    ever_buys: np.ndarray


def _customers(config: GeneratorConfig, rng: np.random.Generator):
    n = config.customers
    window = (config.end_date - config.start_date).days
    city_weights = np.array([c[4] for c in CITIES])
    city_index = rng.choice(len(CITIES), n, p=city_weights / city_weights.sum())

    gender = rng.choice(["Female", "Male", "Non-binary"], n, p=[0.53, 0.45, 0.02])
    age = np.clip(rng.gamma(6.0, 6.0, n) + 14, 18, 80).astype(int)
    education = np.minimum(rng.binomial(4, 0.35 + 0.1 * (age > 25), n), 4)
    married_p = np.clip((age - 22) / 15, 0.02, 0.85)
    marital = np.where(rng.random(n) < married_p, "Married", "Single")
    marital = np.where((marital == "Married") & (rng.random(n) < 0.06), "Divorced", marital)
    marital = np.where((age > 60) & (rng.random(n) < 0.15), "Widowed", marital)
    kids = np.where(marital == "Single", rng.binomial(1, 0.05, n), rng.binomial(3, 0.45, n))
    income_score = 0.6 * education + 0.02 * np.clip(age - 22, 0, 30) + rng.normal(0, 0.8, n)
    income = np.digitize(income_score, [0.9, 1.8, 2.8])

    # Join dates grow over the window: more recent customers than old ones.
    join_day = np.floor(window * rng.random(n) ** 0.75).astype(int)
    days_before_birthday = (age * 365.25 + rng.integers(0, 365, n)).astype(int)

    rate = rng.gamma(0.9, 1 / 14.0, n) * (0.8 + 0.15 * income)  # orders per day at intensity 1
    dropout = rng.beta(0.8, 10.0, n)
    spend = rng.lognormal(0.0, 0.45, n) * (0.7 + 0.25 * income)
    discount_affinity = rng.beta(1.5, 3.5, n) * (1.3 - 0.15 * income)
    ever_buys = rng.random(n) > 0.03

    favourite = _favourite_categories(rng, gender, age, kids)

    first_names = np.where(
        gender == "Female",
        np.array(FEMALE_NAMES)[rng.integers(0, len(FEMALE_NAMES), n)],
        np.array(MALE_NAMES)[rng.integers(0, len(MALE_NAMES), n)],
    )
    ids = _ids("CUS", 1, n, 7)
    countries = np.array([CITIES[i][2] for i in range(len(CITIES))])[city_index]
    local_numbers = rng.integers(10**8, 10**9, n)
    phones = [f"{COUNTRY_PHONE[c]}9{num}" for c, num in zip(countries, local_numbers, strict=True)]
    emails = [
        f"{name.lower()}.{i}@example.com"
        for name, i in zip(first_names, range(1, n + 1), strict=True)
    ]
    join_dates = np.datetime64(config.start_date) + join_day.astype("timedelta64[D]")
    birth_dates = np.datetime64(config.end_date) - days_before_birthday.astype("timedelta64[D]")
    sms_opt_in = rng.random(n) < 0.72
    email_opt_in = rng.random(n) < 0.6
    opted_out = rng.random(n) < 0.05

    table = {
        "customer_id": ids,
        "first_name": first_names,
        "email": emails,
        "phone": phones,
        "gender": gender,
        "birth_date": birth_dates.astype(str),
        "city_id": np.array([c[0] for c in CITIES])[city_index],
        "education": np.array(EDUCATION)[education],
        "marital_status": marital,
        "num_kids": kids.astype(str),
        "income_band": np.array(INCOME_BANDS)[income],
        "join_date": join_dates.astype(str),
        "sms_opt_in": np.where(sms_opt_in, "true", "false"),
        "email_opt_in": np.where(email_opt_in, "true", "false"),
        "opted_out": np.where(opted_out, "true", "false"),
    }
    traits = CustomerTraits(
        join_day=join_day,
        rate=rate,
        dropout=dropout,
        spend=spend,
        discount_affinity=np.clip(discount_affinity, 0.01, 0.95),
        favourite_category=favourite,
        city_index=city_index,
        ever_buys=ever_buys,
    )
    return table, traits


def _favourite_categories(rng, gender, age, kids) -> np.ndarray:
    """Favourite category index, shifted by gender, age and children."""
    names = list(CATEGORIES)
    base = np.array([CATEGORIES[c][0] / CATEGORIES[c][1] for c in names])
    base = base / base.sum()
    n = len(gender)
    weights = np.tile(base, (n, 1))
    col = {name: i for i, name in enumerate(names)}
    female = gender == "Female"
    weights[female, col["Sarees"]] *= 2.2
    weights[female, col["Beauty"]] *= 1.8
    weights[female, col["Jewellery"]] *= 1.6
    weights[~female, col["Electronics"]] *= 2.2
    weights[~female, col["Footwear"]] *= 1.5
    weights[~female, col["Sarees"]] *= 0.35
    weights[kids > 0, col["Kids"]] *= 3.0
    weights[age > 45, col["Home & Kitchen"]] *= 1.6
    weights[age < 30, col["Apparel"]] *= 1.5
    weights /= weights.sum(axis=1, keepdims=True)
    cumulative = weights.cumsum(axis=1)
    draws = rng.random(n)[:, None]
    return np.minimum((draws > cumulative).sum(axis=1), len(names) - 1)


# --- transactions --------------------------------------------------------------------


def _simulate_orders(
    traits: CustomerTraits,
    rows: slice,
    window: int,
    cumulative: np.ndarray,
    rng: np.random.Generator,
):
    """Order days per customer in `rows` by time-rescaling a beta-geometric/Poisson process."""
    join = traits.join_day[rows]
    rate = traits.rate[rows]
    # Purchases until drop-out: first purchase at join, then after each purchase
    # the customer leaves with probability p.
    purchases = np.minimum(rng.geometric(traits.dropout[rows]), 400)
    purchases = np.where(traits.ever_buys[rows], purchases, 0)
    repeats = np.maximum(purchases - 1, 0)
    owner = np.repeat(np.arange(len(join)), repeats)
    gaps = rng.exponential(1.0, owner.size) / rate[owner]
    # Cumulative sum within each customer.
    total = np.cumsum(gaps)
    starts = np.concatenate([[0], np.cumsum(repeats)[:-1]])
    before = np.concatenate([[0.0], total])[starts]
    within = total - np.repeat(before, repeats)
    # Map operational time back to calendar days through the cumulative intensity.
    base = cumulative[join]
    repeat_days = np.interp(np.repeat(base, repeats) + within, cumulative, np.arange(window + 1))
    first_owner = np.flatnonzero(purchases > 0)
    order_owner = np.concatenate([first_owner, owner])
    order_day = np.concatenate([join[first_owner].astype(float), repeat_days])
    keep = order_day < window
    return order_owner[keep], np.floor(order_day[keep]).astype(int)


def _transactions_block(config, traits, products, branches, rows, cumulative, rng, order_offset):
    window = (config.end_date - config.start_date).days + 1
    owner_local, order_day = _simulate_orders(traits, rows, window, cumulative, rng)
    # Stable order: by customer, then day.
    order = np.lexsort((order_day, owner_local))
    owner_local, order_day = owner_local[order], order_day[order]
    owner = owner_local + rows.start
    n_orders = owner.size
    spend = traits.spend[owner]

    seconds = (rng.beta(2.2, 2.0, n_orders) * 12 * 3600 + 9.5 * 3600).astype(int)
    lines_per_order = 1 + rng.poisson(0.8 * np.sqrt(spend))
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    n_lines = line_order.size
    line_customer = owner[line_order]

    categories = list(CATEGORIES)
    n_cat = len(categories)
    global_weights = np.array([CATEGORIES[c][0] / CATEGORIES[c][1] for c in categories])
    global_weights /= global_weights.sum()
    favourite = traits.favourite_category[line_customer]
    category = np.where(
        rng.random(n_lines) < 0.55, favourite, rng.choice(n_cat, n_lines, p=global_weights)
    )
    # Baskets have complements: later lines often match the first line's category
    # (sarees with jewellery, apparel with footwear), which cross-sell rules find.
    first_line = np.repeat(np.cumsum(lines_per_order) - lines_per_order, lines_per_order)
    complement = np.array([categories.index(COMPLEMENTS[c]) for c in categories])
    is_later = np.arange(n_lines) != first_line
    category = np.where(
        is_later & (rng.random(n_lines) < 0.35), complement[category[first_line]], category
    )
    # Within a category products are sorted by price; big spenders lean expensive.
    quantile = rng.random(n_lines) ** (1.0 / np.clip(spend[line_order], 0.3, 4.0))
    product_index = category * PRODUCTS_PER_CATEGORY + np.minimum(
        (quantile * PRODUCTS_PER_CATEGORY).astype(int), PRODUCTS_PER_CATEGORY - 1
    )
    list_price = np.asarray(products["list_price"])[product_index]
    years_in = order_day[line_order] / 365.25
    unit_price = np.round(list_price * (1.0 + 0.04 * years_in), 0) - 0.01
    unit_price = np.where(
        list_price < 100, np.round(list_price * (1.0 + 0.04 * years_in), 2), unit_price
    )
    grocery = category == categories.index("Grocery")
    quantity = np.where(grocery, 1 + rng.poisson(1.5, n_lines), 1 + rng.binomial(1, 0.08, n_lines))

    discounted = rng.random(n_lines) < traits.discount_affinity[line_customer] * 0.6
    discount_pct = rng.choice([0.05, 0.10, 0.15, 0.20, 0.25], n_lines)
    discount = np.where(discounted, np.round(quantity * unit_price * discount_pct, 2), 0.0)

    channel = rng.choice(3, n_orders, p=[0.5, 0.3, 0.2])
    store_branch = _pick_branch(branches, traits.city_index[owner], rng.random(n_orders))
    branch_id = np.where(channel == 0, store_branch, None)

    timestamps = np.datetime64(config.start_date, "s") + (order_day * 86400 + seconds).astype(
        "timedelta64[s]"
    )
    line_number = np.arange(n_lines) - np.repeat(
        np.cumsum(lines_per_order) - lines_per_order, lines_per_order
    )
    # Indices and numbers only: the text or typed table is built from them.
    line = {
        "order_number": order_offset + 1 + line_order,
        "line_number": line_number + 1,
        "customer_index": line_customer,
        "product_index": product_index,
        "ordered_at": timestamps[line_order],
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_amount": discount,
        "channel_index": channel[line_order],
        "branch_id": pa.array(branch_id, pa.string()).take(line_order),
    }
    # About 2% of lines come back within a month as a return line.
    returned = np.flatnonzero(rng.random(n_lines) < 0.02)
    return line, returned, rng.integers(1, 30, returned.size), n_orders


def _pick_branch(
    branches: dict[str, list], city_index: np.ndarray, uniform: np.ndarray
) -> np.ndarray:
    """A branch in each given city, chosen uniformly by `uniform` in [0, 1)."""
    city_ids = [c[0] for c in CITIES]
    by_city: list[list[str]] = [[] for _ in CITIES]
    for branch_id, city_id in zip(branches["branch_id"], branches["city_id"], strict=True):
        by_city[city_ids.index(city_id)].append(branch_id)
    width = max(len(b) for b in by_city)
    grid = np.array([b + [b[0]] * (width - len(b)) for b in by_city], dtype=object)
    counts = np.array([len(b) for b in by_city])
    pick = (uniform * counts[city_index]).astype(int)
    return grid[city_index, pick]


def _ids(prefix: str, first: int, count: int, width: int) -> np.ndarray:
    numbers = np.arange(first, first + count).astype(str)
    return np.char.add(prefix, np.char.zfill(numbers, width))


def _text_line(line: dict, products: dict) -> dict:
    """The index-based line arrays as the text arrays the CSV is written from."""
    order_ids = np.char.add("ORD", np.char.zfill(line["order_number"].astype(str), 9))
    return {
        **line,
        "order_id": order_ids,
        "product_id": np.asarray(products["product_id"])[line["product_index"]],
        "channel": np.array(CHANNELS)[line["channel_index"]],
        "branch_id": np.asarray(line["branch_id"].to_numpy(zero_copy_only=False), dtype=object),
    }


def _returned_rows(config, line, returned, return_delay) -> tuple[np.ndarray, np.ndarray]:
    """The returned line indices whose return falls in the window, and their timestamps."""
    end = np.datetime64(config.end_date, "s") + np.timedelta64(86399, "s")
    return_at = line["ordered_at"][returned] + (return_delay * 86400).astype("timedelta64[s]")
    keep = return_at <= end
    return returned[keep], return_at[keep]


def _decimal(values: np.ndarray, scale: int, precision: int = 18) -> pa.Array:
    """Numbers as decimal128(precision, scale), rounded to `scale` places like "%.2f"."""
    units = np.rint(np.round(values, scale) * 10**scale).astype(np.int64)
    words = np.empty((units.size, 2), dtype=np.int64)
    words[:, 0] = units
    words[:, 1] = units >> 63  # two's complement sign extension to 128 bits
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), units.size, [None, pa.py_buffer(words)]
    )


def _typed_lines_table(config, line, returned, return_delay, customer_ids, products) -> pa.Table:
    """The transactions block as PARQUET_TYPES columns, built without text.

    Equal to _typed(text table) (tests/unit/test_generator.py checks it) and many
    times faster: formatting 24M numbers and timestamps as text dominated generation.
    """
    import pyarrow.compute as pc

    n = line["order_number"].size
    returned, return_at = _returned_rows(config, line, returned, return_delay)
    rows = np.concatenate([np.arange(n), returned])
    is_return = np.concatenate([np.zeros(n, np.int8), np.ones(returned.size, np.int8)])
    sign = np.where(is_return == 1, -1, 1)
    order_id = pc.binary_join_element_wise(
        "ORD", pc.utf8_lpad(pa.array(line["order_number"][rows]).cast(pa.string()), 9, "0"), ""
    )
    line_id = pc.binary_join_element_wise(
        order_id,
        pa.array(["-", "-R"]).take(is_return),
        pa.array(line["line_number"][rows]).cast(pa.string()),
        "",
    )
    return pa.table(
        {
            "line_id": line_id,
            "order_id": order_id,
            "customer_id": pa.array(customer_ids, pa.string()).take(line["customer_index"][rows]),
            "product_id": pa.array(products["product_id"]).take(line["product_index"][rows]),
            "ordered_at": pa.array(
                np.concatenate([line["ordered_at"], return_at]), pa.timestamp("s")
            ),
            "quantity": pa.array((line["quantity"][rows] * sign).astype(np.int32)),
            "unit_price": _decimal(line["unit_price"][rows], 2),
            "discount_amount": _decimal(line["discount_amount"][rows] * sign, 2),
            "channel": pa.array(CHANNELS).take(line["channel_index"][rows]),
            "branch_id": line["branch_id"].take(rows),
            "line_type": pa.array(["sale", "return"]).take(is_return),
        }
    )


def _lines_table(config, line, returned, return_delay, customer_ids) -> pa.Table:
    n = line["order_id"].size
    end = np.datetime64(config.end_date, "s") + np.timedelta64(86399, "s")
    return_at = line["ordered_at"][returned] + (return_delay * 86400).astype("timedelta64[s]")
    keep = return_at <= end
    returned, return_at = returned[keep], return_at[keep]

    def both(values, returned_values):
        return np.concatenate([values, returned_values])

    line_ids = both(
        np.char.add(
            np.char.add(line["order_id"].astype(str), "-"), line["line_number"].astype(str)
        ),
        np.char.add(
            np.char.add(line["order_id"][returned].astype(str), "-R"),
            line["line_number"][returned].astype(str),
        ),
    )
    timestamps = both(line["ordered_at"], return_at)
    return pa.table(
        {
            "line_id": line_ids,
            "order_id": both(line["order_id"], line["order_id"][returned]),
            "customer_id": customer_ids[
                both(line["customer_index"], line["customer_index"][returned])
            ],
            "product_id": both(line["product_id"], line["product_id"][returned]),
            "ordered_at": np.datetime_as_string(timestamps, unit="s"),
            "quantity": both(line["quantity"], -line["quantity"][returned]).astype(str),
            "unit_price": _money(both(line["unit_price"], line["unit_price"][returned])),
            "discount_amount": _money(
                both(line["discount_amount"], -line["discount_amount"][returned])
            ),
            "channel": both(line["channel"], line["channel"][returned]),
            "branch_id": pa.array(
                both(line["branch_id"], line["branch_id"][returned]), pa.string()
            ),
            "line_type": np.concatenate([np.full(n, "sale"), np.full(returned.size, "return")]),
        }
    )


def _money(values: np.ndarray) -> np.ndarray:
    return np.char.mod("%.2f", np.round(values, 2))


def _coupons(config, traits, branches, customer_ids, rng) -> dict[str, np.ndarray]:
    window = (config.end_date - config.start_date).days + 1
    exposure_years = (window - traits.join_day) / 365.25
    claims = rng.poisson(traits.discount_affinity * exposure_years * 5 * traits.ever_buys)
    owner = np.repeat(np.arange(customer_ids.size), claims)
    join = traits.join_day[owner]
    claimed = join + np.floor(rng.random(owner.size) * (window - join)).astype(int)
    burn_p = 0.25 + 0.6 * traits.discount_affinity[owner]
    burn_delay = np.ceil(rng.exponential(6.0, owner.size)).astype(int)
    burnt = (rng.random(owner.size) < burn_p) & (claimed + burn_delay < window)
    branch = _pick_branch(branches, traits.city_index[owner], rng.random(owner.size))
    start = np.datetime64(config.start_date)
    burn_date = (start + (claimed + burn_delay).astype("timedelta64[D]")).astype(str)
    return {
        "coupon_txn_id": _ids("CPN", 1, owner.size, 8),
        "customer_id": customer_ids[owner],
        "coupon_name": np.array(COUPON_NAMES)[rng.integers(0, len(COUPON_NAMES), owner.size)],
        "claimed_date": (start + claimed.astype("timedelta64[D]")).astype(str),
        "status": np.where(burnt, "burnt", "claimed"),
        "burn_date": np.where(burnt, burn_date, None),
        "branch_id": branch,
    }


# --- dirty rows and output -------------------------------------------------------


def _dirty_transactions(lines: pa.Table) -> pa.Table:
    """A handful of realistic bad rows so the cleaning path is exercised."""
    rows = lines.slice(0, 7).to_pylist()
    duplicate = dict(rows[0])
    negative = {**rows[1], "line_id": rows[1]["line_id"] + "-X", "quantity": "-2"}
    unknown = {
        **rows[2],
        "line_id": "ORD-UNKNOWN-1",
        "order_id": "ORD-UNKNOWN",
        "customer_id": "CUS9999999",
    }
    bad_date = {
        **rows[3],
        "line_id": "ORD-BADDATE-1",
        "order_id": "ORD-BADDATE",
        "ordered_at": "2025-13-45 10:00:00",
    }
    future = {
        **rows[4],
        "line_id": "ORD-FUTURE-1",
        "order_id": "ORD-FUTURE",
        "ordered_at": "2099-01-01 12:00:00",
    }
    zero_price = {**rows[5], "line_id": "ORD-ZERO-1", "order_id": "ORD-ZERO", "unit_price": "0.00"}
    text_amount = {
        **rows[6],
        "line_id": "ORD-TEXT-1",
        "order_id": "ORD-TEXT",
        "unit_price": "twelve hundred",
    }
    dirty = pa.Table.from_pylist(
        [duplicate, negative, unknown, bad_date, future, zero_price, text_amount],
        schema=lines.schema,
    )
    return pa.concat_tables([lines, dirty])


# Parquet carries real types, as users' Parquet files do; CSV stays text.
_MONEY = pa.decimal128(18, 2)
PARQUET_TYPES = {
    "quantity": pa.int32(),
    "num_kids": pa.int32(),
    "unit_price": _MONEY,
    "discount_amount": _MONEY,
    "list_price": _MONEY,
    "unit_cost": _MONEY,
    "min_spend": _MONEY,
    "discount_pct": pa.decimal128(5, 2),
    "ordered_at": pa.timestamp("s"),
    "birth_date": pa.date32(),
    "join_date": pa.date32(),
    "claimed_date": pa.date32(),
    "burn_date": pa.date32(),
    "event_date": pa.date32(),
    "valid_from": pa.date32(),
    "valid_to": pa.date32(),
    "sms_opt_in": pa.bool_(),
    "email_opt_in": pa.bool_(),
    "opted_out": pa.bool_(),
    "is_active": pa.bool_(),
}


def _typed(table: pa.Table) -> pa.Table:
    """Cast the text columns that have a natural type (see PARQUET_TYPES)."""
    return table.cast(
        pa.schema([pa.field(f.name, PARQUET_TYPES.get(f.name, f.type)) for f in table.schema])
    )


def _write(table: pa.Table, path: Path, fmt: str, typed: bool) -> None:
    if fmt == "parquet":
        table = _typed(table) if typed else table
        pq.write_table(table, path.with_suffix(".parquet"), compression="zstd")
    else:
        options = pa_csv.WriteOptions(quoting_style="needed")
        pa_csv.write_csv(table, path.with_suffix(".csv"), write_options=options)


def _as_table(columns: dict) -> pa.Table:
    """Every column as text, blank as null."""
    return pa.table({name: _text_array(values) for name, values in columns.items()})


def _text_array(values) -> pa.Array:
    """`values` (strings or None) as a string array with "" as null, without a Python loop."""
    import pyarrow.compute as pc

    try:
        array = pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers: format each as str() does
        return pa.array([None if v in (None, "") else str(v) for v in values], pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


# What the transaction blocks share; set before worker processes fork.
_BLOCK_STATE: dict = {}


def _block_rows(block: int) -> slice:
    config = _BLOCK_STATE["config"]
    size = config.block_customers
    return slice(block * size, min((block + 1) * size, config.customers))


def _block_orders(block: int) -> int:
    """Orders in `block`: the first draws of its generator, as _transactions_block makes them."""
    state = _BLOCK_STATE
    config = state["config"]
    window = (config.end_date - config.start_date).days + 1
    rng = np.random.default_rng(state["block_seeds"][block])
    owners, _ = _simulate_orders(
        state["traits"], _block_rows(block), window, state["cumulative"], rng
    )
    return int(owners.size)


def _block_table(task: tuple[int, int]) -> pa.Table:
    """The transactions of one block of customers, its order ids starting after `offset`."""
    block, offset = task
    state = _BLOCK_STATE
    config, products = state["config"], state["products"]
    rng = np.random.default_rng(state["block_seeds"][block])
    line, returned, delay, _ = _transactions_block(
        config,
        state["traits"],
        products,
        state["branches"],
        _block_rows(block),
        state["cumulative"],
        rng,
        offset,
    )
    if state["typed"]:
        return _typed_lines_table(config, line, returned, delay, state["customer_ids"], products)
    return _lines_table(config, _text_line(line, products), returned, delay, state["customer_ids"])


class _InlinePool:
    """map/imap in this process: one worker needs no pool."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    map = staticmethod(map)
    imap = staticmethod(map)


def _block_pool(workers: int, n_blocks: int):
    """A fork pool (workers inherit _BLOCK_STATE without pickling), or in-process."""
    workers = max(1, min(workers, n_blocks))
    if workers == 1:
        return _InlinePool()
    import multiprocessing

    return multiprocessing.get_context("fork").Pool(workers)


def generate(
    config: GeneratorConfig,
    out_dir: Path,
    fmt: str = "csv",
    prefix: str = "",
    workers: int = 1,
) -> dict[str, int]:
    """Write every raw table to `out_dir` as <prefix><table>.<fmt>; returns rows per table.

    `workers` processes simulate blocks of customers in parallel; the bytes written
    do not depend on it.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(config.seed).spawn(4)
    reference_rng = np.random.default_rng(seeds[0])
    customer_rng = np.random.default_rng(seeds[1])
    coupon_rng = np.random.default_rng(seeds[2])

    products = _products(reference_rng)
    branches = _branches(reference_rng)
    customers, traits = _customers(config, customer_rng)
    customer_ids = customers["customer_id"]

    window = (config.end_date - config.start_date).days + 1
    intensity = seasonal_intensity(config.start_date, config.end_date)
    cumulative = np.concatenate([[0.0], np.cumsum(intensity)])

    counts: dict[str, int] = {}
    lines_path = out_dir / f"{prefix}transactions"
    n_blocks = (config.customers + config.block_customers - 1) // config.block_customers
    # Dirty rows cannot be typed: with them, Parquet stays text like a messy export.
    typed = fmt == "parquet" and not config.dirty_rows
    _BLOCK_STATE.update(
        config=config,
        traits=traits,
        products=products,
        branches=branches,
        cumulative=cumulative[: window + 1],
        block_seeds=seeds[3].spawn(n_blocks),
        customer_ids=customer_ids,
        typed=typed,
    )
    writer = None
    n_lines = 0
    try:
        with _block_pool(workers, n_blocks) as pool:
            # Blocks are independent but order ids run on across them: count each
            # block's orders first, then build every block from its own offset.
            orders = list(pool.map(_block_orders, range(n_blocks)))
            offsets = np.concatenate([[0], np.cumsum(orders)[:-1]]).tolist()
            for block, table in enumerate(
                pool.imap(_block_table, zip(range(n_blocks), offsets, strict=True))
            ):
                if config.dirty_rows and block == 0 and table.num_rows >= 7:
                    table = _dirty_transactions(table)
                n_lines += table.num_rows
                # One row group per block, written in block order: the same bytes for
                # any number of workers.
                writer = _append(writer, table, lines_path, fmt, typed=False)
    finally:
        _BLOCK_STATE.clear()
    if writer is not None:
        writer.close()
    counts["transactions"] = n_lines

    customer_table = _as_table(customers)
    if config.dirty_rows and config.customers > 1:
        customer_table = pa.concat_tables([customer_table, customer_table.slice(0, 1)])
    tables = {
        "customers": customer_table,
        "products": _as_table(products),
        "cities": _as_table(
            {
                "city_id": [c[0] for c in CITIES],
                "city_name": [c[1] for c in CITIES],
                "country": [c[2] for c in CITIES],
                "timezone": [c[3] for c in CITIES],
            }
        ),
        "merchants": _as_table(
            {
                "merchant_id": [m[0] for m in MERCHANTS],
                "merchant_name": [m[1] for m in MERCHANTS],
                "merchant_category": [m[2] for m in MERCHANTS],
            }
        ),
        "branches": _as_table(branches),
        "coupons": _as_table(_coupons(config, traits, branches, customer_ids, coupon_rng)),
        "events": _as_table(_events(config.start_date, config.end_date + dt.timedelta(days=365))),
        "offers": _as_table(_offers(config.end_date)),
    }
    for name, table in tables.items():
        _write(table, out_dir / f"{prefix}{name}", fmt, typed=not config.dirty_rows)
        counts[name] = table.num_rows
    return counts


class _CsvAppender:
    """pyarrow's CSV writer with the same close() as ParquetWriter."""

    def __init__(self, path: Path, schema: pa.Schema):
        options = pa_csv.WriteOptions(quoting_style="needed")
        self._writer = pa_csv.CSVWriter(path, schema, write_options=options)

    def write_table(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def _append(writer, table: pa.Table, path: Path, fmt: str, typed: bool):
    if fmt == "parquet" and typed:
        table = _typed(table)
    if writer is None:
        if fmt == "parquet":
            writer = pq.ParquetWriter(
                path.with_suffix(".parquet"), table.schema, compression="zstd"
            )
        else:
            writer = _CsvAppender(path.with_suffix(".csv"), table.schema)
    writer.write_table(table)
    return writer


__all__ = ["OCCASIONS", "GeneratorConfig", "generate", "seasonal_intensity"]
