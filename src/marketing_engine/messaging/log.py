"""The message log: the cache that makes rebuilds free and messages stable.

One log row per decision about a pairing's cache key (its prompt data, model
and settings). A rebuild reuses the newest row of each key and makes no call:
for model messages, and for template fallbacks after the model's answers were
rejected or it timed out. Only a fallback that never reached the model
(server unreachable, model not pulled, time budget spent, Ollama disabled)
is tried again, and only
`regenerate` writes new copy for an unchanged key. New copy must not be a
near-duplicate of any earlier *different* campaign's message (other pairing
ids) nor of this run's other messages; if no valid text exists the run stops
with a MessagingError naming the pairing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from marketing_engine import sms
from marketing_engine.messaging.client import Failure, OllamaGenerator
from marketing_engine.messaging.facts import Composition, OfferFacts, composition, with_footer
from marketing_engine.messaging.prompt import build_prompt, cache_key
from marketing_engine.messaging.settings import MessagingError, MessagingSettings
from marketing_engine.messaging.templates import template_hooks
from marketing_engine.messaging.validation import (
    REASONS,
    Problem,
    ShingleIndex,
    check_message,
    near_duplicate,
    shingles,
    strip_footer,
    tidy_hook,
)

LOG_COLUMNS = [
    "prompt_hash",
    "pairing_id",
    "segment_name",
    "event_id",
    "offer_id",
    "model_name",
    "generator",
    "fallback_cause",
    "message_text",
    "validation_status",
    "validation_reasons",
    "attempt_outcomes",
    "attempts",
    "generation",
    "character_count",
    "sms_encoding",
    "sms_parts",
    "created_at",
]
INT_COLUMNS = ("attempts", "generation", "character_count", "sms_parts")

# marketing_messages: the pairing, then how its message was made.
MESSAGE_COLUMNS = [
    "pairing_id",
    "segment_name",
    "segment_source",
    "event_id",
    "event_name",
    "offer_id",
    "offer_name",
    "offer_type",
    "offer_code",
    "rationale",
    "priority",
    "prompt_hash",
    "model_name",
    "generator",
    "fallback_cause",
    "message_text",
    "validation_status",
    "validation_reasons",
    "attempt_outcomes",
    "attempts",
    "character_count",
    "sms_encoding",
    "sms_parts",
    "event_date",
    "created_at",
]
# Fallbacks that never heard the model: tried again when it can answer.
RETRY_CAUSES = {"unavailable", "disabled"}


@dataclass
class ModelResult:
    """What asking the model for one pairing gave."""

    body: str | None = None
    outcomes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # The server took the request (an answer, a timeout or a server error): a
    # fallback after that is cached; one that never reached it is tried again.
    reached: bool = False


class Progress:
    """'messages: 12/42 pairings done, about 3m10s left' on the console, about every 10%."""

    def __init__(self, total: int, echo: Callable[[str], None] | None, clock=time.monotonic):
        self.total, self.echo, self.clock = total, echo, clock
        self.done, self.started, self.shown = 0, clock(), -1
        self._lock = threading.Lock()  # steps come from the worker threads

    def step(self) -> None:
        with self._lock:
            self._step()

    def _step(self) -> None:
        self.done += 1
        if not self.echo or not self.total:
            return
        tenth = self.done * 10 // self.total
        if tenth == self.shown and self.done != self.total:
            return
        self.shown = tenth
        elapsed = self.clock() - self.started
        left = elapsed / self.done * (self.total - self.done)
        eta = (
            f"about {int(left // 60)}m{int(left % 60):02d}s left"
            if self.done < self.total
            else "done"
        )
        self.echo(f"messages: {self.done}/{self.total} pairings asked of the model, {eta}")


def _empty_log() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in LOG_COLUMNS})


def normalize_log(history: pd.DataFrame | None) -> pd.DataFrame:
    """The log with every current column (a log from an older version lacks some)."""
    if history is None or history.empty:
        history = _empty_log() if history is None else history
    history = history.copy()
    for column in LOG_COLUMNS:
        if column not in history.columns:
            history[column] = pd.NA
    history["generation"] = pd.to_numeric(history["generation"]).fillna(1).astype("int64")
    return history[LOG_COLUMNS]


def latest_rows(log: pd.DataFrame) -> pd.DataFrame:
    """The newest decision per cache key (highest generation, then latest)."""
    return (
        log.sort_values(["generation", "created_at"], ascending=False, na_position="last")
        .drop_duplicates("prompt_hash")
        .set_index("prompt_hash", drop=False)
    )


@lru_cache(maxsize=200_000)
def _body_shingles(text: str, footer: str) -> frozenset:
    """Shingles of a logged message without its footer (memoized: the log only grows)."""
    return shingles(strip_footer(text, MessagingSettings(opt_out_footer=footer)))


def _parse_hook(answer: str) -> str | Problem:
    try:
        data = json.loads(answer)
    except (json.JSONDecodeError, TypeError):
        return Problem("not_json", "the answer was not JSON with a hook")
    if not isinstance(data, dict) or not isinstance(data.get("hook"), str):
        return Problem("not_json", "the answer was not JSON with a hook")
    return data["hook"]


def ask_model(
    pairing: dict,
    facts: OfferFacts,
    comp: Composition,
    settings: MessagingSettings,
    generator: OllamaGenerator,
    earlier: ShingleIndex,
    skip: object,
    seed: int,
    result: ModelResult | None = None,
    feedback: list[str] | None = None,
) -> ModelResult:
    """Answers until one is valid or max_attempts (counting `result`'s earlier ones)
    are used; each rejected answer's reasons go back inside the fence."""
    result = result or ModelResult()
    feedback = list(feedback or [])
    for _ in range(settings.max_attempts - len(result.outcomes)):
        system, user = build_prompt(pairing, settings, comp.hook_limit, feedback)
        answer = generator.generate(system, user, seed=seed)
        if isinstance(answer, Failure):
            result.outcomes.append(answer.code)
            result.reasons.append(answer.reason)
            result.reached = result.reached or answer.reachable
            break
        result.reached = True
        hook = _parse_hook(answer)
        if isinstance(hook, Problem):
            problems = [hook]
        else:
            hook = tidy_hook(hook, settings)
            body = comp.body(hook)
            problems = (
                [Problem("empty", "empty hook")]
                if not hook
                else check_message(body, facts, settings)
            )
            duplicate = (
                None
                if problems
                else near_duplicate(body, earlier, settings.similarity_threshold, skip)
            )
            problems += [duplicate] if duplicate else []
            if not problems:
                result.body = body
                result.outcomes.append("accepted")
                return result
        result.outcomes.append(",".join(sorted({p.code for p in problems})))
        result.reasons += [str(p) for p in problems]
        feedback = [str(p) for p in problems]
    return result


def template_body(
    pairing: dict,
    facts: OfferFacts,
    comp: Composition,
    settings: MessagingSettings,
    start: int,
    earlier: ShingleIndex,
    skip: object,
) -> str:
    """The first template that validates and repeats no earlier campaign; else fail."""
    seen: dict[str, int] = {}
    tried = 0
    for hook in template_hooks(str(pairing.get("segment_name") or ""), facts.event_name, start):
        tried += 1
        body = comp.body(hook)
        problems = check_message(body, facts, settings)
        duplicate = (
            None if problems else near_duplicate(body, earlier, settings.similarity_threshold, skip)
        )
        problems += [duplicate] if duplicate else []
        if not problems:
            return body
        for problem in problems:
            seen[str(problem)] = seen.get(str(problem), 0) + 1
    top = max(seen, key=lambda problem: seen[problem]) if seen else "no template"
    raise MessagingError(
        f"pairing {pairing.get('pairing_id')}: none of the {tried} template messages is "
        f"valid (most often: {top}). Fix: check the offer's facts and the messaging "
        "config's avoid_words, or rebuild with --regenerate-messages after "
        "`dbt build --full-refresh -s marketing_message_log` to clear the history."
    )


def _row(
    pairing: dict,
    key: str,
    settings: MessagingSettings,
    body: str,
    generator: str,
    cause: str | None,
    reasons: list[str],
    outcomes: list[str],
    generation: int,
) -> dict:
    text = with_footer(body, settings)
    return {
        "prompt_hash": key,
        "pairing_id": pairing["pairing_id"],
        "segment_name": pairing["segment_name"],
        "event_id": pairing["event_id"],
        "offer_id": pairing["offer_id"],
        "model_name": settings.model,
        "generator": generator,
        "fallback_cause": cause,
        "message_text": text,
        "validation_status": "valid",
        "validation_reasons": "; ".join(dict.fromkeys(reasons)) or None,
        "attempt_outcomes": ";".join(outcomes) or None,
        "attempts": sum(1 for o in outcomes if o not in ("unreachable",)),
        "generation": generation,
        "character_count": sms.length(text),
        "sms_encoding": sms.encoding(text),
        "sms_parts": sms.parts(text),
    }


def generate_messages(
    pairings: pd.DataFrame,
    settings: MessagingSettings,
    history: pd.DataFrame | None,
    generator: OllamaGenerator | None,
    now: pd.Timestamp,
    echo: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """New log rows for the pairings whose key has no reusable decision in `history`."""
    history = normalize_log(history)
    latest = latest_rows(history)
    records = pairings.sort_values("pairing_id").to_dict("records")
    use_model = settings.use_ollama and generator is not None
    plans = []
    for pairing in records:
        key = cache_key(pairing, settings)
        cached = latest.loc[key] if key in latest.index else None
        facts = OfferFacts.from_pairing(pairing, settings)
        # A cached message is checked again: one that today's checks refuse
        # (written before a check was added) gets new copy, never sent.
        still_valid = cached is not None and not check_message(
            strip_footer(str(cached["message_text"]), settings), facts, settings
        )
        if cached is not None and still_valid and not settings.regenerate:
            if cached["generator"] == "ollama" or cached["fallback_cause"] not in RETRY_CAUSES:
                continue
            if not use_model:
                continue
        generation = int(cached["generation"]) + 1 if cached is not None else 1
        plans.append((pairing, key, facts, composition(facts, settings), cached, generation))

    # Earlier messages, owned by their pairing: a campaign may repeat its own
    # copy (that is the cache), never another's; regenerating skips nothing.
    earlier = ShingleIndex()
    for pid, text in zip(history["pairing_id"], history["message_text"], strict=True):
        if not pd.isna(text):
            earlier.add(_body_shingles(text, settings.opt_out_footer), pid)

    def skip_for(pairing: dict) -> object:
        return None if settings.regenerate else pairing["pairing_id"]

    results: dict[str, ModelResult] = {}
    if use_model and plans:
        if echo:
            echo(
                f"messages: asking {settings.model} at {settings.ollama_host()} for "
                f"{len(plans)} of {len(records)} pairings (the rest are cached); "
                f"budget {settings.time_budget_seconds:g}s, concurrency {settings.concurrency}"
            )
        progress = Progress(len(plans), echo)

        def ask(plan) -> tuple[str, ModelResult]:
            pairing, key, facts, comp, _, generation = plan
            assert generator is not None  # plans are only made when the model is used
            result = ask_model(
                pairing,
                facts,
                comp,
                settings,
                generator,
                earlier,
                skip_for(pairing),
                settings.seed + generation - 1,
            )
            progress.step()
            return key, result

        with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
            results = dict(pool.map(ask, plans))

    rows = []
    for pairing, key, facts, comp, cached, generation in plans:
        result = results.get(key, ModelResult())
        if result.body is not None:
            duplicate = near_duplicate(
                result.body, earlier, settings.similarity_threshold, skip_for(pairing)
            )
            if duplicate is not None and generator is not None:
                # Too close to a message of this run: ask again (in pairing order,
                # so the outcome does not depend on concurrency) while attempts last.
                result.outcomes[-1] = "near_duplicate"
                result.reasons.append(str(duplicate))
                result.body = None
                result = ask_model(
                    pairing, facts, comp, settings, generator, earlier, skip_for(pairing),
                    settings.seed + generation - 1, result, [str(duplicate)],
                )  # fmt: skip
        if result.body is not None:
            rows.append(
                _row(pairing, key, settings, result.body, "ollama", None,
                     result.reasons, result.outcomes, generation)
            )  # fmt: skip
            earlier.add(shingles(result.body), pairing["pairing_id"])
            continue
        if (
            not result.reached
            and cached is not None
            and not settings.regenerate
            and not check_message(
                strip_footer(str(cached["message_text"]), settings), facts, settings
            )
        ):
            continue  # still no answer: keep the valid cached fallback as it is
        if not use_model:
            cause = "disabled"
            reasons = ["Ollama disabled in config (messaging use_ollama)"]
        elif result.reached:
            cause, reasons = "rejected", result.reasons
        else:
            cause = "unavailable"
            unavailable = generator.unavailable if generator is not None else None
            reasons = result.reasons or [unavailable or "no answer"]
        start = int(key[:8], 16) + 7919 * (generation - 1)
        body = template_body(pairing, facts, comp, settings, start, earlier, skip_for(pairing))
        rows.append(
            _row(
                pairing,
                key,
                settings,
                body,
                "template",
                cause,
                reasons,
                result.outcomes,
                generation,
            )
        )
        earlier.add(shingles(body), pairing["pairing_id"])
    frame = pd.DataFrame(rows, columns=[c for c in LOG_COLUMNS if c != "created_at"])
    frame["created_at"] = pd.Series([now] * len(frame), dtype="datetime64[us]")
    for column in INT_COLUMNS:
        frame[column] = frame[column].astype("int64")
    for column in set(LOG_COLUMNS) - set(INT_COLUMNS) - {"created_at"}:
        frame[column] = frame[column].astype("string")
    return frame[LOG_COLUMNS]


def current_messages(
    pairings: pd.DataFrame, log: pd.DataFrame, settings: MessagingSettings
) -> pd.DataFrame:
    """One row per pairing: the newest log decision for its cache key."""
    hashes = [cache_key(p, settings) for p in pairings.to_dict("records")]
    keyed = pairings.assign(prompt_hash=pd.Series(hashes, index=pairings.index, dtype="string"))
    log = normalize_log(log).astype({"prompt_hash": "string"})
    newest = latest_rows(log).reset_index(drop=True)
    from_log = [c for c in LOG_COLUMNS if c not in keyed.columns or c == "prompt_hash"]
    merged = keyed.merge(newest[from_log], on="prompt_hash", how="left")
    missing = merged.loc[merged["message_text"].isna(), "pairing_id"].tolist()
    if missing:
        raise MessagingError(
            f"no message in marketing_message_log for {len(missing)} pairing(s), e.g. "
            f"{missing[0]}; rebuild marketing_message_log (it runs before marketing_messages)."
        )
    return merged[[c for c in MESSAGE_COLUMNS if c in merged.columns]]


STATS_COLUMNS = [
    "reason_code",
    "reason",
    "attempts",
    "pairings",
    "attempts_total",
    "share_of_attempts",
    "is_accepted",
]


def generation_stats(messages: pd.DataFrame) -> pd.DataFrame:
    """One row per outcome of asking the model (accepted, or each rejection reason):
    attempts with it, pairings affected, all attempts, its share of all attempts."""
    counts: dict[str, int] = {}
    pairings: dict[str, set] = {}
    total = 0
    for pid, outcomes in zip(messages["pairing_id"], messages["attempt_outcomes"], strict=True):
        if pd.isna(outcomes) or not outcomes:
            continue
        for attempt in str(outcomes).split(";"):
            if attempt == "unreachable":
                continue  # never reached the model: not an attempt
            total += 1
            for code in attempt.split(","):
                counts[code] = counts.get(code, 0) + 1
                pairings.setdefault(code, set()).add(pid)
    rows = [
        {
            "reason_code": code,
            "reason": REASONS.get(code, code),
            "attempts": count,
            "pairings": len(pairings[code]),
            "attempts_total": total,
            "share_of_attempts": count / total,
            "is_accepted": code == "accepted",
        }
        for code, count in counts.items()
    ]
    frame = pd.DataFrame(rows, columns=STATS_COLUMNS)
    frame = frame.sort_values(
        ["is_accepted", "attempts", "reason_code"], ascending=[False, False, True]
    )
    return frame.astype(
        {
            "reason_code": "string",
            "reason": "string",
            "attempts": "int64",
            "pairings": "int64",
            "attempts_total": "int64",
            "share_of_attempts": "float64",
            "is_accepted": "bool",
        }
    ).reset_index(drop=True)
