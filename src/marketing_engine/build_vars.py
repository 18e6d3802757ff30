"""`marketing-engine build --vars`: dbt vars given as a YAML mapping, checked before dbt runs.

The vars the CLI also takes as flags get the flags' checks (a date as YYYY-MM-DD, a
raw_data_dir that exists, made absolute since dbt runs from the project), and a name the
project never reads is warned about with the closest one it does read, since dbt itself
ignores a misspelt var silently.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path

import click
import yaml

# var('name') or var("name", default) in models, macros, Python models' YAML and the project.
VAR_CALL = re.compile(r"""\bvar\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
SCANNED = ("models", "macros", "python_models", "analyses", "tests/dbt")
SCANNED_SUFFIXES = {".sql", ".yml", ".yaml", ".py"}


class _TextDates(yaml.SafeLoader):
    """YAML without its implicit timestamps: 1998-07-01 stays text (dbt gets text either
    way) and 2026-13-45 is a malformed date for the check below, not a Python error."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_vars(text: str | None) -> dict[str, object]:
    """--vars as dbt reads it: a YAML (or JSON) mapping of var names to values."""
    if not text:
        return {}
    try:
        parsed = yaml.load(text, Loader=_TextDates)  # a SafeLoader: no Python objects
    except yaml.YAMLError as error:
        raise click.BadParameter(
            f"not YAML ({str(error).splitlines()[0]}); write a mapping such as "
            '"{report_currency: USD}"',
            param_hint="--vars",
        ) from None
    if not isinstance(parsed, dict) or not all(isinstance(key, str) for key in parsed):
        raise click.BadParameter(
            f'expected a mapping of var names to values, such as "{{report_currency: USD}}", '
            f"got {text!r}",
            param_hint="--vars",
        )
    return parsed


def checked_vars(text: str | None, project: Path) -> dict[str, object]:
    """The parsed vars with as_of_date and raw_data_dir checked as their flags are, and a
    warning (stderr) for each name the project does not read."""
    given = parse_vars(text)
    if "daily_run" in given:
        # --daily also falls back to a full build when the history changed.
        raise click.UsageError("give --daily instead of daily_run in --vars.")
    if "as_of_date" in given:
        given["as_of_date"] = _iso_date(given["as_of_date"])
    if "raw_data_dir" in given:
        given["raw_data_dir"] = _raw_dir(given["raw_data_dir"])
    known = project_var_names(project)
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            click.echo(
                f"Warning: --vars sets {name}, which no model or macro of this project "
                f"reads{hint}; it has no effect.",
                err=True,
            )
    return given


def _iso_date(value: object) -> str:
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise click.BadParameter(
            f"as_of_date must be a date written YYYY-MM-DD, such as 1998-07-01, got {value!r}",
            param_hint="--vars",
        ) from None


def _raw_dir(value: object) -> str:
    text = str(value)
    if "://" in text:  # s3://, hdfs://: the engine reads it, not this machine
        return text
    path = Path(text).expanduser().resolve()
    if not path.is_dir():
        raise click.BadParameter(
            f"raw_data_dir {text!r}: directory {str(path)!r} does not exist",
            param_hint="--vars",
        )
    return str(path)


def project_var_names(project: Path) -> set[str]:
    """Every var name the project declares (dbt_project.yml) or reads (var() calls)."""
    names: set[str] = set()
    config = yaml.safe_load((project / "dbt_project.yml").read_text()) or {}
    names |= set((config.get("vars") or {}).keys())
    names |= set(VAR_CALL.findall((project / "dbt_project.yml").read_text()))
    for folder in SCANNED:
        for path in (project / folder).rglob("*"):
            if path.suffix in SCANNED_SUFFIXES and path.is_file():
                names |= set(VAR_CALL.findall(path.read_text(errors="replace")))
    return names
