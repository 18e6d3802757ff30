"""The one-slot fit cache: one computation per input, also when two threads ask at once."""

from __future__ import annotations

import threading

import pandas as pd

from marketing_engine.clv import ClvSettings
from marketing_engine.clv_selection import _COMPARE_CACHE, compare
from marketing_engine.memo import OneSlotCache


def test_concurrent_callers_share_one_computation():
    """The second caller arrives while the first is still computing: it waits for that
    result instead of computing again (without the lock it would compute twice)."""
    cache, calls = OneSlotCache(), []
    frame = pd.DataFrame({"a": [1, 2, 3]})
    computing, second_asks = threading.Event(), threading.Event()

    def compute():
        calls.append(1)
        computing.set()
        second_asks.wait(timeout=30)  # still computing when the second caller asks
        return "fit"

    results = []
    first = threading.Thread(target=lambda: results.append(cache.get_or_compute(frame, 1, compute)))
    first.start()
    computing.wait(timeout=30)
    second_asks.set()
    results.append(cache.get_or_compute(frame, 1, compute))
    first.join()
    assert results == ["fit", "fit"] and len(calls) == 1


def test_compare_is_computed_once_whatever_the_row_order(monkeypatch):
    """DuckDB hands the calibration table over in any order: the comparison, calibration
    and prediction marts still share one fit."""
    import marketing_engine.clv_selection as selection
    from tests.unit.test_clv_selection import _calibration

    calls = []
    real = selection._compare
    monkeypatch.setattr(selection, "_compare", lambda *a: calls.append(1) or real(*a))
    _COMPARE_CACHE.clear()
    frame = _calibration(customers=400)
    first = compare(frame, ClvSettings())
    second = compare(frame.sample(frac=1.0, random_state=7), ClvSettings())
    assert len(calls) == 1
    assert first is second
    _COMPARE_CACHE.clear()
