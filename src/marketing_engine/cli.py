"""The `marketing-engine` command line: thin commands over the service modules."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from marketing_engine import __version__

if TYPE_CHECKING:
    from marketing_engine.pipeline import DbtOutcome


@click.group()
@click.version_option(__version__, prog_name="marketing-engine")
def main() -> None:
    """Personalized marketing engine: build the warehouse, fit models, render reports."""


@main.command("generate-data")
@click.option(
    "--customers",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Number of customers to generate.",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed: the same seed gives the same bytes.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write the raw tables to.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="File format of the raw tables.",
)
@click.option(
    "--start-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2024-01-01",
    show_default=True,
    help="First day of the order history.",
)
@click.option(
    "--end-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2026-10-31",
    show_default=True,
    help="Last day of the order history.",
)
@click.option("--prefix", default="", help="File name prefix, e.g. raw_ for dbt seeds.")
@click.option(
    "--dirty-rows/--no-dirty-rows",
    default=True,
    show_default=True,
    help="Add a handful of bad rows (duplicates, bad dates, unknown customer).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=lambda: min(4, os.cpu_count() or 1),
    show_default="CPUs, at most 4",
    help="Processes simulating blocks of customers; the output bytes do not depend on it.",
)
def generate_data(
    customers: int,
    seed: int,
    out_dir: Path,
    fmt: str,
    start_date: dt.datetime,
    end_date: dt.datetime,
    prefix: str,
    dirty_rows: bool,
    workers: int,
) -> None:
    """Write a realistic, deterministic retail sample (customers, orders, coupons, ...)."""
    from marketing_engine.generate import GeneratorConfig, generate

    if end_date <= start_date:
        raise click.BadParameter("must be after --start-date", param_hint="--end-date")
    config = GeneratorConfig(
        customers=customers,
        seed=seed,
        start_date=start_date.date(),
        end_date=end_date.date(),
        dirty_rows=dirty_rows,
    )
    counts = generate(config, out_dir, fmt, prefix=prefix, workers=workers)
    for table, rows in counts.items():
        click.echo(f"{table:<14}{rows:>12,} rows")
    click.echo(f"wrote {fmt} files to {out_dir}")


@main.command("fit-clv")
@click.option(
    "--transactions",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with customer_id, date and amount columns.",
)
@click.option(
    "--calibration-end",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day of the calibration period (default: the last date in the file).",
)
@click.option(
    "--time-unit",
    type=click.Choice(["days", "weeks"]),
    default="weeks",
    show_default=True,
    help="Unit of t_x and T; weeks = days / 7.",
)
def fit_clv(path: Path, calibration_end: dt.datetime | None, time_unit: str) -> None:
    """Fit BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma to a transactions CSV; print JSON."""
    import duckdb

    from marketing_engine.clv import fit_gamma_gamma, in_units, summary_from_transactions
    from marketing_engine.clv_selection import MODELS

    con = duckdb.connect()
    try:
        con.read_csv(str(path), header=True).create_view("transactions")
        columns = {row[0] for row in con.execute("describe transactions").fetchall()}
        missing = {"customer_id", "date", "amount"} - columns
        if missing:
            _fail(
                f"{path} lacks column(s) {', '.join(sorted(missing))}; it has "
                f"{', '.join(sorted(columns))}. Rename them to customer_id, date, amount."
            )
        end = (
            calibration_end.date().isoformat()
            if calibration_end
            else con.execute(
                "select cast(max(cast(date as date)) as varchar) from transactions"
            ).fetchone()[0]
        )
        summary = summary_from_transactions(con, "transactions", end)
    except duckdb.Error as error:
        _fail(f"could not read {path}: {error}")
    x, t_x, t = in_units(summary, time_unit)
    fits = {name: model.fit(x, t_x, t).as_dict() for name, model in MODELS.items()}
    gamma_gamma = fit_gamma_gamma(summary["x"], summary["mean_repeat_value"].fillna(0))
    click.echo(
        json.dumps(
            {
                "calibration_end": end,
                "time_unit": time_unit,
                "customers": len(summary),
                **fits,
                "gamma_gamma": gamma_gamma.as_dict(),
            },
            indent=2,
        )
    )


@main.command()
@click.option(
    "--raw-data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Read your own CSV/Parquet files from here instead of the embedded sample.",
)
@click.option(
    "--as-of-date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Reference date (default: the day after the last valid order).",
)
@click.option("--select", "selector", help="dbt node selection, e.g. 'staging+'.")
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="Publish the marts to the serving file when every test passes.",
)
@click.option(
    "--regenerate-messages",
    is_flag=True,
    help="Write new copy for every marketing message instead of reusing the cached one "
    "(dbt var regenerate_messages). New copy never repeats an earlier message.",
)
@click.option(
    "--parquet",
    is_flag=True,
    help="Also write one Parquet file per mart beside the serving file when publishing.",
)
@click.option(
    "--daily",
    is_flag=True,
    help="Daily run: parse only the transactions dated after the last loaded order time "
    "and append them (order lines, orders) to the last build's tables; every other model "
    "is rebuilt and every test runs, as in a full build. When the loaded history changed "
    "(a late, undated or removed row) it says so and runs a full build instead.",
)
@click.option(
    "--vars",
    "extra_vars",
    help="dbt vars as a YAML mapping, as `dbt build --vars` takes them, e.g. "
    '"{report_currency: USD, report_locale: en-US}" (README "Configuration").',
)
def build(
    raw_data_dir: Path | None,
    as_of_date: dt.datetime | None,
    selector: str | None,
    publish: bool,
    regenerate_messages: bool,
    parquet: bool,
    daily: bool,
    extra_vars: str | None,
) -> None:
    """Run `dbt build` into the working file, then publish the marts atomically.

    Ends with a summary in plain words (rows kept and quarantined, degraded
    results, each failing test explained), also written as JSON beside the
    build file. A failed or partial (--select) build is never published: the
    serving file (the one BI tools read) stays as it was.

    With --daily, appending one day of transactions to a history already built
    into the working file re-reads only the new rows; the tables come out the
    same as a full build's on the same files (README "Daily runs").
    """
    from marketing_engine.build_status import FAILED, RUNNING, SUCCESS, BuildStatus, now_utc
    from marketing_engine.build_status import write_status as write_build_status
    from marketing_engine.build_summary import summary_path
    from marketing_engine.build_vars import checked_vars
    from marketing_engine.pipeline import (
        build_db_path,
        project_dir,
        run_dbt,
        serving_db_path,
        target_path,
    )

    project = project_dir()
    dbt_vars = checked_vars(extra_vars, project)
    for key, flag in (
        ("raw_data_dir", raw_data_dir),
        ("as_of_date", as_of_date),
        ("regenerate_messages", regenerate_messages or None),
    ):
        if key in dbt_vars and flag is not None:
            option = "--" + key.replace("_", "-")
            raise click.UsageError(f"{key} is given twice, in --vars and as {option}: keep one.")
    if raw_data_dir is not None:
        dbt_vars["raw_data_dir"] = str(raw_data_dir.resolve())
    if as_of_date is not None:
        dbt_vars["as_of_date"] = as_of_date.date().isoformat()
    if regenerate_messages:
        dbt_vars["regenerate_messages"] = True
    build_db = build_db_path(project)
    build_db.parent.mkdir(parents=True, exist_ok=True)
    started = now_utc()
    # Before dbt touches the file: an interrupted build is never taken for a passing one.
    write_build_status(build_db, BuildStatus(RUNNING, selector, started))
    summary_path(build_db).unlink(missing_ok=True)  # never leave the last build's summary
    args = ["build"] + (["--select", selector] if selector else [])
    outcome = run_dbt(args, project, {**dbt_vars, "daily_run": True} if daily else dbt_vars)
    if daily and not outcome.success and _needs_full_build(outcome):
        click.echo(
            "note: the daily run cannot append to this history (see the reason above); "
            "running a full build instead.",
            err=True,
        )
        outcome = run_dbt(args, project, dbt_vars)
    summary_lines, explained = _summarize_build(
        build_db, target_path(project), project, outcome.success, selector, outcome.error
    )
    write_build_status(
        build_db,
        BuildStatus(
            SUCCESS if outcome.success else FAILED,
            selector,
            started,
            now_utc(),
            outcome.invocation_id,
        ),
    )
    for line in summary_lines:
        click.echo(line)
    if not outcome.success:
        details = (
            ""
            if explained
            else "\n  " + "\n  ".join(outcome.failures or [outcome.error or "unknown error"])
        )
        _fail(f"dbt build failed (see above); the serving warehouse was not changed.{details}")
    click.echo(f"built {build_db}")
    if selector:
        click.echo(
            f"not published: a partial build (--select {selector}) never replaces the "
            "serving warehouse; run `marketing-engine build` without --select to publish."
        )
    elif publish:
        _publish(project, build_db, serving_db_path(project), parquet)


FULL_BUILD_NEEDED = "Full build needed"


def _needs_full_build(outcome: DbtOutcome) -> bool:
    """True when a daily run stopped because only a full build is right (see daily_run.sql)."""
    texts = [*outcome.failures, outcome.error or ""]
    return any(FULL_BUILD_NEEDED in text for text in texts)


def _summarize_build(
    build_db: Path,
    target: Path,
    project: Path,
    success: bool,
    selector: str | None,
    dbt_error: str | None = None,
) -> tuple[list[str], bool]:
    """The summary lines (also written as JSON) and whether any failure was explained."""
    from marketing_engine.build_summary import render, summarize, write_summary

    try:
        outcome = "success" if success else "failed"
        summary = summarize(build_db, target, project, outcome, selector, dbt_error)
    except Exception as error:  # the summary must never hide the build's own outcome
        return [f"note: could not write the build summary ({type(error).__name__}: {error})"], False
    path = write_summary(summary, build_db)
    lines = [*render(summary), f"  (summary as JSON: {path})"]
    return lines, any(t.status in ("fail", "error") for t in summary.tests)


@main.command()
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Warehouse to read (default: the serving file).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: reports/build).",
)
def report(db: Path | None, out_dir: Path | None) -> None:
    """Render the report pages in reports/pages into a static site and markdown."""
    from marketing_engine.pipeline import project_dir, serving_db_path
    from marketing_engine.reports import ReportError, render_site

    project = project_dir()
    try:
        index = render_site(
            db or serving_db_path(project),
            project / "reports",
            out_dir or project / "reports" / "build",
        )
    except ReportError as error:
        _fail(str(error))
    click.echo(f"report: {index}")


EXPORTS = {
    "segmentation_report": "select * from marts.fct_segment_kpis "
    "order by segmentation, segment_order",
    "customer_segments": "select customer_id, rfm_segment, value_tier, cluster_name, "
    "r_score, f_score, m_score, is_churn_risk, churn_probability, "
    "clv_12_months from marts.customer_360 order by customer_id",
    "campaign_targets": "select * from marts.campaign_targets order by rfm_segment",
    "campaign_results": "select * from marts.campaign_results "
    "order by campaign_id, segment_name, offer_id, variant",
}


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the CSV and Parquet files to.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Warehouse to read (default: the serving file).",
)
def export(out_dir: Path, db: Path | None) -> None:
    """Export the segmentation report, campaign targets and results as CSV and Parquet."""
    import duckdb

    from marketing_engine.pipeline import project_dir, serving_db_path

    source = db or serving_db_path(project_dir())
    if not source.exists():
        _fail(f"no warehouse at {source}: run `marketing-engine build` first")
    from marketing_engine.reports.data import spreadsheet_safe

    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(source), read_only=True) as con:
        for name, sql in EXPORTS.items():
            for fmt in ("csv", "parquet"):
                target = out_dir / f"{name}.{fmt}"
                options = "(header true)" if fmt == "csv" else "(format parquet)"
                try:
                    # CSV opens in spreadsheets: no text cell may start a formula there;
                    # the Parquet file keeps every value as it is.
                    query = spreadsheet_safe(con, sql) if fmt == "csv" else sql
                    con.execute(f"copy ({query}) to '{target}' {options}")
                except duckdb.Error as error:
                    _fail(f"could not export {name}: {error}")
            count = con.execute(f"select count(*) from ({sql})").fetchone()[0]
            click.echo(f"{name:<22}{count:>10,} rows -> {out_dir / name}.csv|.parquet")


@main.command("publish")
@click.option(
    "--parquet",
    is_flag=True,
    help="Also write one Parquet file per mart to <serving file>_parquet/.",
)
def publish_command(parquet: bool) -> None:
    """Publish the marts of the last build to the serving file (Parquet on request), atomically.

    Refuses (exit 1, serving file untouched) a build that failed, was partial
    (--select), did not finish, or was changed after `marketing-engine build`.
    """
    from marketing_engine.pipeline import build_db_path, project_dir, serving_db_path

    project = project_dir()
    _publish(project, build_db_path(project), serving_db_path(project), parquet)


def _publish(project: Path, build_db: Path, serving_db: Path, parquet: bool = False) -> None:
    from marketing_engine.build_status import PublishRefused
    from marketing_engine.pipeline import target_path
    from marketing_engine.publish import PublishConfigError, publish

    try:
        result = publish(
            build_db, serving_db, target_path(project) / "manifest.json", parquet=parquet
        )
    except PublishRefused as error:
        _fail(f"not published; the serving warehouse was not changed: {error}")
    except (FileNotFoundError, PublishConfigError, duckdb_error()) as error:
        _fail(f"publish failed; the serving warehouse was not changed: {error}")
    if result.key_created and result.hashed_columns:
        click.echo(
            f"note: created the PII hashing key {result.key_source}; keep it (hashes stay "
            "the same across publishes), or set MARKETING_ENGINE_PII_KEY instead.",
            err=True,
        )
    parquet_note = f" and {result.parquet_dir}/" if result.parquet_dir else ""
    click.echo(
        f"published {len(result.tables)} tables to {result.serving_db}{parquet_note} "
        f"({len(result.hashed_columns)} PII columns hashed; "
        f"DuckDB storage version {result.storage_version})"
    )


def duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
