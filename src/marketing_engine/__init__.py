"""Personalized marketing engine: a dbt + DuckDB warehouse with Python helpers."""

__version__ = "0.1.0"
