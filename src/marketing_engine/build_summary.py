"""The end-of-build summary, in words a marketing analyst understands.

Read from the build warehouse and dbt's artifacts after `dbt build`: rows read,
kept and quarantined per raw table with the top reasons, data-quality flags,
every degraded result (fallbacks, simulations, non-converged fits), and one
sentence per failing or warning test naming the file or column and the fix.
Printed on every build and written as JSON for tests and reports.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

DEFAULT_OLLAMA_HOST = "http://localhost:11434"
# Raw table name (var raw_tables) -> the entity of its base_/stg_shop__ models.
ENTITY_OF = {"transactions": "order_lines"}
TOP_REASONS = 3
TOP_FLAGS = 5
RAW_SEED_PREFIX = "raw_"
QUOTED = re.compile(r"'[^']*'")
# The quarantine reason of a row dated on or after a chosen as_of_date (future_reason).
AFTER_AS_OF = " on or after as_of_date "


@dataclass
class TableCounts:
    table: str
    read: int
    kept: int
    quarantined: int
    top_reasons: list[dict] = field(default_factory=list)
    other_reasons: int = 0  # distinct reasons beyond top_reasons
    # Of `quarantined`, rows dated on or after a chosen as_of_date: out of the build's
    # scope by design, so not counted in the quarantine share.
    after_as_of_date: int = 0


@dataclass
class TestExplanation:
    status: str  # fail, warn or error
    node: str
    sentence: str


@dataclass
class BuildSummary:
    outcome: str
    selector: str | None
    tables: list[TableCounts] = field(default_factory=list)
    data_quality: list[dict] | None = None
    data_quality_table: str | None = None
    degraded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tests: list[TestExplanation] = field(default_factory=list)
    skipped: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


# --- test explanations -----------------------------------------------------------------


def _ref_name(text: str) -> str:
    """ref('dim_customers') or {{ get_where_subquery(ref('x')) }} -> the model name."""
    found = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]", text or "")
    return found.group(1) if found else str(text)


def _rows(count: int | None, noun: str = "row") -> str:
    if count is None:
        return f"some {noun}s"
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _verb(count: int | None, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def _files(tables: list[str]) -> str:
    if not tables:
        return "the raw files"
    names = [f"the {table} file" for table in tables]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def raw_tables_upstream(manifest: dict, unique_id: str, column: str | None, raw_columns: dict):
    """Raw tables (raw_<name> seeds) feeding node `unique_id`; those with `column` if any."""
    parents = {
        uid: node.get("depends_on", {}).get("nodes", [])
        for uid, node in {**manifest.get("nodes", {}), **manifest.get("sources", {})}.items()
    }
    seen, stack, found = set(), [unique_id], []
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if current.startswith("seed.") and current.split(".")[-1].startswith(RAW_SEED_PREFIX):
            found.append(current.split(".")[-1].removeprefix(RAW_SEED_PREFIX))
        stack.extend(parents.get(current, []))
    found = sorted(set(found))
    with_column = [t for t in found if column and column in raw_columns.get(t, {})]
    return with_column or (found if len(found) <= 2 else [])


def explain_test(
    node: dict,
    failures: int | None,
    message: str = "",
    manifest: dict | None = None,
    raw_columns: dict | None = None,
    shares: dict | None = None,
    var_values: dict | None = None,
) -> str:
    """One sentence for a failing or warning dbt test: what is wrong, where, and the fix.

    `node` is the test's manifest entry; `failures` the count dbt reported.
    A test's own `meta: {explain: ...}` wins (placeholders {failures}, {model},
    {column}); generic tests get a generated sentence.
    """
    meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
    metadata = node.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    model = _ref_name(kwargs.get("model", "")) if kwargs.get("model") else None
    if not model and node.get("attached_node"):
        model = node["attached_node"].split(".")[-1]
    if not model:
        parents = (node.get("depends_on") or {}).get("nodes") or []
        model = parents[0].split(".")[-1] if parents else node.get("name", "?")
    column = node.get("column_name") or kwargs.get("column_name")
    target = f"{model}.{column}" if column else model
    upstream = []
    if manifest is not None:
        start = node.get("attached_node") or node.get("unique_id", "")
        upstream = raw_tables_upstream(manifest, start, column, raw_columns or {})
    files = _files(upstream)
    if meta.get("explain"):
        text = str(meta["explain"]).strip()
        values = {"failures": failures if failures is not None else "some", "model": model}
        values["column"] = column or ""
        with contextlib.suppress(KeyError, IndexError, ValueError):
            text = text.format(**values)
        return f"{target}: {text}"
    name = metadata.get("name")
    if name == "not_null":
        return (
            f"{target}: {_rows(failures)} {_verb(failures, 'has', 'have')} no {column} "
            f"(not_null test). Fix: fill "
            f"{column} in {files}, or find where upstream of {model} it is lost."
        )
    if name == "unique":
        return (
            f"{target}: {_rows(failures, 'value')} of {column} "
            f"{_verb(failures, 'appears', 'appear')} more than once "
            f"(unique test). Fix: remove the duplicate {column} values in {files}."
        )
    if name == "accepted_values":
        yaml_file = node.get("original_file_path") or "the model's YAML"
        allowed = ", ".join(str(v) for v in kwargs.get("values", []))
        return (
            f"{target}: {_rows(failures, 'distinct value')} of {column} outside the allowed "
            f"list ({allowed}) (accepted_values test). Fix: map them to an allowed value "
            f"in {files}, or add them to the list in {yaml_file} if they are valid."
        )
    if name in ("relationships", "relationships_if_present"):
        parent = _ref_name(kwargs.get("to", ""))
        field_name = kwargs.get("field", column)
        return (
            f"{target}: {_rows(failures)} {_verb(failures, 'has', 'have')} a {column} "
            f"with no matching {field_name} in "
            f"{parent} ({name} test). Fix: add the missing rows to the file behind {parent}, "
            f"or correct {column} in {files}."
        )
    if name == "unique_combination_of_columns":
        columns = ", ".join(kwargs.get("combination_of_columns", []))
        return (
            f"{target}: {_rows(failures, 'combination')} of ({columns}) "
            f"{_verb(failures, 'appears', 'appear')} more than once "
            f"(unique_combination_of_columns test). Fix: remove the duplicates in {files}."
        )
    if name == "expression_is_true":
        return (
            f"{target}: {_rows(failures)} {_verb(failures, 'breaks', 'break')} "
            f"the rule `{kwargs.get('expression')}` "
            f"(expression_is_true test). Fix: check those rows' values in {files}."
        )
    if name == "quarantine_share_below":
        table = kwargs.get("source_table", "?")
        blocking = (node.get("config") or {}).get("severity", "error").lower() == "error"
        var = "quarantine_error_share" if blocking else "quarantine_warn_share"
        threshold = resolved_var(kwargs.get("threshold"), var_values or {})
        share = _share_text(table, threshold, shares or {}, var)
        sentence = (
            f"the {table} file: {share} (quarantine_share_below test). Fix: read the "
            f"reasons in stg_shop__quarantined_rows (source_table = '{table}') and correct "
            "the file"
        )
        if blocking:
            return (
                f"{sentence}; a build that loses that much is not published. To publish it "
                f"anyway, lift the limit: marketing-engine build --vars '{{{var}: 1}}'."
            )
        return sentence + "."
    where = node.get("original_file_path") or node.get("name", "?")
    detail = f" ({message.strip()})" if message else ""
    return (
        f"{target}: the check in {where} returned {_rows(failures)}{detail}. Fix: read "
        "that file's comment for the rule and correct the rows it returns."
    )


# A test argument as the manifest stores it, unrendered: "{{ var('quarantine_warn_share') }}".
VAR_ARGUMENT = re.compile(r"""^\{\{\s*var\(\s*['"](\w+)['"]\s*\)\s*\}\}$""")


def resolved_var(argument, var_values: dict):
    """`argument` with a lone {{ var('name') }} replaced by that var's value in the run."""
    match = VAR_ARGUMENT.match(argument.strip()) if isinstance(argument, str) else None
    if match and match.group(1) in var_values:
        return var_values[match.group(1)]
    return argument


def run_var_values(project: Path, run_results: dict | None) -> dict:
    """The vars of a dbt run: dbt_project.yml's, overridden by the run's --vars."""
    import yaml

    try:
        config = yaml.safe_load((project / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    values = dict(config.get("vars") or {})
    given = ((run_results or {}).get("args") or {}).get("vars") or {}
    if isinstance(given, str):
        try:
            given = yaml.safe_load(given) or {}
        except yaml.YAMLError:
            given = {}
    if isinstance(given, dict):
        values.update(given)
    return values


def _share_text(table: str, threshold, shares: dict, var: str) -> str:
    """'43% of its rows (7 of 16) were quarantined, above the 25% that var <var> allows'."""
    try:
        limit = f"the {float(threshold):.0%} that var {var} allows"
    except (TypeError, ValueError):
        limit = f"what var {var} allows"
    if table not in shares:
        return f"a larger share of its rows was quarantined than {limit}"
    quarantined, read = shares[table]
    share = quarantined / read if read else 0.0
    return f"{share:.0%} of its rows ({quarantined:,} of {read:,}) were quarantined, above {limit}"


NOISE = ("Possible Solution", "LINE ", "> in macro", "> called by", "delimiter =", "^^^")
CSV_FILE = re.compile(r"^\s*file = (.+)$", re.MULTILINE)
CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


HEADING = re.compile(r"^[\w ]*Error in \w+ \S+( \(.*\))?$")


def error_sentence(message: str, drop_heading: bool = False) -> str:
    """dbt's error message in one line: the real cause, not only 'Runtime Error in model x'.

    DuckDB's CSV dialect dump and generic hints (set an encoding, ignore_errors) are left
    out; the file it names is kept. A non-UTF-8 file gets the one fix that works here.
    """
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    if drop_heading and len(lines) > 1 and HEADING.match(lines[0]):
        lines = lines[1:]  # 'Runtime Error in model x (path)': the caller names the node
    if not lines:
        return "no message"
    file_found = CSV_FILE.search(message or "")
    csv_file = file_found.group(1).strip() if file_found else None
    if "not utf-8 encoded" in message.lower():
        line_found = CSV_LINE.search(message)
        where = f" (line {line_found.group(1)})" if line_found else ""
        heading = "" if drop_heading else f"{lines[0]}: "
        return (
            f"{heading}{csv_file or 'a raw CSV file'}{where} is not UTF-8 encoded. Fix: "
            "raw CSV files must be UTF-8; re-save it as UTF-8 (e.g. `iconv -f latin1 -t "
            "utf-8 in.csv > out.csv`) and build again."
        )
    kept = []
    for line in lines:
        if line.startswith(NOISE):
            break
        kept.append(line)
    text = " ".join(kept or lines[:1])
    if csv_file and csv_file not in text:
        text += f" (file {csv_file})"
    return text


def explain_results(
    run_results: dict,
    manifest: dict,
    raw_columns: dict,
    shares: dict | None = None,
    var_values: dict | None = None,
) -> list[TestExplanation]:
    """A sentence for every failing, erroring or warning node of a dbt run.

    `shares` maps raw table -> (quarantined, read) for the quarantine-share warning;
    `var_values` the run's vars, for test arguments given as {{ var('name') }}.
    """
    nodes = manifest.get("nodes", {})
    explained = []
    for result in run_results.get("results", []):
        status = result.get("status")
        if status not in ("fail", "warn", "error", "runtime error"):
            continue
        unique_id = result.get("unique_id", "?")
        node = nodes.get(unique_id, {"name": unique_id.split(".")[-1], "unique_id": unique_id})
        message = (result.get("message") or "").strip()
        if node.get("resource_type") == "test" and status in ("fail", "warn"):
            sentence = explain_test(
                node, result.get("failures"), message, manifest, raw_columns, shares, var_values
            )
        else:
            kind = node.get("resource_type", "node")
            path = node.get("original_file_path", "")
            cause = error_sentence(message, drop_heading=True)
            sentence = f"{kind} {node.get('name')} ({path}) could not run: {cause}"
        explained.append(
            TestExplanation("error" if "error" in status else status, unique_id, sentence)
        )
    return explained


# --- warehouse figures -----------------------------------------------------------------


def _tables(con: duckdb.DuckDBPyConnection, fresh: set[str] | None) -> set[tuple[str, str]]:
    """Tables of the build file; with `fresh`, only those this dbt run built (not leftovers)."""
    return {
        (schema, name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        if fresh is None or name in fresh
    }


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def table_counts(
    con: duckdb.DuckDBPyConnection, raw_tables: list[str], fresh: set[str] | None = None
) -> list[TableCounts]:
    """Rows read (base model), kept (stg model) and quarantined per raw table."""
    present = _tables(con, fresh)
    quarantine = ("staging", "stg_shop__quarantined_rows") in present
    counts = []
    for table in raw_tables:
        entity = ENTITY_OF.get(table, table)
        base, stg = f"base_shop__{entity}", f"stg_shop__{entity}"
        if ("staging", base) not in present or ("staging", stg) not in present:
            continue
        read = con.execute(f'select count(*) from staging."{base}"').fetchone()[0]
        kept = con.execute(f'select count(*) from staging."{stg}"').fetchone()[0]
        quarantined, reasons = 0, []
        if quarantine:
            rows = con.execute(
                "select quarantine_reason from staging.stg_shop__quarantined_rows "
                "where source_table = ?",
                [table],
            ).fetchall()
            quarantined = len(rows)
            reasons = top_reasons([row[0] for row in rows])
            distinct = len(top_reasons([row[0] for row in rows], limit=None))
            after = sum(1 for (reason,) in rows if AFTER_AS_OF in (reason or ""))
        else:
            distinct, after = 0, 0
        counts.append(
            TableCounts(table, read, kept, quarantined, reasons, distinct - len(reasons), after)
        )
    return counts


def top_reasons(reasons: list[str | None], limit: int | None = TOP_REASONS) -> list[dict]:
    """Most common reasons, with quoted raw values folded so one cause counts once."""
    grouped: Counter = Counter()
    example: dict[str, str] = {}
    for reason in reasons:
        text = reason or "(no reason given)"
        pattern = QUOTED.sub("'…'", text)
        grouped[pattern] += 1
        example.setdefault(pattern, text)
    ranked = sorted(grouped.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"reason": example[p], "rows": n} for p, n in ranked]


TABLE_COLUMNS = ("source_table", "table_name", "raw_table", "table")
COLUMN_COLUMNS = ("column_name", "column", "field")
ISSUE_COLUMNS = ("issue", "dq_issue", "quality_issue", "reason", "check_name")


def data_quality_flags(
    con: duckdb.DuckDBPyConnection, fresh: set[str] | None = None
) -> tuple[str | None, list[dict] | None]:
    """Counts by table, column and issue from a *data_quality* table, if the build has one."""
    candidates = sorted(
        (schema != "marts", schema, name)
        for schema, name in _tables(con, fresh)
        if "data_quality" in name
    )
    if not candidates:
        return None, None
    _, schema, name = candidates[0]
    columns = _columns(con, schema, name)
    keys = [
        next((c for c in options if c in columns), None)
        for options in (TABLE_COLUMNS, COLUMN_COLUMNS, ISSUE_COLUMNS)
    ]
    keys = [k for k in keys if k]
    relation = f'"{schema}"."{name}"'
    if not keys:
        total = con.execute(f"select count(*) from {relation}").fetchone()[0]
        return f"{schema}.{name}", [{"rows": total}]
    select = ", ".join(f'cast("{k}" as varchar) as "{k}"' for k in keys)
    rows = con.execute(
        f"select {select}, count(*) as n from {relation} "
        f"group by all order by n desc, {', '.join(str(i + 1) for i in range(len(keys)))}"
    ).fetchall()
    return f"{schema}.{name}", [dict(zip([*keys, "rows"], row, strict=True)) for row in rows]


def degraded_results(
    con: duckdb.DuckDBPyConnection, ollama_host: str, fresh: set[str] | None = None
) -> tuple[list, list]:
    """Plain-word lines for every fallback, simulation and non-converged fit; plus notes."""
    present = _tables(con, fresh)
    degraded: list[str] = []
    notes: list[str] = []
    if ("marts", "clv_model_parameters") in present:
        for model, message in con.execute(
            "select model, message from marts.clv_model_parameters "
            "where not coalesce(is_converged, false) order by model"
        ).fetchall():
            label = {
                "bg_nbd": "BG/NBD purchase",
                "mbg_nbd": "MBG/NBD purchase",
                "pareto_nbd": "Pareto/NBD purchase",
                "gamma_gamma": "Gamma-Gamma spend",
            }.get(model, model)
            degraded.append(
                f"Customer lifetime value fell back to rules (recency/frequency/spend "
                f"heuristics), because the {label} model fit did not converge "
                f"({message or 'no message'}). Treat CLV and churn figures as rough."
            )
    if ("marts", "customer_lifetime_value") in present and not degraded:
        fallback = con.execute(
            "select count(*) from marts.customer_lifetime_value where model = 'rule_based'"
        ).fetchone()[0]
        if fallback:
            degraded.append(
                f"Customer lifetime value fell back to rules for {fallback:,} customers."
            )
    if ("marts", "marketing_messages") in present:
        degraded += _message_lines(con, ollama_host)
    if ("marts", "campaign_outcomes") in present:
        simulated = con.execute(
            "select count(*) from marts.campaign_outcomes where source = 'simulation'"
        ).fetchone()[0]
        if simulated:
            degraded.append(
                f"Campaign results are simulated ({simulated:,} simulated sends), because "
                "there is no campaign_sends file with rows. They are not real outcomes; add "
                "campaign_sends and campaign_responses files to measure real campaigns."
            )
    if ("marts", "clv_holdout_validation") in present:
        rows, converged = con.execute(
            "select count(*), bool_and(coalesce(is_converged, false)) "
            "from marts.clv_holdout_validation"
        ).fetchone()
        if not rows:
            degraded.append(
                "CLV holdout validation is empty: no customer bought in the calibration "
                "period, so the CLV model's accuracy could not be checked."
            )
        elif not converged:
            degraded.append(
                "CLV holdout validation comes from a customer-base model fit on the "
                "calibration period that did not converge (too few customers or repeat "
                "buyers); its predicted purchases are not a test of the model."
            )
    if ("marts", "clv_model_comparison") in present:
        lines, clv_notes = _clv_choice_lines(con)
        degraded += lines
        notes += clv_notes
    notes += _clv_sample_notes(con, present)
    if ("marts", "campaign_results") in present and "has_srm" in _columns(
        con, "marts", "campaign_results"
    ):
        degraded += _srm_lines(con)
    if ("marts", "cluster_evaluation") in present and "note" in _columns(
        con, "marts", "cluster_evaluation"
    ):
        for (note,) in con.execute(
            "select distinct note from marts.cluster_evaluation "
            "where note is not null order by note"
        ).fetchall():
            line = f"Clustering: {note}."
            (degraded if "one cluster" in note else notes).append(line)
    if ("marts", "cluster_assignments") in present and "cluster_id_origin" in _columns(
        con, "marts", "cluster_assignments"
    ):
        lines, cluster_notes = _cluster_lines(con)
        degraded += lines
        notes += cluster_notes
    return degraded, notes


def _clv_choice_lines(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """Which customer-base model the holdout chose (a note), or why none was (degraded)."""
    degraded, notes = [], []
    failed = con.execute(
        "select model_label, message from marts.clv_model_comparison "
        "where not is_converged order by model"
    ).fetchall()
    chosen = con.execute(
        "select model_label, note from marts.clv_model_comparison where is_chosen"
    ).fetchone()
    if chosen and chosen[1] and chosen[1].startswith("not chosen by holdout"):
        degraded.append(
            f"CLV model choice: {chosen[1]}, so the accuracy of the CLV and churn "
            "predictions was not checked on held-out purchases."
        )
    elif chosen:
        notes.append(f"CLV model: {chosen[0]} {chosen[1]}.")
    for label, message in failed:
        notes.append(
            f"CLV model comparison: the {label} fit on the calibration period did not "
            f"converge ({message or 'no message'}), so it was not a candidate."
        )
    return degraded, notes


def _clv_sample_notes(con: duckdb.DuckDBPyConnection, present) -> list[str]:
    """A note when a CLV fit used a seeded sample of fit_sample_size, not every customer."""
    notes = []
    for table, label in (
        ("clv_model_parameters", "CLV fit"),
        ("clv_model_comparison", "CLV model comparison"),
    ):
        if ("marts", table) in present and "sample_note" in _columns(con, "marts", table):
            for (note,) in con.execute(
                f"select distinct sample_note from marts.{table} "
                "where sample_note is not null order by 1"
            ).fetchall():
                notes.append(f"{label}: {note}.")
    return notes


def _srm_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per campaign test whose holdout split fails the sample-ratio check."""
    rows = con.execute(
        "select campaign_id, segment_name, offer_id, max(holdout_share), max(srm_p_value) "
        "from marts.campaign_results where has_srm "
        "group by campaign_id, segment_name, offer_id order by 1, 2, 3"
    ).fetchall()
    return [
        f"Campaign test {campaign} / {segment} / {offer} has a sample-ratio mismatch: its "
        f"holdout is {share:.1%} of the customers, far from the configured share "
        f"(chi-square p = {p:.2g}). The assignment or the data is broken; its results are "
        "not trusted and no winner is declared."
        for campaign, segment, offer, share, p in rows
    ]


def _message_lines(con: duckdb.DuckDBPyConnection, ollama_host: str) -> list[str]:
    total, templates = con.execute(
        "select count(*), count(case when generator = 'template' then 1 end) "
        "from marts.marketing_messages"
    ).fetchone()
    if not templates:
        return []
    reasons = [
        row[0]
        for row in con.execute(
            "select validation_reasons from marts.marketing_messages where generator = 'template'"
        ).fetchall()
    ]
    top = top_reasons(reasons, 1)
    reason = top[0]["reason"] if top else "no reason recorded"
    if "disabled in config" in reason:
        why = "Ollama is disabled in config (messaging: use_ollama)"
    elif any(word in reason for word in ("reachable", "connection", "timed out", "transport")):
        why = f"Ollama at {ollama_host} did not answer ({reason})"
    else:
        why = f"Ollama at {ollama_host} gave no usable answer ({reason})"
    return [f"{templates:,} of {total:,} marketing messages come from templates, because {why}."]


def _cluster_lines(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    rows = con.execute(
        "select algorithm, cluster_id_origin, count(distinct cluster_id) "
        "from marts.cluster_assignments where cluster_id_origin <> 'noise' "
        "group by all order by all"
    ).fetchall()
    by_algorithm: dict[str, dict[str, int]] = {}
    for algorithm, origin, clusters in rows:
        by_algorithm.setdefault(algorithm, {})[origin] = clusters
    degraded: list[str] = []
    notes: list[str] = []
    for algorithm, origins in sorted(by_algorithm.items()):
        total = sum(origins.values())
        unreadable = [o for o in origins if o.startswith("previous unreadable")]
        if unreadable:
            degraded.append(
                f"Clustering ({algorithm}): the previous build's cluster ids could not be "
                f"read ({unreadable[0].split(':', 1)[-1].strip()}), so all {total} clusters "
                "were numbered afresh and may not match earlier reports."
            )
        elif "no previous build" in origins:
            notes.append(
                f"Clustering ({algorithm}): no previous cluster ids to keep (first build); "
                f"{total} clusters numbered afresh."
            )
        else:
            kept = origins.get("kept", 0)
            line = (
                f"Clustering ({algorithm}): {kept} of {total} clusters kept their ids from "
                "the previous build"
            )
            if kept < total:
                degraded.append(
                    line + f"; {total - kept} are new or changed too much to keep an id."
                )
            else:
                notes.append(line + ".")
    return degraded, notes


# --- the whole summary -------------------------------------------------------------------


def raw_table_columns(project: Path) -> dict[str, dict]:
    """var raw_tables from dbt_project.yml: raw table -> {column: type}."""
    import yaml

    config = yaml.safe_load((project / "dbt_project.yml").read_text())
    tables = (config.get("vars") or {}).get("raw_tables") or {}
    return {name: dict(spec.get("columns") or {}) for name, spec in tables.items()}


def summarize(
    build_db: Path,
    target: Path,
    project: Path,
    outcome: str,
    selector: str | None,
    dbt_error: str | None = None,
) -> BuildSummary:
    """Everything the summary says, read from the build file and dbt's artifacts.

    `dbt_error` is dbt's own error text when it stopped before running any node
    (e.g. a compilation error raised by a macro): it becomes the summary's error line.
    """
    raw_columns = raw_table_columns(project)
    summary = BuildSummary(outcome=outcome, selector=selector)
    fresh: set[str] | None = None
    manifest: dict = {}
    run_results: dict | None = None
    manifest_file, results_file = target / "manifest.json", target / "run_results.json"
    if manifest_file.exists() and results_file.exists():
        manifest = json.loads(manifest_file.read_text())
        run_results = json.loads(results_file.read_text())
        summary.skipped = sum(1 for r in run_results.get("results", []) if r["status"] == "skipped")
        # Only what this run built: a failed or partial build leaves older tables behind.
        fresh = {
            r["unique_id"].split(".")[-1]
            for r in run_results.get("results", [])
            if r["unique_id"].split(".")[0] in ("model", "seed") and r["status"] == "success"
        }
    elif outcome != "success":
        fresh = set()  # dbt stopped before running a node: the file holds an older build
        if dbt_error:
            summary.tests = [TestExplanation("error", "dbt", error_sentence(dbt_error))]
    if build_db.exists():
        host = os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST
        with duckdb.connect(str(build_db), read_only=True) as con:
            summary.tables = table_counts(con, list(raw_columns), fresh)
            summary.data_quality_table, summary.data_quality = data_quality_flags(con, fresh)
            summary.degraded, summary.notes = degraded_results(con, host, fresh)
    if run_results is not None:
        shares = {
            t.table: (t.quarantined - t.after_as_of_date, t.read - t.after_as_of_date)
            for t in summary.tables
        }
        summary.tests = explain_results(
            run_results, manifest, raw_columns, shares, run_var_values(project, run_results)
        )
    return summary


def summary_path(build_db: Path) -> Path:
    """build.duckdb -> build.summary.json beside it."""
    return build_db.with_name(build_db.stem + ".summary.json")


def write_summary(summary: BuildSummary, build_db: Path) -> Path:
    path = summary_path(build_db)
    path.write_text(json.dumps(summary.as_dict(), indent=2, default=str) + "\n")
    return path


def render(summary: BuildSummary) -> list[str]:
    """The summary as plain lines for the terminal."""
    lines = ["", "Build summary"]
    if summary.tables:
        lines.append("  Rows per raw table (read / kept / quarantined):")
        for counts in summary.tables:
            if not counts.read:
                lines.append(f"    {counts.table}: no rows (optional file absent or empty)")
                continue
            lines.append(
                f"    {counts.table}: {counts.read:,} read, {counts.kept:,} kept, "
                f"{counts.quarantined:,} quarantined"
            )
            for reason in counts.top_reasons:
                lines.append(f"      - {reason['rows']:,} x {reason['reason']}")
            rest = counts.quarantined - sum(r["rows"] for r in counts.top_reasons)
            if rest > 0:
                lines.append(
                    f"      … and {_rows(rest, 'more row')} for "
                    f"{counts.other_reasons:,} other "
                    f"{_verb(counts.other_reasons, 'reason', 'reasons')} "
                    "(query staging.stg_shop__quarantined_rows)"
                )
        if any(c.quarantined for c in summary.tables):
            lines.append("    Every quarantined row is in staging.stg_shop__quarantined_rows.")
    if summary.data_quality_table:
        flags = summary.data_quality or []
        total = sum(flag["rows"] for flag in flags)
        lines.append(f"  Data-quality flags: {total:,} (in {summary.data_quality_table})")
        for flag in flags[:TOP_FLAGS]:
            where = ".".join(
                str(v) for k, v in flag.items() if k != "rows" and k not in ISSUE_COLUMNS
            )
            issue = next((str(flag[k]) for k in ISSUE_COLUMNS if k in flag), "")
            lines.append(
                f"    - {flag['rows']:,} x {where}{': ' if where and issue else ''}{issue}"
            )
        rest = flags[TOP_FLAGS:]
        if rest:
            lines.append(
                f"    … and {_rows(sum(f['rows'] for f in rest), 'more flag')} for "
                f"{len(rest):,} other {_verb(len(rest), 'issue', 'issues')} "
                f"(query {summary.data_quality_table})"
            )
    if summary.degraded:
        lines.append("  Degraded results (read these before trusting the figures):")
        lines += [f"    - {line}" for line in summary.degraded]
    elif summary.outcome != "success" or summary.selector:
        lines.append("  Degraded results: none found among the models this run built.")
    else:
        lines.append("  Degraded results: none.")
    lines += [f"  Note: {note}" for note in summary.notes]
    for status, title in (("error", "Errors"), ("fail", "Failing tests"), ("warn", "Warnings")):
        chosen = [t for t in summary.tests if t.status == status]
        if chosen:
            lines.append(f"  {title}:")
            lines += [f"    - {t.sentence}" for t in chosen]
    if summary.skipped:
        lines.append(f"  {summary.skipped} node(s) skipped because something they need failed.")
    if summary.selector:
        lines.append(f"  Partial build (--select {summary.selector}): it will not be published.")
    return lines
