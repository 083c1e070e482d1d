"""Mutual TLS on ingest: a verified client certificate stands for a configured identity.

When the gateway itself terminates TLS and requires client certificates, the server hands the
peer's certificate to the app through the ASGI TLS extension (``client_cert_chain``). Uvicorn
does not fill that extension, so ``ClientCertH11Protocol`` (pass it as uvicorn's ``http``) does.
A certificate only reaches us after the TLS handshake verified it against ``ssl_ca_certs``.

``settings.client_cert_identities`` maps a certificate to an identity: the key is the subject
DN as RFC 4514 writes it (``C=AL,O=Albanian State Police,CN=gw.asp.al``, or in the order
the certificate lists its parts, as ``openssl`` prints it) or a subject
alternative name written ``san:DNS:<name>``, ``san:email:<address>`` or ``san:URI:<uri>``; the
value is ``{"token_id": ...}`` (the identity of that live token) or ``{"role": "sender",
"country": "AL", "agency": ...}``. A bearer token, when also sent, takes precedence.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Connection
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.security.identity import Identity
from gateway.security.tokens import identity_for_token_id
from gateway.services.permissions import ROLES, Role, bound_to_one_country


class CertMappingError(ValueError):
    """A ``client_cert_identities`` entry that cannot stand for an identity."""


def certificate_names(pem: str) -> list[str]:
    """The mapping keys a certificate answers to: its subject DN, then each SAN."""
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    rfc4514 = cert.subject.rfc4514_string()
    # Tools print DNs in both orders (RFC 4514 starts from the last RDN, OpenSSL from the
    # first); accept either so that a mapping copied from ``openssl x509 -subject`` works.
    in_issue_order = ",".join(rdn.rfc4514_string() for rdn in cert.subject.rdns)
    names = [rfc4514] if rfc4514 == in_issue_order else [rfc4514, in_issue_order]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return names
    names += [f"san:DNS:{v}" for v in san.get_values_for_type(x509.DNSName)]
    names += [f"san:email:{v}" for v in san.get_values_for_type(x509.RFC822Name)]
    names += [f"san:URI:{v}" for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
    return names


def validate_mapping(mapping: Mapping[str, Mapping[str, str]]) -> None:
    """Refuse a bad mapping at start-up, naming the entry (keys are not secret)."""
    for key, spec in mapping.items():
        if "token_id" in spec:
            continue
        role = spec.get("role")
        if role not in ROLES:
            raise CertMappingError(f"client_cert_identities[{key!r}]: unknown role")
        if bound_to_one_country(role) and not (spec.get("country") and spec.get("agency")):
            raise CertMappingError(
                f"client_cert_identities[{key!r}]: a {role} needs country and agency"
            )


def _identity_from_spec(key: str, spec: Mapping[str, str]) -> Identity:
    role = spec["role"]
    if role not in ROLES:
        raise CertMappingError(f"client_cert_identities[{key!r}]: unknown role")
    scope = tuple(c.strip().upper() for c in spec.get("scope", "").split(",") if c.strip())
    return Identity(
        # A stable, short id for rate limits and the audit log's actor.
        token_id="cert:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:31],
        role=Role(role),
        label=f"client certificate {key}",
        country=(spec.get("country") or "").upper() or None,
        agency=spec.get("agency") or None,
        scope_countries=scope,
    )


def client_cert_pem(scope: Scope) -> str | None:
    """The client certificate the TLS layer verified, as PEM; None without one."""
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return chain[0] if chain else None


def identity_for_certificate(
    conn: Connection, pem: str, mapping: Mapping[str, Mapping[str, str]]
) -> Identity | None:
    """The identity the first matching name maps to, or None."""
    for name in certificate_names(pem):
        spec = mapping.get(name)
        if spec is None:
            continue
        if "token_id" in spec:
            return identity_for_token_id(conn, spec["token_id"])
        return _identity_from_spec(name, spec)
    return None


class ClientCertH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol plus the ASGI TLS extension's ``client_cert_chain``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the verified client certificate with the connection so the endpoint can read it."""
        super().connection_made(transport)  # type: ignore[arg-type]
        ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            return
        pem = x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode("ascii")
        inner = self.app

        async def app_with_certificate(scope: Scope, receive: Receive, send: Send) -> None:
            extensions: dict[str, Any] = dict(scope.get("extensions") or {})
            extensions["tls"] = {
                **extensions.get("tls", {}),
                "client_cert_chain": [pem],
            }
            scope["extensions"] = extensions
            await inner(scope, receive, send)

        self.app = app_with_certificate
