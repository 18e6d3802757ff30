"""Lint-only stand-ins for dbt's cross-database macros (sqlfluff jinja templater)."""


def datediff(first, second, part):
    return f"date_diff('{part}', {first}, {second})"


def dateadd(part, amount, date):
    return f"({date} + interval ({amount}) {part})"


def date_trunc(part, date):
    return f"date_trunc('{part}', {date})"


def date_spine(part, start, end):
    return f"select {start} as date_{part}"


def generate_series(upper):
    return f"select generate_series as generated_number from generate_series(1, {upper})"


def type_string():
    return "varchar"


def type_timestamp():
    return "timestamp"


def safe_cast(field, type_):
    return f"cast({field} as {type_})"


def position(substring, string):
    return f"position({substring} in {string})"
