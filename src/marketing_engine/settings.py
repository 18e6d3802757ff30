"""Settings dataclasses built from a dbt Python model's `config:` dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import ClassVar, Self


class FromConfig:
    """Mixin for frozen dataclasses: `from_mapping` takes the YAML config dict.

    Unset keys keep their defaults; an unknown key (a typo in YAML) fails naming
    the known ones; YAML lists become tuples. Each class checks its own values in
    `__post_init__`.
    """

    config_key: ClassVar[str] = "settings"

    @classmethod
    def from_mapping(cls, settings: Mapping[str, object] | None) -> Self:
        settings = dict(settings or {})
        known = sorted(f.name for f in fields(cls))  # type: ignore[arg-type]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ValueError(f"unknown {cls.config_key} settings {unknown}; known: {known}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})
