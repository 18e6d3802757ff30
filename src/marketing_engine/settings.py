"""Settings dataclasses built from a dbt Python model's `config:` dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import ClassVar, Self


class FromConfig:
    """Mixin for frozen dataclasses: `from_mapping` takes the YAML config dict.

    Unset keys keep their defaults; an unknown key (a typo in YAML) fails naming
    the known ones; YAML lists become tuples; a number written as text (dbt renders
    a "{{ var(...) }}" in dbt_project.yml as text) becomes the field's int or float,
    or fails naming the setting. Each class checks its own values in `__post_init__`.
    """

    config_key: ClassVar[str] = "settings"

    @classmethod
    def from_mapping(cls, settings: Mapping[str, object] | None) -> Self:
        settings = dict(settings or {})
        known = sorted(f.name for f in fields(cls))  # type: ignore[arg-type]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ValueError(f"unknown {cls.config_key} settings {unknown}; known: {known}")
        types = {f.name: f.type for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: cls._coerced(k, v, types[k]) for k, v in settings.items()})

    @classmethod
    def _coerced(cls, name: str, value: object, declared: object) -> object:
        if isinstance(value, list):
            return tuple(value)
        kind = {"int": int, "float": float}.get(str(declared), declared)
        if not isinstance(value, str) or kind not in (int, float):
            return value
        try:
            number = float(value.strip().replace("_", ""))
        except ValueError:
            number = float("nan")
        if kind is int and number.is_integer():
            return int(number)
        if kind is float and number == number:
            return number
        raise ValueError(
            f"{cls.config_key} {name} must be a {'whole ' if kind is int else ''}number, got "
            f"{value!r}: fix it in dbt_project.yml (+{cls.config_key}: {name}) or in the "
            "--vars that set it"
        )
