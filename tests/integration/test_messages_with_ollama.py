"""Messages against a loopback Ollama that answers badly: a long series of rebuilds
through the pipeline functions and a DuckDB log, then real dbt builds."""

from __future__ import annotations

import os

import duckdb
import httpx
import ollama
import pandas as pd
import pytest

from marketing_engine.messaging import (
    MessagingSettings,
    OfferFacts,
    OllamaGenerator,
    check_final,
    check_message,
    current_messages,
    generate_messages,
    generation_stats,
    personalize,
    similarity,
    strip_footer,
)
from tests.conftest import run_cli
from tests.fake_ollama import FakeOllama

# Every misbehaviour the fake knows, with good answers and timeouts in between.
BAD_SCRIPT = [
    "wrong_pct", "good", "pct_120", "invented_code", "domain", "slow", "timestamp",
    "empty", "overlong", "garbage", "good", "invented_pct", "banned", "footer",
    "duplicate", "phone", "invented_number", "500", "good",
]  # fmt: skip
SEGMENTS = ["Champions", "At Risk", "New"]
OFFERS = [
    ("OFR01", "percent_discount", 20.0, "Sarees", "SAREE20", 1000.0),
    ("OFR05", "win_back", 25.0, None, "COMEBACK25", 500.0),
    ("OFR07", "free_shipping", None, None, "FREESHIP", 499.0),
    ("OFR04", "early_access", None, "Jewellery", "VIPEARLY", None),
]
EVENTS = ["Diwali", "Black Friday", "Christmas", "New Year", "Holi", "11.11 Sale"]
NAMES = ["Priya", "Alexandriana", "Zo\u00eb", None, "O'Neil-Smith", "{first_name}"]


def week_pairings(week: int) -> pd.DataFrame:
    """The pairings of a weekly campaign: the event and offers change every week."""
    event_id = f"EVT{week:03d}"
    event_date = pd.Timestamp("2026-11-08") + pd.Timedelta(weeks=week)
    rows = []
    for segment in SEGMENTS:
        for offset in (0, 1):
            offer_id, kind, pct, category, code, spend = OFFERS[(week + offset) % len(OFFERS)]
            rows.append(
                {
                    "pairing_id": f"{segment} | {event_id} | {offer_id}",
                    "segment_name": segment,
                    "segment_description": "Bought recently.",
                    "segment_customers": 100 + week,
                    "event_id": event_id,
                    "event_name": EVENTS[week % len(EVENTS)],
                    "event_date": event_date,
                    "offer_id": offer_id,
                    "offer_name": f"Offer {offer_id}",
                    "offer_type": kind,
                    "discount_pct": pct,
                    "offer_category": category,
                    "offer_code": code,
                    "min_spend": spend,
                    "valid_to": event_date + pd.Timedelta(days=20 + week % 5),
                }
            )
    return pd.DataFrame(rows)


def assert_every_message_is_sendable(current, pairings, config, earlier):
    """Non-empty, exact facts, footer once, one SMS with any name, no repeat of
    another campaign's message (earlier: pairing_id -> footer-free bodies)."""
    by_id = pairings.set_index("pairing_id")
    assert current["message_text"].is_unique
    assert (current["validation_status"] == "valid").all()
    for row in current.to_dict("records"):
        body = strip_footer(row["message_text"], config)
        facts = OfferFacts.from_pairing(by_id.loc[row["pairing_id"]].to_dict(), config)
        assert body.strip(), row
        assert check_message(body, facts, config) == [], row["message_text"]
        for name in NAMES:
            assert check_final(personalize(row["message_text"], name, config), config) == []
        for pairing_id, bodies in earlier.items():
            if pairing_id != row["pairing_id"]:
                assert all(similarity(body, old) < 0.7 for old in bodies), row["message_text"]


def test_a_badly_answering_model_never_gives_a_bad_message_and_rebuilds_are_free(tmp_path):
    config = MessagingSettings(
        timeout_seconds=0.3,
        max_retries=0,
        backoff_seconds=0.0,
        avoid_words=("cheap",),
        time_budget_seconds=600,
    )
    con = duckdb.connect(str(tmp_path / "log.duckdb"))
    earlier: dict[str, set[str]] = {}
    reasons: set[str] = set()
    generators: set[str] = set()
    previous = None
    with FakeOllama(BAD_SCRIPT, slow_seconds=0.6, cycle=True) as server:
        client = ollama.Client(host=server.host, timeout=config.timeout_seconds)
        for build in range(18):
            changed = build % 3 == 0
            pairings = week_pairings(build // 3)
            history = con.sql("select * from marketing_message_log").df() if build else None
            calls = server.calls
            new = generate_messages(
                pairings,
                config,
                history,
                OllamaGenerator(config, client=client),
                pd.Timestamp("2026-11-01") + pd.Timedelta(hours=build),
            )
            con.register("new_rows", new)
            if build == 0:
                con.execute("create table marketing_message_log as select * from new_rows")
            else:
                con.execute("insert into marketing_message_log by name select * from new_rows")
            con.unregister("new_rows")
            log = con.sql("select * from marketing_message_log").df()
            current = current_messages(pairings, log, config)
            if not changed:  # unchanged inputs: not one call, not one changed word
                assert server.calls == calls and new.empty, build
                assert current["message_text"].tolist() == previous["message_text"].tolist()
            else:
                assert server.calls > calls and len(new) == len(pairings)
            assert_every_message_is_sendable(current, pairings, config, earlier)
            for row in current.to_dict("records"):
                earlier.setdefault(row["pairing_id"], set()).add(
                    strip_footer(row["message_text"], config)
                )
            stats = generation_stats(current)
            reasons |= set(stats["reason_code"])
            generators |= set(current["generator"])
            previous = current
    assert generators == {"ollama", "template"}
    assert {
        "accepted", "wrong_percentage", "wrong_code", "url", "digit_date", "empty",
        "too_long", "not_json", "banned_word", "phone", "invented_number", "timeout",
    } <= reasons  # fmt: skip


def test_build_uses_ollama_caches_every_message_and_regenerates_on_request(tmp_path):
    script = ["good", "wrong_pct", "good", "garbage", "domain", "good", "invented_code", "good"]
    with FakeOllama(script, cycle=True) as server:
        first = run_cli(tmp_path, "build", env={"OLLAMA_HOST": server.host})
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert "pairings asked of the model, done" in first.stdout  # progress on the console
        with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
            before = con.execute(
                "select pairing_id, message_text, generator from marts.marketing_messages "
                "order by pairing_id"
            ).fetchall()
            stats = con.execute(
                "select reason_code, attempts, attempts_total from marts.message_generation_stats"
            ).fetchall()
            # Independent count: every ';'-separated attempt in marketing_messages.
            attempts = con.execute(
                "select count(*) from (select unnest(string_split(attempt_outcomes, ';')) "
                "as outcome from marts.marketing_messages) where outcome <> 'unreachable'"
            ).fetchone()[0]
            accepted = con.execute(
                "select count(*) from marts.marketing_messages where generator = 'ollama'"
            ).fetchone()[0]
            texts = [r[0] for r in con.execute(
                "select personalized_text from marts.customer_messages"
            ).fetchall()]  # fmt: skip
        assert {g for _, _, g in before} == {"ollama", "template"} and accepted > 0
        assert dict((r, a) for r, a, _ in stats)["accepted"] == accepted
        assert {total for _, _, total in stats} == {attempts}
        assert server.calls >= attempts
        config = MessagingSettings()
        assert texts and all(check_final(text, config) == [] for text in texts)

        calls = server.calls
        second = run_cli(tmp_path, "build", env={"OLLAMA_HOST": server.host})
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert server.calls == calls  # unchanged inputs: no LLM call at all
        with duckdb.connect(str(tmp_path / "marketing.duckdb"), read_only=True) as con:
            after = con.execute(
                "select pairing_id, message_text, generator from marts.marketing_messages "
                "order by pairing_id"
            ).fetchall()
        assert after == before  # a rebuild rewords nothing

        third = run_cli(
            tmp_path,
            "build",
            "--select",
            "marketing_message_log+",
            "--regenerate-messages",
            env={"OLLAMA_HOST": server.host},
        )
        assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
        assert server.calls > calls
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        fresh = dict(
            con.execute("select pairing_id, message_text from marts.marketing_messages").fetchall()
        )
    assert all(fresh[pid] != text for pid, text, _ in before)


def _real_ollama() -> str | None:
    host = os.environ.get("OLLAMA_HOST")
    if not host:
        return None
    try:
        httpx.get(f"{host}/api/tags", timeout=2).raise_for_status()
    except httpx.HTTPError:
        return None
    return host


@pytest.mark.skipif(_real_ollama() is None, reason="no Ollama server answers at OLLAMA_HOST")
def test_real_ollama_writes_valid_messages(tmp_path):
    result = run_cli(tmp_path, "build", env={"OLLAMA_HOST": _real_ollama()})
    assert result.returncode == 0, result.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        valid = con.execute(
            "select count(*) from marts.marketing_messages where validation_status = 'valid'"
        ).fetchone()[0]
    assert valid > 0
