"""A loopback HTTP server that speaks the part of Ollama's API the client uses.

POST /api/generate answers from a script of behaviours, one per request (the
last one repeats, or the script cycles with `cycle=True`). A request with a
`format` (structured output) gets a JSON hook, as Ollama would:
good, wrong_pct ("50% off ... plus 20%"), pct_120, invented_code (the code
with "00" appended), invented_pct (50% on any offer), domain (.xyz),
timestamp ("2026-11-08 00:00:00"), empty, overlong, garbage (not JSON),
banned ("cheap"), footer (the opt-out footer with a period), duplicate,
slow (good after `slow_seconds`), 404, 500. Good hooks depend only on the
prompt (as a seeded model would), so answers do not depend on request order.
Requests without `format` get plain text (the older behaviours). Every
request's JSON body is recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _data(prompt: str) -> dict:
    match = re.search(r"<data>\n(.*)\n</data>", prompt, re.DOTALL)
    return json.loads(match.group(1)) if match else {}


VARIANTS = [
    "Hi {{first_name}}! {event} treat for {segment}: {deal} with code {code}.",
    "{{first_name}}, celebrate {event} in style. {segment} save {deal} using {code}.",
    "Hello {{first_name}}, {event} is almost here! Enjoy {deal}, quote {code} at checkout.",
    "Dear {{first_name}}, our {event} gift to {segment}: {deal}. Just use {code}.",
]


def good_answer(prompt: str, variant: int = 0) -> str:
    """A valid answer; `variant` picks one of several wordings, as a model would vary."""
    data = _data(prompt)
    offer, event, segment = data["offer"], data["event"], data["segment"]
    discount = offer["discount_text"]
    deal = f"{discount} off" if discount else offer["name"]
    return VARIANTS[variant % len(VARIANTS)].format(
        event=event["name"], segment=segment["name"], deal=deal, code=offer["code"]
    )


HOOKS = [
    "Hi {{first_name}}! {event} is coming, {segment} first.",
    "{{first_name}}, your {event} glow-up starts here.",
    "Hello {{first_name}}, {event} deserves a treat.",
    "Dear {{first_name}}, a {event} surprise for you.",
    "{{first_name}}, light up {event} with new finds.",
    "Psst {{first_name}}, {event} treats are here.",
    "{{first_name}}, {event} shopping just got sweeter.",
    "Ready for {event}, {{first_name}}? We are.",
]


def good_hook(prompt: str, salt: str = "") -> str:
    """A valid hook chosen by a hash of the prompt's data (deterministic, like a seed)."""
    data = _data(prompt)  # feedback included: a new prompt, a new answer
    digest = int(hashlib.sha256((json.dumps(data, sort_keys=True) + salt).encode()).hexdigest(), 16)
    return HOOKS[digest % len(HOOKS)].format(
        event=data["event"]["name"], segment=data["segment"]["name"]
    )


def bad_hook(action: str, prompt: str) -> str:
    """A hook with the defect `action` names (the model misbehaving)."""
    data = _data(prompt)
    offer, event = data["offer"], data["event"]
    return {
        "wrong_pct": f"{event['name']} special: 50% off everything plus 20% extra!",
        "pct_120": f"Save 120% this {event['name']}!",
        "invented_code": f"Use {offer['code']}00 for {event['name']}!",
        "invented_pct": f"Grab 50% off for {event['name']}!",
        "domain": f"{event['name']} deals at bestdeals.xyz now!",
        "timestamp": f"See you on 2026-11-08 00:00:00 for {event['name']}!",
        "empty": "",
        "overlong": f"{event['name']} is here and " + "we have so much for you " * 12,
        "banned": f"Cheap thrills for {event['name']}!",
        "footer": f"Happy {event['name']}! Reply STOP to opt out.",
        "duplicate": "Hi {first_name}! A festive treat for you.",
        "phone": f"Call 98765 43210 for {event['name']}!",
        "invented_number": f"Only 3 days left for {event['name']}!",
    }[action]


class FakeOllama:
    """Start with `with FakeOllama(["good"]) as server:`; `server.host` is the URL."""

    def __init__(self, script: list[str], slow_seconds: float = 1.0, cycle: bool = False):
        self.script = list(script)
        self.cycle = cycle
        self.slow_seconds = slow_seconds
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer._lock:
                    outer.requests.append({"path": self.path, **body})
                    index = len(outer.requests) - 1
                    action = (
                        outer.script[index % len(outer.script)]
                        if outer.cycle
                        else outer.script[min(index, len(outer.script) - 1)]
                    )
                outer._respond(self, action, body, index)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def _respond(self, handler, action: str, body: dict, index: int) -> None:
        prompt = body.get("prompt", "")
        if action in ("404", "500"):
            status = int(action)
            message = (
                f"model '{body.get('model')}' not found"
                if status == 404
                else "internal server error"
            )
            self._send(handler, status, {"error": message})
            return
        if action == "slow":
            time.sleep(self.slow_seconds)
            action = "good"
        if body.get("format"):
            if action == "garbage":
                text = '{"hook": "Diwali is here'
            elif action == "good":
                seed = str((body.get("options") or {}).get("seed"))
                text = json.dumps({"hook": good_hook(prompt, seed)})
            else:
                text = json.dumps({"hook": bad_hook(action, prompt)})
            self._send(handler, 200, self._payload(body, text))
            return
        text = {
            "good": lambda: good_answer(prompt, index),
            "too_long": lambda: good_answer(prompt) + " " + "Shop now and save big! " * 8,
            "url": lambda: good_answer(prompt) + " Visit https://shop.example.com",
            "non_gsm": lambda: good_answer(prompt) + " \U0001f389\u2728",
            "duplicate": lambda: "Hi {first_name}! A festive treat: 20% off with code SAREE20.",
        }[action]()
        self._send(handler, 200, self._payload(body, text))

    @staticmethod
    def _payload(body: dict, text: str) -> dict:
        return {
            "model": body.get("model"),
            "created_at": "2026-01-01T00:00:00Z",
            "response": text,
            "done": True,
            "done_reason": "stop",
        }

    @staticmethod
    def _send(handler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def __enter__(self) -> FakeOllama:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
