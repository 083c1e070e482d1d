"""A sample webhook receiver for national developers to start from (``events listen``).

It checks each request as Standard Webhooks says (the ``standardwebhooks`` library: the
signature over id, timestamp and body, and a timestamp within five minutes so a recorded
request cannot be replayed later), drops repeats by ``webhook-id`` (a notification is sent
again when the gateway did not learn that it arrived), and hands each new CloudEvent on.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

MAX_BODY = 1 << 20
# Ids remembered for dedupe; a repeat comes within the gateway's retry window.
REMEMBERED_IDS = 100_000


class Receiver:
    """Verification and dedupe, apart from HTTP so it can be reused behind any server."""

    def __init__(self, secret: str, on_event: Callable[[dict[str, Any]], None]) -> None:
        self.webhook = Webhook(secret)
        self.on_event = on_event
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.lock = threading.Lock()
        self.accepted = 0
        self.repeats = 0
        self.rejected = 0

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        """The HTTP status to answer: 204 taken (or a repeat), 400 unverifiable."""
        try:
            event = self.webhook.verify(body, headers)
        except (WebhookVerificationError, ValueError):
            with self.lock:
                self.rejected += 1
            return 400
        webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        with self.lock:
            if webhook_id in self.seen:
                self.repeats += 1
                return 204
            self.seen[webhook_id] = None
            if len(self.seen) > REMEMBERED_IDS:
                self.seen.popitem(last=False)
            self.accepted += 1
        self.on_event(event)
        return 204


def serve(receiver: Receiver, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """An HTTP server posting every request body to ``receiver`` (call ``serve_forever``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(length)
            status = receiver.handle(body, dict(self.headers.items()))
            self.send_response(status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return  # events are printed by the caller; request lines would only repeat them

    return ThreadingHTTPServer((host, port), Handler)


def print_event(event: dict[str, Any]) -> None:
    """One JSON line per event, for piping into whatever comes next."""
    print(json.dumps(event, sort_keys=True), flush=True)
