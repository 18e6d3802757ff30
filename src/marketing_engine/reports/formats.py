"""How a value is shown: money with the configured currency, shares as %, dates.

Currency code, symbol and locale are what the build recorded in
marts.rpt_report_settings (dbt vars report_currency, report_currency_symbol,
report_locale, so `--vars` at build time reach the site); date and month formats
come from the `reports` dbt var in dbt_project.yml, read when the site renders. The same
settings go to the browser, whose tables and charts format with
`Intl.NumberFormat(locale, ...)`; the sentence and tile formats here group
digits the same way (Indian lakh grouping for `*-IN` locales, `.`/`,` swapped
for the continental locales listed in `COMMA_DECIMAL`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

COMMA_DECIMAL = {"de", "es", "it", "nl", "pt", "id", "tr", "da", "el", "ro", "hr", "sl"}


@dataclass(frozen=True)
class FormatConfig:
    """Display settings for every page (currency from the build, formats from `reports`)."""

    currency: str = "INR"
    currency_symbol: str = "₹"
    locale: str = "en-IN"
    date_format: str = "%Y-%m-%d"
    month_format: str = "%Y-%m"
    pct_digits: int = 1

    def to_json(self) -> dict:
        return asdict(self)


SETTINGS_KEYS = {"currency", "currency_symbol", "locale", "date_format", "month_format"}
_active = FormatConfig()


def active() -> FormatConfig:
    """The settings the formats below use (the last site rendered, else the defaults)."""
    return _active


def activate(config: FormatConfig) -> None:
    global _active
    _active = config


# The build's settings: dbt var -> column of marts.rpt_report_settings -> FormatConfig field.
BUILD_SETTINGS = {
    "report_currency": ("currency_code", "currency"),
    "report_currency_symbol": ("currency_symbol", "currency_symbol"),
    "report_locale": ("locale", "locale"),
}
_MOVED = {field: var for var, (_, field) in BUILD_SETTINGS.items()}


def load_config(project: Path) -> tuple[FormatConfig, dict]:
    """FormatConfig and the other report settings from dbt_project.yml.

    Date and month formats, caps, page weight and as-of come from `vars.reports`;
    currency, symbol and locale from the top-level vars report_currency,
    report_currency_symbol and report_locale (the defaults the build records;
    `from_build` replaces them with what the build actually used). A missing
    file or var gives the defaults; an unknown key or a wrong type is an error
    naming the file and the key.
    """
    from marketing_engine.reports.parse import ReportError

    path = project / "dbt_project.yml"
    settings: dict = {}
    top: dict = {}
    if path.exists():
        loaded = yaml.safe_load(path.read_text()) or {}
        top = dict(loaded.get("vars") or {})
        settings = dict(top.get("reports") or {})
    config = FormatConfig()
    moved = sorted(set(settings) & set(_MOVED))
    if moved:
        raise ReportError(
            f"{path}: vars.reports.{moved[0]} is no longer read: set the top-level var "
            f"{_MOVED[moved[0]]} instead (the build records it in marts.rpt_report_settings, "
            "so --vars at build time reach the site)"
        )
    known = {f for f in FormatConfig.__dataclass_fields__} - set(_MOVED)
    extra = {"as_of", "page_weight_limit_mb", "table_cap", "scatter_cap", "built_at"}
    unknown = sorted(set(settings) - known - extra)
    if unknown:
        raise ReportError(
            f"{path}: vars.reports has unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known | extra))}"
        )
    values = {k: settings[k] for k in known if k in settings}
    values.update({field: top[var] for var, (_, field) in BUILD_SETTINGS.items() if var in top})
    for key, value in values.items():
        wanted = type(getattr(config, key))
        if not isinstance(value, wanted):
            where = f"vars.{_MOVED[key]}" if key in _MOVED else f"vars.reports.{key}"
            raise ReportError(f"{path}: {where} is {value!r}; it must be a {wanted.__name__}")
    return replace(config, **values), {k: settings[k] for k in extra if k in settings}


def from_build(config: FormatConfig, recorded: pd.DataFrame | None) -> FormatConfig:
    """`config` with the currency, symbol and locale the build recorded.

    `recorded` is marts.rpt_report_settings (one row); None (a warehouse built
    before that mart existed) keeps `config`, the project's defaults.
    """
    from marketing_engine.reports.parse import ReportError

    if recorded is None:
        return config
    if len(recorded) != 1:
        raise ReportError(
            f"marts.rpt_report_settings has {len(recorded)} rows, not 1: rebuild the warehouse"
        )
    row = recorded.iloc[0]
    values: dict[str, Any] = {}
    for var, (column, field) in BUILD_SETTINGS.items():
        value = row.get(column)
        if _missing(value) or not str(value).strip():
            raise ReportError(
                f"marts.rpt_report_settings.{column} is empty: set the var {var} and rebuild"
            )
        values[field] = str(value)
    return replace(config, **values)


# --- the formats ---------------------------------------------------------------------


def _missing(value) -> bool:
    """None or NaN: shown as "-" in tables, values and takeaways."""
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))


def _separators(locale: str) -> tuple[str, str]:
    """(thousands, decimal) separators of a locale."""
    language = locale.split("-")[0].lower()
    if language in COMMA_DECIMAL:
        return ".", ","
    return ",", "."


def group_digits(value: float, digits: int, config: FormatConfig | None = None) -> str:
    """A number with the locale's digit grouping (12,34,567.8 for en-IN)."""
    config = config or _active
    text = f"{abs(float(value)):.{digits}f}"
    whole, _, fraction = text.partition(".")
    thousands, decimal = _separators(config.locale)
    if config.locale.upper().endswith("-IN") and len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        pairs: list[str] = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        whole = thousands.join([head, *pairs, tail]) if head else thousands.join([*pairs, tail])
    else:
        whole = f"{int(whole):,}".replace(",", thousands)
    sign = "-" if float(value) < 0 and float(text) != 0 else ""
    return sign + whole + (decimal + fraction if fraction else "")


def fmt_number(value, digits: int = 0) -> str:
    if _missing(value):
        return "-"
    return group_digits(value, digits)


def fmt_money(value) -> str:
    """Compact money with the currency symbol: ₹5.30M, ₹12.40K, ₹950."""
    if _missing(value):
        return "-"
    value = float(value)
    sign, value = ("-" if value < 0 else ""), abs(value)
    symbol = _active.currency_symbol
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= size:
            return f"{sign}{symbol}{group_digits(value / size, 2)}{suffix}"
    return f"{sign}{symbol}{group_digits(value, 0)}"


def fmt_pct(value, digits: int | None = None) -> str:
    if _missing(value):
        return "-"
    digits = _active.pct_digits if digits is None else digits
    return f"{group_digits(100 * float(value), digits)}%"


def fmt_ratio(value, digits: int = 2) -> str:
    """A ratio such as a lift: 2.99, never rounded to a whole number."""
    return fmt_number(value, digits)


def fmt_p(value, digits: int = 3) -> str:
    """A p-value: "<0.001" below the smallest step shown, never a bare 0 or 1.00."""
    if _missing(value):
        return "-"
    value = float(value)
    smallest = 10.0**-digits
    if value < smallest:
        return f"<{smallest:.{digits}f}"
    if value > 1 - smallest:
        return f">{1 - smallest:.{digits}f}"
    return f"{value:.{digits}f}"


def _as_date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def fmt_date(value) -> str:
    """A date in the configured format (ISO by default)."""
    if _missing(value):
        return "-"
    day = _as_date(value)
    return day.strftime(_active.date_format) if day else str(value)[:10]


def fmt_datetime(value) -> str:
    """A timestamp as its date (configured format) and HH:MM."""
    if _missing(value):
        return "-"
    text = str(value).replace("T", " ")
    return f"{fmt_date(text[:10])} {text[11:16]}".strip()


def fmt_month(value) -> str:
    """A month in the configured format (YYYY-MM by default)."""
    if _missing(value):
        return "-"
    day = _as_date(value)
    return day.strftime(_active.month_format) if day else str(value)[:7]


def fmt_text(value) -> str:
    if _missing(value):
        return "-"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def fmt_bool(value) -> str:
    """Yes / No, never a raw True/False."""
    return "-" if _missing(value) else ("Yes" if value else "No")


FORMATS: dict[str | None, Callable[..., str]] = {
    "money": fmt_money,
    "pct": fmt_pct,
    "number": fmt_number,
    "ratio": fmt_ratio,
    "p": fmt_p,
    "date": fmt_date,
    "datetime": fmt_datetime,
    "month": fmt_month,
    "bool": fmt_bool,
    "text": fmt_text,
    None: fmt_text,
}
FORMAT_NAMES = sorted(f for f in FORMATS if f)
