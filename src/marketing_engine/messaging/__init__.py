"""Marketing messages per segment x event x offer: a local LLM through Ollama, validated.

One module per job:
* `settings`   the `messaging` config (dbt vars and environment variables);
* `facts`      the offer's facts and the SMS composed from them by code;
* `validation` tokenised fact checks, links, phone numbers, banned words, SMS size;
* `prompt`     the hook prompt (JSON schema, human dates, fenced data) and cache key;
* `templates`  fallback hooks from ~900 combinations per pairing;
* `client`     the Ollama client (structured output, timeouts, retries, budget);
* `log`        the message log: cache, generation, current messages, statistics;
* `schedule`   first names and send times inside quiet hours.

Safety by construction: the model writes only the hook; discount, code,
minimum spend, end date and the opt-out footer are written by code; every
message is validated before it is logged; first names are merged after
generation, so a name can never steer the model.
"""

from marketing_engine.messaging.client import Failure, OllamaGenerator
from marketing_engine.messaging.facts import (
    OfferFacts,
    clean_text,
    composition,
    human_date,
    offer_lines,
    with_footer,
)
from marketing_engine.messaging.log import (
    LOG_COLUMNS,
    MESSAGE_COLUMNS,
    STATS_COLUMNS,
    current_messages,
    generate_messages,
    generation_stats,
)
from marketing_engine.messaging.prompt import HOOK_SCHEMA, build_prompt, cache_key, prompt_data
from marketing_engine.messaging.schedule import ScheduleSettings, personalize, schedule
from marketing_engine.messaging.settings import (
    NAME_TOKEN,
    MessagingError,
    MessagingSettings,
)
from marketing_engine.messaging.validation import (
    REASONS,
    Problem,
    check_final,
    check_message,
    near_duplicate,
    similarity,
    strip_footer,
    tidy_hook,
)

__all__ = [
    "HOOK_SCHEMA",
    "LOG_COLUMNS",
    "MESSAGE_COLUMNS",
    "NAME_TOKEN",
    "REASONS",
    "STATS_COLUMNS",
    "Failure",
    "MessagingError",
    "MessagingSettings",
    "OfferFacts",
    "OllamaGenerator",
    "Problem",
    "ScheduleSettings",
    "build_prompt",
    "cache_key",
    "check_final",
    "check_message",
    "clean_text",
    "composition",
    "current_messages",
    "generate_messages",
    "generation_stats",
    "human_date",
    "near_duplicate",
    "offer_lines",
    "personalize",
    "prompt_data",
    "schedule",
    "similarity",
    "strip_footer",
    "tidy_hook",
    "with_footer",
]
