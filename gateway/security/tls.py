"""Outbound TLS: the one place a channel's ``ssl.SSLContext`` is built from its settings.

Verification is always on (TLS 1.2 or newer, hostname checked); a channel may name its own CA
bundle and a client certificate for mutual TLS. There is deliberately no way to turn
verification off.
"""

from __future__ import annotations

import ssl

from gateway.config import ChannelSettings


class ChannelTlsError(ValueError):
    """The channel's TLS settings cannot be used (names the setting, never key material)."""


def channel_ssl_context(settings: ChannelSettings) -> ssl.SSLContext | bool:
    """``True`` (the system's CAs, httpx's default) or a verifying context for this channel."""
    if settings.client_key is not None and settings.client_cert is None:
        raise ChannelTlsError("client_key is set without client_cert")
    if settings.ca_bundle is None and settings.client_cert is None:
        return True
    try:
        ctx = ssl.create_default_context(
            cafile=str(settings.ca_bundle) if settings.ca_bundle else None
        )
    except (OSError, ssl.SSLError) as exc:
        raise ChannelTlsError("ca_bundle cannot be read as PEM certificates") from exc
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if settings.client_cert is not None:
        password = (
            settings.client_key_password.get_secret_value()
            if settings.client_key_password
            else None
        )
        try:
            ctx.load_cert_chain(
                str(settings.client_cert),
                str(settings.client_key) if settings.client_key else None,
                password=password,
            )
        except (OSError, ssl.SSLError) as exc:
            raise ChannelTlsError("client_cert/client_key cannot be loaded") from exc
    return ctx
