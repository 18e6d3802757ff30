"""A loopback HTTP server that speaks the part of Ollama's API the client uses.

POST /api/generate answers from a script of behaviours, one per request (the
last one repeats): good, too_long, url, non_gsm, duplicate, slow, 404, 500.
Good answers echo the offer's discount and code from the prompt's <data> block,
so they pass validation. Every request's JSON body is recorded.
"""

from __future__ import annotations

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


class FakeOllama:
    """Start with `with FakeOllama(["good"]) as server:`; `server.host` is the URL."""

    def __init__(self, script: list[str], slow_seconds: float = 1.0):
        self.script = list(script)
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
                    action = outer.script[min(index, len(outer.script) - 1)]
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
        text = {
            "good": lambda: good_answer(prompt, index),
            "too_long": lambda: good_answer(prompt) + " " + "Shop now and save big! " * 8,
            "url": lambda: good_answer(prompt) + " Visit https://shop.example.com",
            "non_gsm": lambda: good_answer(prompt) + " \U0001f389\u2728",
            "duplicate": lambda: "Hi {first_name}! A festive treat: 20% off with code SAREE20.",
        }[action]()
        self._send(
            handler,
            200,
            {
                "model": body.get("model"),
                "created_at": "2026-01-01T00:00:00Z",
                "response": text,
                "done": True,
                "done_reason": "stop",
            },
        )

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
