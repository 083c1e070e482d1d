"""The one HTTP transport every channel uses, and the one place httpx exceptions become ours.

``HttpChannel`` POSTs a payload's stored bytes and turns whatever happens into a ``Receipt`` or
one of the three delivery errors (see ``adapters/errors.py``)::

    connect refused, connect/pool timeout, write failure ..... TransientError
    read timeout, dropped connection after the request left .. OutcomeUnknown
    408, 429, 5xx ............................................ TransientError (+ Retry-After)
    other 4xx, 3xx (redirects are never followed) ............ PermanentError
    TLS verification failure, reply larger than allowed ...... PermanentError
    2xx whose reply the channel cannot read .................. OutcomeUnknown

Clients are built per channel and per event loop (an ``httpx.AsyncClient`` belongs to the loop
that first used it) with explicit timeouts, no redirects and TLS settings from the context. At
most ``MAX_IN_FLIGHT`` requests run at once per client: httpx's pool throughput collapses well
above that.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import ssl
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from adapters._remote import remote_error_of
from adapters._shape import RestShape
from adapters.base import Payload, Receipt, SendContext
from adapters.errors import DeliveryError, OutcomeUnknown, PermanentError, TransientError

__all__ = [
    "MAX_IN_FLIGHT",
    "RETRYABLE_STATUSES",
    "HttpChannel",
    "HttpReply",
    "classify_status",
    "parse_retry_after",
    "tls_context",
    "translate_httpx_errors",
]

MAX_IN_FLIGHT = 8
RETRYABLE_STATUSES = frozenset({408, 429})


_DEFAULT_SHAPE = RestShape()


@dataclass(frozen=True)
class HttpReply:
    """A destination's HTTP answer, read completely and within the size cap."""

    status: int
    headers: httpx.Headers
    body: bytes


ReplyParser = Callable[[HttpReply], Receipt]


def tls_context(
    cafile: str | None = None, certfile: str | None = None, keyfile: str | None = None
) -> ssl.SSLContext:
    """A verifying TLS context (TLS 1.2+), with a client certificate for mutual TLS if given."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def classify_status(
    channel: str, status: int, headers: httpx.Headers, body: bytes = b""
) -> DeliveryError | None:
    """The error an HTTP status means for a delivery, or None for 2xx; with the body, the
    destination's own error code and text ride along as ``remote``."""
    if 200 <= status < 300:
        return None
    remote = remote_error_of(body, headers.get("content-type"))
    if status in RETRYABLE_STATUSES or status >= 500:
        return TransientError(
            f"{channel}: destination answered HTTP {status}",
            http_status=status,
            retry_after_s=parse_retry_after(headers.get("retry-after")),
            remote=remote,
        )
    return PermanentError(
        f"{channel}: destination answered HTTP {status}", http_status=status, remote=remote
    )


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def translate_httpx_errors(channel: str) -> Iterator[None]:
    """Turn httpx exceptions raised inside the block into delivery errors (chained)."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        if _tls_failure(exc):
            raise PermanentError(f"{channel}: TLS verification of the destination failed") from exc
        raise TransientError(f"{channel}: could not connect ({type(exc).__name__})") from exc
    except (httpx.WriteError, httpx.WriteTimeout) as exc:
        # The request never fully left, so the destination cannot have acted on it.
        raise TransientError(f"{channel}: request not sent ({type(exc).__name__})") from exc
    except (httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise OutcomeUnknown(
            f"{channel}: request sent, no complete answer ({type(exc).__name__})"
        ) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise PermanentError(f"{channel}: destination URL unusable ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise TransientError(f"{channel}: transport error ({type(exc).__name__})") from exc


class _ReplyTooLarge(Exception):
    pass


@dataclass
class _ClientSlot:
    client: httpx.AsyncClient
    in_flight: asyncio.Semaphore


def _verify_key(verify: ssl.SSLContext | bool) -> object:  # noqa: FBT001  httpx's verify value
    return verify if isinstance(verify, bool) else id(verify)


class HttpChannel:
    """HTTP transport of one channel: clients per event loop, bounded in-flight requests."""

    def __init__(self, channel: str, *, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.channel = channel
        self.max_in_flight = max_in_flight
        self._slots: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[object, _ClientSlot]
        ] = weakref.WeakKeyDictionary()

    def slot(self, context: SendContext) -> _ClientSlot:
        """The client (and its in-flight limit) for the running loop and the context's TLS."""
        loop = asyncio.get_running_loop()
        per_loop = self._slots.setdefault(loop, {})
        key = _verify_key(context.verify)
        found = per_loop.get(key)
        if found is None or found.client.is_closed:
            client = httpx.AsyncClient(
                verify=context.verify,
                follow_redirects=False,
                timeout=timeout_of(context),
                limits=httpx.Limits(
                    max_connections=self.max_in_flight,
                    max_keepalive_connections=self.max_in_flight,
                ),
            )
            found = _ClientSlot(client, asyncio.Semaphore(self.max_in_flight))
            per_loop[key] = found
        return found

    async def aclose(self) -> None:
        """Close the clients of the running loop (call at shutdown and in test teardown)."""
        per_loop = self._slots.pop(asyncio.get_running_loop(), {})
        for slot in per_loop.values():
            await slot.client.aclose()

    async def ping(self, context: SendContext) -> None:
        """HEAD ``context.url`` with the channel's client: any HTTP answer below 500 means the
        destination is up (a POST-only endpoint answers 405); nothing is delivered.

        Raises ``TransientError`` when no answer comes (or a 5xx), ``PermanentError`` when the
        TLS verification fails or the URL is unusable.
        """
        slot = self.slot(context)
        async with slot.in_flight:
            try:
                with translate_httpx_errors(self.channel):
                    response = await slot.client.head(context.url, timeout=timeout_of(context))
            except OutcomeUnknown as exc:
                # A HEAD changes nothing at the destination, so an unanswered one is just down.
                raise TransientError(f"{self.channel}: no answer to a ping") from exc
        if response.status_code >= 500:
            raise TransientError(
                f"{self.channel}: ping answered HTTP {response.status_code}",
                http_status=response.status_code,
            )

    async def exchange(
        self, url: str, body: bytes, headers: Mapping[str, str], context: SendContext
    ) -> HttpReply:
        """POST ``body`` and read the reply up to ``context.max_reply_bytes``; errors mapped.

        The POST runs in a CLIENT span (child of the caller's attempt span) whose context is the
        ``traceparent`` the destination receives.
        """
        slot = self.slot(context)
        async with slot.in_flight:
            with _client_span(self.channel, url, context.traceparent) as span:
                wire = dict(headers)
                if span.get_span_context().is_valid:
                    wire.pop("traceparent", None)
                    _PROPAGATOR.inject(wire)
                try:
                    with translate_httpx_errors(self.channel):
                        try:
                            reply = await _stream_post(slot.client, url, body, wire, context)
                        except _ReplyTooLarge:
                            raise PermanentError(
                                f"{self.channel}: reply exceeds {context.max_reply_bytes} bytes"
                            ) from None
                except DeliveryError as exc:
                    span.set_attribute("error.type", type(exc).__name__)
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    raise
                span.set_attribute("http.response.status_code", reply.status)
                if reply.status >= 400:
                    # The HTTP conventions' error.type of an answered call is its status code.
                    span.set_attribute("error.type", str(reply.status))
                    span.set_status(Status(StatusCode.ERROR, f"HTTP{reply.status}"))
                return reply

    async def send(
        self,
        payload: Payload,
        context: SendContext,
        parse_reply: ReplyParser,
        shape: RestShape = _DEFAULT_SHAPE,
    ) -> Receipt:
        """Deliver ``payload`` to ``shape``'s endpoint; a reply with a status the shape declares
        delivered or duplicate becomes a Receipt through ``parse_reply``. Another 2xx is an
        unknown outcome: the destination may have stored it, but not as the profile says."""
        reply = await self.exchange(
            shape.url(context.url), payload.body, wire_headers(payload, context), context
        )
        if reply.status not in shape.duplicate:
            error = classify_status(self.channel, reply.status, reply.headers, reply.body)
            if error is not None:
                raise error
            if reply.status not in shape.success:
                raise OutcomeUnknown(
                    f"{self.channel}: HTTP {reply.status} is not a declared success",
                    http_status=reply.status,
                )
        try:
            return parse_reply(reply)
        except DeliveryError:
            raise
        except Exception as exc:
            raise OutcomeUnknown(
                f"{self.channel}: HTTP {reply.status}, reply unreadable ({type(exc).__name__})",
                http_status=reply.status,
            ) from exc


_PROPAGATOR = TraceContextTextMapPropagator()


@contextlib.contextmanager
def _client_span(channel: str, url: str, traceparent: str | None) -> Iterator[trace.Span]:
    """The CLIENT span of one POST: method, server, channel; never the URL's path or query.

    Its parent is the caller's current span; without one, the ``traceparent`` the context
    carries, so the destination still sees the delivery's trace id.
    """
    attributes = _span_attributes(channel, url)
    tracer = trace.get_tracer("adapters.http")
    parent = None
    if traceparent and not trace.get_current_span().get_span_context().is_valid:
        parent = _PROPAGATOR.extract({"traceparent": traceparent})
    with tracer.start_as_current_span(
        "POST",
        context=parent,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


@functools.lru_cache(maxsize=256)
def _span_attributes(channel: str, url: str) -> dict[str, str | int]:
    # Parsed once per URL (each channel posts to one); OpenTelemetry copies what it is given.
    target = httpx.URL(url)
    attributes: dict[str, str | int] = {
        "http.request.method": "POST",
        "server.address": target.host,
        "messaging.destination.name": channel,
    }
    if target.port is not None:
        attributes["server.port"] = target.port
    return attributes


def timeout_of(context: SendContext) -> httpx.Timeout:
    """Explicit timeouts: connect and pool from the connect budget, read and write from read."""
    return _timeout(context.connect_timeout_s, context.read_timeout_s)


@functools.lru_cache(maxsize=64)
def _timeout(connect_s: float, read_s: float) -> httpx.Timeout:
    # Built once per pair: a channel's timeouts are the same for every request.
    return httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s)


def wire_headers(payload: Payload, context: SendContext) -> dict[str, str]:
    """Headers every delivery carries: content type, idempotency key, trace context, extras."""
    headers = {"Content-Type": payload.content_type, "Idempotency-Key": context.idempotency_key}
    if context.traceparent:
        headers["traceparent"] = context.traceparent
    headers.update(payload.headers)
    return headers


async def _stream_post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    context: SendContext,
) -> HttpReply:
    request = client.build_request(
        "POST", url, content=body, headers=headers, timeout=timeout_of(context)
    )
    response = await client.send(request, stream=True)
    try:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > context.max_reply_bytes:
            raise _ReplyTooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > context.max_reply_bytes:
                raise _ReplyTooLarge
            chunks.append(chunk)
        return HttpReply(
            status=response.status_code, headers=response.headers, body=b"".join(chunks)
        )
    finally:
        await response.aclose()
