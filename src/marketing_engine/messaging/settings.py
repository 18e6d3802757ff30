"""Messaging settings from the models' YAML `config:` (key `messaging`).

dbt_project.yml fills each setting from a dbt var, then an environment
variable, then its default, so rendered values may arrive as text: they are
converted to the field's type here, with an error naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from marketing_engine import sms
from marketing_engine.settings import FromConfig

NAME_TOKEN = "{first_name}"
DEFAULT_HOST = "http://localhost:11434"
# Bumped when the prompt or the composition changes, so cached copy is rewritten.
PROMPT_VERSION = 2


class MessagingError(ValueError):
    """No valid message can be made: the build must stop with this reason."""


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise ValueError(f"messaging setting {name}: {value!r} is not true or false")


@dataclass(frozen=True)
class MessagingSettings(FromConfig):
    """How messages are written: the model and its server, limits, brand voice."""

    config_key: ClassVar[str] = "messaging"

    model: str = "llama3.2:3b"
    host: str = ""  # empty: OLLAMA_HOST, else http://localhost:11434
    use_ollama: bool = True
    timeout_seconds: float = 60.0
    max_retries: int = 1
    backoff_seconds: float = 1.0
    max_attempts: int = 3
    time_budget_seconds: float = 1800.0
    concurrency: int = 1
    temperature: float = 0.2
    seed: int = 42
    num_predict: int = 64
    similarity_threshold: float = 0.7
    opt_out_footer: str = "Reply STOP to opt out"
    name_budget: int = 12
    currency: str = "Rs."
    sender_name: str = ""
    tone: str = "warm and professional"
    avoid_words: tuple[str, ...] = ()
    regenerate: bool = False

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            default = spec.default
            try:
                if isinstance(default, bool):
                    value = _as_bool(spec.name, value)
                elif isinstance(default, int):
                    value = int(float(value))
                elif isinstance(default, float):
                    value = float(value)
                elif isinstance(default, tuple):
                    if isinstance(value, str):
                        value = tuple(w.strip() for w in value.split(",") if w.strip())
                    value = tuple(str(w) for w in value)
                elif value is None:
                    value = ""
                else:
                    value = str(value)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"messaging setting {spec.name}: {value!r} is not a valid "
                    f"{type(default).__name__} ({error})"
                ) from None
            object.__setattr__(self, spec.name, value)
        checks = {
            "timeout_seconds": self.timeout_seconds > 0,
            "max_retries": self.max_retries >= 0,
            "max_attempts": self.max_attempts >= 1,
            "time_budget_seconds": self.time_budget_seconds >= 0,
            "concurrency": self.concurrency >= 1,
            "num_predict": self.num_predict >= 16,
            "similarity_threshold": 0 < self.similarity_threshold <= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                f"messaging settings out of range: {', '.join(bad)} "
                "(timeouts > 0, retries >= 0, attempts and concurrency >= 1, "
                "num_predict >= 16, 0 < similarity_threshold <= 1)"
            )
        if not self.opt_out_footer.strip():
            raise ValueError("messaging setting opt_out_footer must not be empty")

    def ollama_host(self, environ: dict | None = None) -> str:
        import os

        env = os.environ if environ is None else environ
        return self.host or env.get("OLLAMA_HOST") or DEFAULT_HOST

    def options(self) -> dict:
        """Ollama generation options: short, near-deterministic answers."""
        return {
            "temperature": self.temperature,
            "seed": self.seed,
            "num_predict": self.num_predict,
            "stop": ["</data>", "<data>", "\n\n\n"],
        }

    def content_key(self) -> dict:
        """Every setting that changes what a message says (the cache key's part)."""
        return {
            "prompt_version": PROMPT_VERSION,
            "model": self.model,
            "options": self.options(),
            "footer": self.opt_out_footer,
            "name_budget": self.name_budget,
            "currency": self.currency,
            "sender_name": self.sender_name,
            "tone": self.tone,
            "avoid_words": sorted(w.lower() for w in self.avoid_words),
            "similarity_threshold": self.similarity_threshold,
        }

    def body_limit(self, kind: str = "GSM-7") -> int:
        """Units left for the body: the SMS limit minus footer, space and name room."""
        name_room = max(self.name_budget - len(NAME_TOKEN), 0)
        return sms.SINGLE_LIMIT[kind] - sms.length(self.opt_out_footer) - 1 - name_room
