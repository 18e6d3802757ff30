"""The Ollama client: structured output, bounded time, retries, a run budget.

Every request asks for JSON matching HOOK_SCHEMA with num_predict, stop
sequences, a seed and a low temperature. Transport errors are retried with
exponential backoff; an unreachable server, a missing model or an exhausted
time budget stops all further calls for the run (`unavailable`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marketing_engine.messaging.facts import clean_text
from marketing_engine.messaging.prompt import HOOK_SCHEMA
from marketing_engine.messaging.settings import MessagingSettings


@dataclass(frozen=True)
class Failure:
    """No answer: `code` is a validation.REASONS key; `reachable` is False when
    the server itself could not be used (the pairing is tried again next build)."""

    code: str
    reason: str
    reachable: bool = True


@dataclass
class OllamaGenerator:
    """Calls Ollama's /api/generate; thread-safe counters for concurrent pairings."""

    settings: MessagingSettings
    client: Any = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    calls: int = 0
    unavailable: str | None = None
    deadline: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.deadline = self.clock() + self.settings.time_budget_seconds
        if self.client is None:
            import ollama

            self.client = ollama.Client(
                host=self.settings.ollama_host(), timeout=self.settings.timeout_seconds
            )

    def _stop(self, reason: str) -> Failure:
        with self._lock:
            self.unavailable = self.unavailable or reason
        return Failure("unreachable", self.unavailable, reachable=False)

    def generate(self, system: str, prompt: str, seed: int | None = None) -> str | Failure:
        """The model's raw answer text, or why there is none. `seed` overrides the
        configured one (a regenerated message asks with the next seed)."""
        import httpx
        import ollama

        if self.unavailable:
            return Failure("unreachable", self.unavailable, reachable=False)
        last = Failure("server_error", "no attempt")
        for attempt in range(self.settings.max_retries + 1):
            if self.clock() > self.deadline:
                return self._stop(
                    f"time budget of {self.settings.time_budget_seconds:g}s for the run "
                    "exhausted (messaging time_budget_seconds)"
                )
            if attempt:
                self.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
            with self._lock:
                self.calls += 1
            try:
                response = self.client.generate(
                    model=self.settings.model,
                    prompt=prompt,
                    system=system,
                    format=HOOK_SCHEMA,
                    options={**self.settings.options(), **({"seed": seed} if seed else {})},
                    stream=False,
                )
                return str(response.response or "")
            except ConnectionError:
                return self._stop(
                    f"Ollama is not reachable at {self.settings.ollama_host()} "
                    "(is `ollama serve` running? set OLLAMA_HOST)"
                )
            except ollama.ResponseError as error:
                if error.status_code == 404:
                    return self._stop(
                        f"model {self.settings.model} not found (404): "
                        f"run `ollama pull {self.settings.model}`"
                    )
                last = Failure(
                    "server_error",
                    f"Ollama error {error.status_code}: {clean_text(error.error, 80)}",
                )
                if error.status_code < 500:
                    return last
            except httpx.ConnectTimeout:
                return self._stop(
                    f"Ollama did not accept a connection within "
                    f"{self.settings.timeout_seconds:g}s (check OLLAMA_HOST)"
                )
            except httpx.TimeoutException:
                last = Failure(
                    "timeout", f"Ollama timed out after {self.settings.timeout_seconds:g}s"
                )
            except httpx.HTTPError as error:
                last = Failure("server_error", f"Ollama transport error: {clean_text(error, 80)}")
        return Failure(last.code, f"{last.reason} ({self.settings.max_retries + 1} tries)")
