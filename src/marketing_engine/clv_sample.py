"""The CLV fits' seeded sample, chosen in SQL: the rows never reach pandas otherwise.

The fits (clv_model_parameters, clv_model_comparison) use at most
`fit_sample_size` customers: the first ones by md5(customer_id || '|' || seed),
ties broken by customer_id. A hash, not a random() draw, so the same data and
seed always give the same sample, whatever order the engine returns the rows
in, and a customer stays in the sample as others come and go. md5, `||` and
`cast(... as string)` are the same on DuckDB and Spark. With no more customers
than fit_sample_size the sample is everyone, and the fits are the fits on all
rows, bit for bit (the sample is read in customer_id order, as before).

Every customer is still scored: in SQL by clv_scored from the published fit,
and the holdout predictions of the model comparison in Python (they read every
calibration customer, but only the columns they use).
"""

from __future__ import annotations

import pandas as pd

from marketing_engine.clv import ClvSettings

# The view name a relation's SQL reads it by (DuckDBPyRelation.query).
VIEW = "customers"
# What the CLV fit reads of int_customers_clv_summary.
FIT_COLUMNS = ["customer_id", "x", "t_x_days", "t_days", "mean_repeat_value"]
# What the model comparison reads of int_customers_clv_calibration (fit and prediction).
CALIBRATION_COLUMNS = [
    "customer_id",
    "x",
    "t_x_days",
    "t_days",
    "holdout_purchases",
    "holdout_days",
]
IN_SAMPLE = "is_in_fit_sample"


def sample_key(settings: ClvSettings) -> str:
    """The SQL expression customers are sampled by: a seeded hash of the id."""
    return f"md5(cast(customer_id as string) || '|{int(settings.random_state)}')"


def fit_sample_sql(settings: ClvSettings, columns: list[str], table: str = VIEW) -> str:
    """The seeded sample of at most fit_sample_size customers of `table`."""
    return (
        f"select {', '.join(columns)} from {table} "
        f"order by {sample_key(settings)}, customer_id "
        f"limit {int(settings.fit_sample_size)}"
    )


def flagged_sql(settings: ClvSettings, columns: list[str], table: str = VIEW) -> str:
    """Every customer of `table`, flagged `is_in_fit_sample` when fit_sample_sql picks it."""
    rank = f"row_number() over (order by {sample_key(settings)}, customer_id)"
    return (
        f"select {', '.join(columns)}, "
        f"{rank} <= {int(settings.fit_sample_size)} as {IN_SAMPLE} from {table}"
    )


def _query(relation, sql: str) -> pd.DataFrame:
    """`sql` over a dbt-duckdb relation (dbt.ref), which it reads as `customers`."""
    return relation.query(VIEW, sql).df()


def read_fit_sample(relation, settings: ClvSettings) -> pd.DataFrame:
    """The summary columns the CLV fit reads, for the seeded sample only, by customer_id."""
    sample = _query(relation, fit_sample_sql(settings, FIT_COLUMNS))
    return sample.sort_values("customer_id", kind="stable").reset_index(drop=True)


def read_calibration(relation, settings: ClvSettings) -> pd.DataFrame:
    """Every calibration customer (the holdout predictions need them all), only the
    columns the comparison reads, flagged `is_in_fit_sample`, by customer_id."""
    calibration = _query(relation, flagged_sql(settings, CALIBRATION_COLUMNS))
    return calibration.sort_values("customer_id", kind="stable").reset_index(drop=True)


def fit_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows a fit uses: the flagged sample, or every row of an unflagged frame."""
    if IN_SAMPLE not in frame:
        return frame
    return frame.loc[frame[IN_SAMPLE].astype(bool)].reset_index(drop=True)


def sample_note(fitted: int, customers: int, others: str, what: str = "customers") -> str | None:
    """Plain words when a fit used a sample (clustering's wording), `others` saying what
    became of the rest; None when the fit used everyone."""
    if fitted >= customers:
        return None
    return (
        f"fitted on a seeded sample of {fitted:,} of {customers:,} {what} "
        f"(clv fit_sample_size); the other {customers - fitted:,} {others}"
    )


def with_sample_columns(table: pd.DataFrame, fitted: int, note: str | None) -> pd.DataFrame:
    """`table` with fit_sample_size (customers the fit used) and sample_note on every row."""
    rows = len(table)
    return table.assign(
        fit_sample_size=pd.Series([fitted] * rows, index=table.index, dtype="int64"),
        sample_note=pd.Series([note] * rows, index=table.index, dtype="string"),
    )
