"""The `marketing-engine` command line: thin commands over the service modules."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from marketing_engine import __version__


@click.group()
@click.version_option(__version__, prog_name="marketing-engine")
def main() -> None:
    """Personalized marketing engine: build the warehouse, fit models, render reports."""


@main.command("generate-data")
@click.option("--customers", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Number of customers to generate.")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Random seed: the same seed gives the same bytes.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Directory to write the raw tables to.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True, help="File format of the raw tables.")
@click.option("--start-date", type=click.DateTime(["%Y-%m-%d"]), default="2024-01-01",
              show_default=True, help="First day of the order history.")
@click.option("--end-date", type=click.DateTime(["%Y-%m-%d"]), default="2026-10-31",
              show_default=True, help="Last day of the order history.")
@click.option("--prefix", default="", help="File name prefix, e.g. raw_ for dbt seeds.")
@click.option("--dirty-rows/--no-dirty-rows", default=True, show_default=True,
              help="Add a handful of bad rows (duplicates, bad dates, unknown customer).")
def generate_data(customers: int, seed: int, out_dir: Path, fmt: str,
                  start_date: dt.datetime, end_date: dt.datetime, prefix: str, dirty_rows: bool) -> None:
    """Write a realistic, deterministic retail sample (customers, orders, coupons, ...)."""
    from marketing_engine.generate import GeneratorConfig, generate

    if end_date <= start_date:
        raise click.BadParameter("must be after --start-date", param_hint="--end-date")
    config = GeneratorConfig(
        customers=customers, seed=seed, start_date=start_date.date(),
        end_date=end_date.date(), dirty_rows=dirty_rows,
    )
    counts = generate(config, out_dir, fmt, prefix=prefix)
    for table, rows in counts.items():
        click.echo(f"{table:<14}{rows:>12,} rows")
    click.echo(f"wrote {fmt} files to {out_dir}")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


__all__ = ["json", "main"]
