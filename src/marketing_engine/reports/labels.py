"""Human column labels and formats from the model docs.

Every mart column is documented in a `_<area>__models.yml`. A column's
`meta: {label: ..., format: ...}` names its header and format; without them the
label is the column name in words with known abbreviations written out (AOV,
CLV, RFM, ID, ...) and the description becomes the header's tooltip. A
component's own `labels="col:Label"` and `formats="col:fmt"` win over both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

# libyaml's safe loader when PyYAML has it: the models' YAML is about 1 MB and the
# pure-Python parser took seconds of a 1M-customer site build.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ABBREVIATIONS = {
    "aov": "AOV",
    "clv": "CLV",
    "rfm": "RFM",
    "id": "ID",
    "ids": "IDs",
    "sms": "SMS",
    "roi": "ROI",
    "mae": "MAE",
    "mape": "MAPE",
    "ab": "A/B",
    "ci": "CI",
    "kpi": "KPI",
    "p": "p",
    "12m": "12 months",
    "pct": "%",
    "gsm": "GSM",
    "llm": "LLM",
    "n": "Number of",
    "utc": "UTC",
    "yoy": "YoY",
    "mom": "MoM",
    "mde": "MDE",
    "srm": "SRM",
    "cuped": "CUPED",
    "rmse": "RMSE",
}
SHARE_WORDS = re.compile(r"(share|rate|probability|_pct|percent|conversion)$")
MONEY_WORDS = re.compile(
    r"(revenue|monetary|aov|clv|amount|price|spend|value_inr|_value|incremental_revenue|"
    r"uplift_ci_lower|uplift_ci_upper|clv_12_months|historical_clv|discount)"
)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    format: str
    description: str
    numeric: bool
    wide: bool = False


def humanize(name: str) -> str:
    """`aov_by_segment` -> `AOV by segment`, `ab_winner` -> `A/B winner`."""
    words = [ABBREVIATIONS.get(word, word) for word in name.split("_") if word]
    if not words:
        return name
    first = words[0]
    words[0] = first if first != first.lower() else first[:1].upper() + first[1:]
    return " ".join(words)


def load_docs(project: Path) -> dict[str, dict[str, dict]]:
    """{model: {column: {"description", "label", "format"}}} from the models' YAML."""
    docs: dict[str, dict[str, dict]] = {}
    for folder in ("models", "python_models"):
        for path in sorted((project / folder).rglob("*.yml")):
            try:
                loaded = yaml.load(path.read_text(), Loader=YAML_LOADER) or {}
            except yaml.YAMLError:
                continue  # dbt reports a broken YAML file itself
            for model in loaded.get("models") or []:
                if not isinstance(model, dict) or "name" not in model:
                    continue
                columns = docs.setdefault(model["name"], {})
                for column in model.get("columns") or []:
                    if not isinstance(column, dict) or "name" not in column:
                        continue
                    meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
                    columns[column["name"]] = {
                        "description": " ".join(str(column.get("description", "")).split()),
                        "label": meta.get("label"),
                        "format": meta.get("format"),
                    }
    return docs


# The models' `meta: {format: ...}` words and the report format each one means.
DOC_FORMATS = {"share": "pct", "count": "number", "percent": "pct"}
SHOWN_FORMATS = {
    "money",
    "pct",
    "number",
    "ratio",
    "p",
    "date",
    "datetime",
    "month",
    "bool",
    "text",
}


def infer_format(name: str, series: pd.Series) -> str:
    """Format from the column's type and name: Yes/No, dates, %, money, numbers, text."""
    kind = str(series.dtype)
    if kind in ("bool", "boolean"):
        return "bool"
    if "datetime" in kind or "date" in kind:
        if name.endswith("month") or name.startswith("month"):
            return "month"
        times = pd.to_datetime(series.dropna())
        has_time = len(times) and (times.dt.normalize() != times).any()
        return "datetime" if has_time else "date"
    values = series.dropna()
    if len(values) and isinstance(values.iloc[0], bool):
        return "bool"
    if not pd.api.types.is_numeric_dtype(series):
        if len(values) and hasattr(values.iloc[0], "isoformat"):
            return "month" if "month" in name else "date"
        return "text"
    if name.endswith("_id") or name in ("k", "n_clusters", "horizon_months", "cluster_id"):
        return "number"
    numeric = pd.to_numeric(values, errors="coerce").dropna()
    if SHARE_WORDS.search(name) and (numeric.empty or numeric.between(0, 1).all()):
        return "pct"
    if name.startswith("p_value"):
        return "p"
    if MONEY_WORDS.search(name) and not SHARE_WORDS.search(name):
        return "money_full"
    if pd.api.types.is_integer_dtype(series):
        return "number"
    whole = numeric.empty or (numeric == numeric.round()).all()
    return "number" if whole else "number2"


def _longest(series: pd.Series) -> int:
    sample = series.dropna().head(500).astype(str)
    return int(sample.str.len().max()) if len(sample) else 0


def describe(
    frame: pd.DataFrame,
    mart: str | None,
    docs: dict[str, dict[str, dict]],
    labels: dict[str, str],
    formats: dict[str, str],
) -> list[Column]:
    """Label, format and tooltip of every column of a query result."""
    columns = []
    for name in frame.columns:
        doc = (docs.get(mart or "") or {}).get(name) or {}
        if not doc:  # an alias: the first model documenting a column of that name
            doc = next((cols[name] for cols in docs.values() if name in cols), {})
        documented = DOC_FORMATS.get(doc.get("format") or "", doc.get("format"))
        if documented not in SHOWN_FORMATS:
            documented = None  # a meta format for another tool (csv, sql): infer instead
        fmt = formats.get(name) or documented or infer_format(name, frame[name])
        if fmt == "money":
            fmt = "money_full"  # tables and tooltips show the whole amount
        if fmt == "number" and infer_format(name, frame[name]) == "number2":
            fmt = "number2"  # a mean such as orders per customer keeps its decimals
        columns.append(
            Column(
                name=name,
                label=labels.get(name) or doc.get("label") or humanize(name),
                format=fmt,
                description=doc.get("description") or "",
                numeric=fmt not in ("text", "date", "datetime", "month", "bool"),
                wide=fmt == "text" and _longest(frame[name]) > 40,
            )
        )
    return columns
