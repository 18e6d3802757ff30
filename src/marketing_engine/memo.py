"""A one-slot, in-process cache keyed on a DataFrame's content and settings.

dbt runs a build's Python models in one process. Models that publish
different views of one expensive fit (assignments and evaluation, scores and
parameters) call the fit with the same inputs; this keeps the latest result so
the second call is free, and holds nothing else.

dbt runs models on several threads, so two models of one fit may ask at the
same time: the cache holds a lock while it computes, and the second caller
waits for the first one's result instead of fitting again on the other core.
Callers key on a frame in a fixed row order (sorted on its key), because
DuckDB returns a table's rows in any order.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import TypeVar

import pandas as pd

T = TypeVar("T")


class OneSlotCache:
    """Remembers the result of the last (frame, settings) it computed."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._value: object = None
        self._lock = threading.RLock()

    @staticmethod
    def key(frame: pd.DataFrame, settings: object) -> str:
        digest = hashlib.sha256(repr(settings).encode())
        digest.update(repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return digest.hexdigest()

    def get_or_compute(self, frame: pd.DataFrame, settings: object, compute: Callable[[], T]) -> T:
        key = self.key(frame, settings)
        with self._lock:
            if key != self._key:
                self._value = compute()
                self._key = key
            return self._value  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._key, self._value = None, None
