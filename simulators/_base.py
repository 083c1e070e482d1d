"""What every destination simulator shares: a real HTTP server with an inbox and injected faults.

A simulator stands in for one destination channel. It checks each arriving body with the
channel adapter's own ``validate_payload``, de-duplicates on ``Idempotency-Key`` (a repeat gets
the original receipt, flagged duplicate, and is counted), records ``traceparent``, and keeps an
inbox readable over HTTP and in process. Faults are queued over HTTP and each one is consumed by
the next arriving request:

    POST /_sim/faults   {"faults": [{"kind": "status", "status": 503, "retry_after": "2"},
                                    {"kind": "latency", "seconds": 0.2},
                                    {"kind": "timeout", "seconds": 2},
                                    {"kind": "drop"}, {"kind": "malformed"},
                                    {"kind": "soap_client_fault"}, {"kind": "soap_server_fault"},
                                    {"kind": "answer", "seconds": 0.5, "mode": "push"},
                                    {"kind": "tamper"}]}
                        a ``status`` or SOAP fault may name the destination's own error:
                        {"kind": "status", "status": 400, "code": "E_REF", "text": "..."}
    DELETE /_sim/faults     clear the queue
    POST /_sim/keys         the gateway's published JWK set ({"keys": [...]}): from then on
                            every payload must carry a valid gateway signature (``null``: off)
    GET /_sim/inbox         accepted deliveries (oldest first);  DELETE /_sim/inbox  empties it
    GET /_sim/stats         counters: received, accepted, duplicates, rejected, faults, answered
    POST /_sim/answers      {"push_url": ..., "token": ..., "auto": {"seconds": 1}}: where
                            replies are pushed, and whether every message gets one
    GET /<poll path>?after=N  replies held for the gateway to fetch (poll channels)

``status`` answers with that code and never stores the request. ``tamper`` changes one
character of the arriving payload's content before it is checked, as a fault on the way would.
``answer`` accepts the request and replies to it later (``simulators/_answers.py``).
``timeout``, ``drop`` and
``malformed`` accept the request first (it arrived, as it would at a real destination whose
answer is lost), so a resend with the same key is answered as a duplicate.

Given the gateway's JWK set (``trusted_keys``, ``POST /_sim/keys``, or at start), a simulator
checks the gateway's signature on every payload with the adapter's ``verify_signature`` before
anything else, and refuses a missing or broken one as it refuses a schema violation (400, or a
SOAP ``Client`` fault): permanent, never stored. Without keys it takes a signature off
unchecked (``without_signature``) before the schema check, as a receiver that does not check
would.

Channel modules (``simulators/<channel>.py``) subclass ``ChannelSimulator`` (REST, JSON
receipts) or ``SoapSimulator`` (``simulators/_soap.py``) and expose ``build(adapter)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters._signing import SignatureInvalid, trusted_keys
from adapters.base import Adapter
from adapters.inbound import InboundMessage
from simulators._answers import Answerer, AnswerPlan
from simulators._tamper import tampered

__all__ = [
    "FAULT_KINDS",
    "ChannelSimulator",
    "DropConnection",
    "Fault",
    "InboxEntry",
    "SimReply",
]

FAULT_KINDS = frozenset(
    {
        "status",
        "latency",
        "timeout",
        "drop",
        "malformed",
        "soap_client_fault",
        "soap_server_fault",
        "answer",
        "tamper",
    }
)


@dataclass(frozen=True)
class SimReply:
    """An HTTP answer the simulator gives."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour, consumed by the next request."""

    kind: str
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    # ``answer``: push or hold (default: as the channel answers), and parts of the reply.
    mode: str | None = None
    answer: Mapping[str, str] = field(default_factory=dict)
    # ``status`` and SOAP faults: the destination's own error code and text in the reply.
    code: str | None = None
    text: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Fault:
        kind = str(raw.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        retry_after = raw.get("retry_after")
        mode = raw.get("mode")
        if mode not in (None, "push", "hold"):
            raise ValueError("answer mode must be push or hold")
        options = raw.get("answer") or {}
        if not isinstance(options, dict):
            raise ValueError("answer options must be an object")
        return cls(
            kind=kind,
            status=int(raw.get("status", 500)),
            retry_after=None if retry_after is None else str(retry_after),
            seconds=float(raw.get("seconds", 0.0)),
            mode=mode,
            answer={str(k): str(v) for k, v in options.items()},
            code=None if raw.get("code") is None else str(raw["code"]),
            text=None if raw.get("text") is None else str(raw["text"]),
        )

    def plan(self) -> AnswerPlan:
        return AnswerPlan(self.seconds, self.mode, self.answer)


@dataclass
class InboxEntry:
    """One accepted delivery as the destination saw it."""

    reference: str
    idempotency_key: str | None
    traceparent: str | None
    content_type: str | None
    headers: dict[str, str]
    body: str
    duplicates: int = 0


class DropConnection(Exception):
    """Raised after the response has started so the server closes the connection mid-reply."""


class ChannelSimulator:
    """Base simulator: REST with JSON receipts. Override the ``*_reply`` methods per channel."""

    success_status = 201
    # Where our message id sits in the payloads this channel takes (echoed in its replies).
    originator_field = "message_id"
    answers_carry_persons = True
    answer_content_type = "application/xml"

    def __init__(self, adapter: Adapter, *, jwks: Mapping[str, Any] | None = None) -> None:
        self.adapter = adapter
        self.channel = adapter.name
        # The gateway's keys; None accepts unsigned payloads (the kit's own render checks).
        self.trusted_keys: KeySet | None = None if jwks is None else trusted_keys(jwks)
        self._lock = threading.Lock()
        self._inbox: list[InboxEntry] = []
        self._by_key: dict[str, InboxEntry] = {}
        self._faults: list[Fault] = []
        self.stats: dict[str, int] = {
            "received": 0,
            "accepted": 0,
            "duplicates": 0,
            "rejected": 0,
            "faults": 0,
            "answered": 0,
            "unsigned": 0,
        }
        self.answers = Answerer(self)
        # Where the simulator listens, once a server says so; served descriptions name it.
        self.address: str | None = None
        self.app = self._build_app()

    # -- channel-specific answers ------------------------------------------------------------

    def reference_for(self, body: bytes, key: str | None) -> str:
        """A stable destination reference: derived from the key (or the bytes) alone."""
        seed = key.encode() if key else body
        return f"{self.channel.upper()}-{hashlib.sha256(seed).hexdigest()[:16]}"

    def success_reply(self, entry: InboxEntry, duplicate: bool) -> SimReply:
        body = json.dumps({"reference": entry.reference, "duplicate": duplicate}).encode()
        return SimReply(200 if duplicate else self.success_status, body, "application/json")

    def rejection_reply(self, problems: list[str]) -> SimReply:
        body = json.dumps({"error": "invalid payload", "problems": problems}).encode()
        return SimReply(400, body, "application/json")

    def fault_reply(self, fault: Fault) -> SimReply:
        """Answer for ``status`` faults and for SOAP faults on a REST channel (plain statuses)."""
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        status = fault.status
        if fault.kind == "soap_client_fault":
            status = 400
        elif fault.kind == "soap_server_fault":
            status = 500
        error = {
            "code": fault.code or f"injected_{fault.kind}",
            "message": fault.text or f"injected {fault.kind}",
        }
        return SimReply(status, json.dumps({"error": error}).encode(), "application/json", headers)

    def malformed_reply(self) -> SimReply:
        return SimReply(200, b'{"reference": ', "application/json")

    def answer_payload(self, answer: InboundMessage) -> tuple[bytes, str]:
        """A pushed reply in the channel's inbound format (push channels override this)."""
        raise NotImplementedError(f"{self.channel} does not push replies")

    def held_payload(self, answers: list[InboundMessage], cursor: str) -> tuple[bytes, str]:
        """A page of held replies in the channel's poll format (poll channels override this)."""
        raise NotImplementedError(f"{self.channel} is not polled")

    # -- in-process access ---------------------------------------------------------------

    def inbox(self) -> list[InboxEntry]:
        with self._lock:
            return list(self._inbox)

    def clear(self) -> None:
        with self._lock:
            self._inbox.clear()
            self._by_key.clear()
            self._faults.clear()
            for key in self.stats:
                self.stats[key] = 0

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    # -- request handling ----------------------------------------------------------------

    def trust(self, jwks: Mapping[str, Any] | None) -> None:
        """Check every later payload against ``jwks`` (the gateway's published keys); None: off."""
        keys = None if jwks is None else trusted_keys(jwks)
        with self._lock:
            self.trusted_keys = keys

    def _as_rendered(self, body: bytes, request: Request) -> bytes | list[str]:
        """The payload as the gateway rendered it, once its signature holds (when checked)."""
        keys = self.trusted_keys
        if keys is None:
            # Not told the gateway's keys: read the payload as rendered, unchecked.
            return self.adapter.without_signature(body)
        try:
            return self.adapter.verify_signature(body, request.headers, keys)
        except SignatureInvalid as exc:
            with self._lock:
                self.stats["unsigned"] += 1
            return [f"signature: {exc}"]

    def _accept(self, body: bytes, request: Request) -> tuple[InboxEntry, bool] | list[str]:
        """Store an arriving body, or return the problems that make it unacceptable."""
        key = request.headers.get("idempotency-key")
        rendered = self._as_rendered(body, request)
        with self._lock:
            self.stats["received"] += 1
            if isinstance(rendered, list):
                self.stats["rejected"] += 1
                return rendered
            if key is not None and key in self._by_key:
                entry = self._by_key[key]
                entry.duplicates += 1
                self.stats["duplicates"] += 1
                return entry, True
        problems = self.adapter.validate_payload(rendered)
        if problems:
            with self._lock:
                self.stats["rejected"] += 1
            return problems
        entry = InboxEntry(
            reference=self.reference_for(body, key),
            idempotency_key=key,
            traceparent=request.headers.get("traceparent"),
            content_type=request.headers.get("content-type"),
            headers={k: v for k, v in request.headers.items() if k.lower() in _KEPT_HEADERS},
            body=body.decode("utf-8", errors="replace"),
        )
        with self._lock:
            self._inbox.append(entry)
            self.stats["accepted"] += 1
            if key is not None:
                self._by_key[key] = entry
        return entry, False

    async def _deliver(self, request: Request) -> Response:
        body = await request.body()
        fault = self._next_fault()
        if fault is not None:
            with self._lock:
                self.stats["faults"] += 1
            if fault.kind == "tamper":
                body = tampered(body)
            elif fault.kind == "latency":
                await asyncio.sleep(fault.seconds)
            elif fault.kind in ("status", "soap_client_fault", "soap_server_fault"):
                with self._lock:
                    self.stats["received"] += 1
                return _response(self.fault_reply(fault))
        outcome = self._accept(body, request)
        if isinstance(outcome, list):
            return _response(self.rejection_reply(outcome))
        entry, duplicate = outcome
        plan = fault.plan() if fault is not None and fault.kind == "answer" else None
        if plan is None and not duplicate:
            plan = self.answers.auto_answer
        if plan is not None and not duplicate:
            with self._lock:
                self.stats["answered"] += 1
            self.answers.schedule(entry, plan)
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.seconds or 2.0)
        if fault is not None and fault.kind == "drop":
            return _DroppingResponse(content=b"0" * 64, media_type="application/octet-stream")
        if fault is not None and fault.kind == "malformed":
            return _response(self.malformed_reply())
        return _response(self.success_reply(entry, duplicate))

    async def _faults_endpoint(self, request: Request) -> Response:
        if request.method == "DELETE":
            with self._lock:
                self._faults.clear()
            return JSONResponse({"queued": 0})
        try:
            raw = json.loads(await request.body())
            faults = [Fault.from_json(item) for item in raw["faults"]]
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        self.inject(*faults)
        with self._lock:
            queued = len(self._faults)
        return JSONResponse({"queued": queued})

    async def _keys_endpoint(self, request: Request) -> Response:
        try:
            raw = json.loads(await request.body())
            self.trust(raw)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"checking": raw is not None})

    async def _inbox_endpoint(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear()
            return JSONResponse({"cleared": True})
        return JSONResponse([asdict(entry) for entry in self.inbox()])

    async def _answers_endpoint(self, request: Request) -> Response:
        try:
            raw = json.loads(await request.body())
            if "push_url" in raw:
                self.answers.configure_push(str(raw["push_url"]), raw.get("token"))
            if "auto" in raw:
                auto = raw["auto"]
                self.answers.auto_answer = (
                    None if auto is None else Fault.from_json({"kind": "answer", **auto}).plan()
                )
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"push_url": self.answers.push_url, "auto": raw.get("auto")})

    async def _poll_endpoint(self, request: Request) -> Response:
        after_text = request.query_params.get("after", "0")
        if not after_text.isdigit():
            return JSONResponse({"error": "after must be a count"}, status_code=400)
        answers, total = self.answers.held(int(after_text))
        body, content_type = self.held_payload(answers, str(total))
        return Response(content=body, media_type=content_type)

    async def _stats_endpoint(self, request: Request) -> Response:
        with self._lock:
            return JSONResponse({"channel": self.channel, **self.stats})

    def _build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/_sim/faults", self._faults_endpoint, methods=["POST", "DELETE"]),
                Route("/_sim/inbox", self._inbox_endpoint, methods=["GET", "DELETE"]),
                Route("/_sim/stats", self._stats_endpoint, methods=["GET"]),
                Route("/_sim/answers", self._answers_endpoint, methods=["POST"]),
                Route("/_sim/keys", self._keys_endpoint, methods=["POST"]),
                *(
                    [Route(f"/{poll_path}", self._poll_endpoint, methods=["GET"])]
                    if (poll_path := getattr(self.adapter, "poll_path", None))
                    else []
                ),
                *self.extra_routes(),
                Route("/", self._deliver, methods=["POST"]),
                Route("/{path:path}", self._deliver, methods=["POST"]),
            ]
        )

    def extra_routes(self) -> list[Route]:
        """Routes a kind of channel adds (a SOAP channel serves its WSDL)."""
        return []

    def endpoint(self, request: Request) -> str:
        """The address ``request`` reached: on the configured ``address`` when there is one."""
        base = self.address or f"{request.url.scheme}://{request.url.netloc}"
        return base.rstrip("/") + request.url.path


_KEPT_HEADERS = frozenset(
    {"content-type", "idempotency-key", "traceparent", "soapaction", "x-marri-signature"}
)


class _DroppingResponse(Response):
    """Starts a reply that promises a body, then fails so the connection is cut mid-reply."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        raise DropConnection


def _response(reply: SimReply) -> Response:
    return Response(
        content=reply.body,
        status_code=reply.status,
        media_type=reply.content_type,
        headers=reply.headers,
    )
