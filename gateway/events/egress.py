"""Where webhooks may go: the check that keeps a subscriber's URL off the gateway's own networks.

A sender names the URL its events are POSTed to, so without a check it could make the gateway
call its own loopback, the cloud metadata service at 169.254.169.254 or a database on the
internal network (server-side request forgery). So a URL is checked twice:

- when it is subscribed (``check_subscription_url``): http(s) only, https unless the deployment
  allows http, no credentials in it, and every address its host resolves to must be public;
- at every send, by ``GuardedBackend``, the network backend of the webhook client: it resolves
  the host, checks every address and connects to the address it checked, so a DNS answer that
  changes between a check and a connect (rebinding) has no window to slip through.

A deployment names the internal networks its national systems live on in
``MARRI_WEBHOOK_ALLOWED_NETWORKS``; the sandbox allows loopback for its own sample receiver.
The webhook client never follows redirects and ignores proxy variables of the environment.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

from adapters.errors import PermanentError
from gateway.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to (a test may name hosts of its own).
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 5.0
# IPv6 forms that carry an IPv4 address: the embedded address is what is reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class EgressRefused(Exception):
    """A webhook URL or address the gateway will not call; ``reason`` names why, never the URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AddressRefused(PermanentError):
    """At send time the host resolved to an address the policy refuses: a dead letter at once
    (recorded by this class name), since the subscriber's DNS now points inside."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings (``10.20.0.0/16``, ``fd00:1::/64``, a bare address) as networks."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), or the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _kind(ip: IPAddress) -> str | None:
    """What sort of non-public address this is, or None for a public one."""
    for name, hit in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if hit:
            return name
    return None if ip.is_global else "not global"


@dataclass(frozen=True)
class EgressPolicy:
    """What webhook URLs and addresses a deployment allows."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    require_https: bool = True

    def address_refusal(self, ip: IPAddress) -> str | None:
        """Why this address may not be called (``"loopback address"``), or None."""
        inner = _embedded(ip)
        if any(a in net for a in (ip, inner) for net in self.allowed_networks):
            return None
        kind = _kind(inner) or _kind(ip)
        return None if kind is None else f"{kind} address"

    def url_refusal(self, url: str) -> str | None:
        """Why this URL may not be subscribed, judged on its text alone, or None."""
        if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
            return "malformed URL"
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (a port out of range raises here)
        except ValueError:
            return "malformed URL"
        if parts.scheme not in ("http", "https"):
            return "scheme must be http or https"
        if parts.scheme == "http" and self.require_https:
            return "https required"
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            return "credentials in the URL"
        if not parts.hostname:
            return "no host"
        return None


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses the system resolver gives for a host (an address literal resolves to
    itself)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(RESOLVE_TIMEOUT_S):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # A link-local IPv6 answer may carry its zone ("fe80::1%eth0").
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def checked_addresses(
    policy: EgressPolicy, host: str, port: int, resolver: Resolver = system_resolver
) -> list[IPAddress]:
    """The host's addresses, all of them allowed; ``EgressRefused`` when it does not resolve
    or when any one is refused (a host that also points inside is not called at all)."""
    try:
        found = await resolver(host, port)
    except (OSError, TimeoutError, UnicodeError, ValueError):
        raise EgressRefused("host does not resolve") from None
    if not found:
        raise EgressRefused("host does not resolve")
    for ip in found:
        reason = policy.address_refusal(ip)
        if reason is not None:
            raise EgressRefused(reason)
    return found


async def check_subscription_url(
    policy: EgressPolicy, url: str, resolver: Resolver = system_resolver
) -> None:
    """Refuse (``EgressRefused``) a URL the gateway would not call."""
    reason = policy.url_refusal(url)
    if reason is not None:
        raise EgressRefused(reason)
    parts = urlsplit(url)
    assert parts.hostname is not None  # url_refusal saw to it
    default = 443 if parts.scheme == "https" else 80
    await checked_addresses(policy, parts.hostname, parts.port or default, resolver)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, and to the very address it checked."""

    def __init__(self, policy: EgressPolicy, resolver: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, check every address, connect to the first that answers."""
        try:
            found = await checked_addresses(self._policy, host, port, self._resolver)
        except EgressRefused as exc:
            if exc.reason == "host does not resolve":  # DNS may be back later: transient
                raise httpcore.ConnectError(exc.reason) from None
            raise AddressRefused(exc.reason) from None
        return await self._connect_first(found, port, timeout, local_address, socket_options)

    async def _connect_first(
        self,
        found: Sequence[IPAddress],
        port: int,
        connect_timeout: float | None,
        local_address: str | None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for ip in found:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, connect_timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: a webhook goes over TCP to a checked address."""
        raise AddressRefused("unix socket")

    async def sleep(self, seconds: float) -> None:
        """As the inner backend sleeps."""
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool built on ``GuardedBackend``."""

    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend, so its pool is replaced by one with the guard; the
        # webhook tests that expect a refused address to get no request would fail without it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=backend,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )


def guarded_client(
    policy: EgressPolicy, *, timeout_s: float, resolver: Resolver = system_resolver
) -> httpx.AsyncClient:
    """The webhook client: every connection through the guard, no redirects, no proxies."""
    return httpx.AsyncClient(
        transport=_GuardedTransport(GuardedBackend(policy, resolver)),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
    )


def egress_policy(settings: Settings) -> EgressPolicy:
    """The deployment's policy from its settings."""
    return EgressPolicy(
        allowed_networks=parse_networks(settings.webhook_allowed_networks),
        require_https=settings.webhook_require_https,
    )
