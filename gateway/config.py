"""Settings from the environment (prefix ``MARRI_``) and an optional channels file.

Destination URLs come only from here, never from a message.
"""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class RetryPolicy(BaseModel):
    """How long and how often a channel's deliveries are retried."""

    max_attempts: int = Field(default=8, ge=1)
    deadline_s: float = Field(default=24 * 3600, gt=0)
    initial_backoff_s: float = Field(default=2.0, gt=0)
    max_backoff_s: float = Field(default=900.0, gt=0)


class BreakerPolicy(BaseModel):
    """When a channel pauses after repeated transient failures, and for how long."""

    failure_threshold: int = Field(default=5, ge=1)
    open_s: float = Field(default=60.0, gt=0)


class ChannelSettings(BaseModel):
    """One destination: where it is and how to talk to it."""

    url: str
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    concurrency: int = Field(default=4, ge=1, le=64)
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    client_key_password: SecretStr | None = None
    max_reply_bytes: int = 1_048_576
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    # Answers from the channel (gateway/exchange/). A push channel proves who it is with this
    # credential (``Authorization: Bearer``) or with a client certificate whose subject DN or
    # ``san:DNS:<name>`` is listed; a sender's API token is never accepted there.
    inbound_token: SecretStr | None = None
    inbound_cert_names: tuple[str, ...] = ()
    inbound_max_bytes: int = Field(default=1_048_576, ge=1024)
    # A poll channel is asked at ``poll_url`` (default: ``url`` + the adapter's poll path).
    poll_url: str | None = None
    poll_interval_s: float = Field(default=30.0, gt=0)


class Settings(BaseSettings):
    """Gateway settings; defaults give the embedded single-host set-up under ``./var``."""

    model_config = SettingsConfigDict(env_prefix="MARRI_", env_nested_delimiter="__", frozen=True)

    database_url: str = "sqlite:///var/gateway.db"
    # Created (mode 0600) only on a first start, when no stored row is sealed yet, or by
    # ``keys init``; it must be readable by its owner alone.
    key_file: Path = Path("var/keys.json")
    # Base64 AES-256 keys as {"key-id": "base64", ...} plus "active"; overrides key_file.
    keys_json: SecretStr | None = None
    # The gateway's signing keys (EC P-256) and the audit chain key: created like key_file
    # (first start or ``keys signing init``), never over data that needs the lost ones.
    signing_key_file: Path = Path("var/signing-key.json")
    # Sign every rendered payload (XML-DSig, WS-Security, JWS); off only to measure the cost.
    sign_payloads: bool = True
    channels_file: Path | None = None
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    mappings_dir: Path = Path(__file__).resolve().parent.parent / "mappings"
    max_body_bytes: int = 15 * 1024 * 1024
    max_json_depth: int = 32
    rate_limit_per_minute: int = 600
    # Console sign-in attempts per minute from one client address, and for one token prefix.
    console_signin_per_minute: int = Field(default=10, ge=1)
    request_timeout_s: float = 30.0
    public_base_url: str = "http://127.0.0.1:8000"
    retention_after_delivery_days: int = 90
    # An answer from a channel that matched no message is kept this long for operators, then
    # its content is erased by the retention job (its ids and references stay listed).
    retention_unmatched_answer_days: int = Field(default=90, ge=1)
    # Mutual TLS: a client certificate's subject DN (RFC 4514) or "san:DNS:<name>" → either
    # {"token_id": "..."} or {"role": "sender", "country": "AL", "agency": "..."}.
    client_cert_identities: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Detached JWS of the sending agency on POST /v1/messages: "optional" verifies one when it
    # is sent, "required" also refuses a message without one. A bad signature is always refused.
    sender_signatures: Literal["optional", "required"] = "optional"
    worker_enabled: bool = True
    worker_poll_interval_s: float = 0.2
    lease_s: float = 60.0
    # Webhooks to national systems (gateway/events/egress.py). Receivers must be on public
    # addresses and https unless named here: internal networks as CIDRs, comma-separated or a
    # JSON list ("10.20.0.0/16,fd00:20::/48").
    webhook_allowed_networks: Annotated[tuple[str, ...], NoDecode] = ()
    webhook_require_https: bool = True
    # The same schedule and breaker machinery as a channel's, with their own settings
    # (MARRI_WEBHOOK_RETRY__MAX_ATTEMPTS=12, MARRI_WEBHOOK_BREAKER__OPEN_S=120, ...).
    webhook_retry: RetryPolicy = RetryPolicy()
    webhook_breaker: BreakerPolicy = BreakerPolicy()

    @field_validator("webhook_allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        """A comma-separated string or a JSON list; each entry must be a network."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list | tuple):
            items = tuple(str(v).strip() for v in value if str(v).strip())
            for item in items:
                ipaddress.ip_network(item, strict=False)  # a ValueError names the bad entry
            return items
        return value

    def channel(self, name: str) -> ChannelSettings | None:
        """The channel's settings: the environment wins over the channels file."""
        if name in self.channels:
            return self.channels[name]
        return self._file_channels().get(name)

    def all_channels(self) -> dict[str, ChannelSettings]:
        """Channels from the channels file overlaid by those set in the environment, which win."""
        merged = dict(self._file_channels())
        merged.update(self.channels)
        return merged

    def _file_channels(self) -> dict[str, ChannelSettings]:
        if self.channels_file is None:
            return {}
        try:
            stat = self.channels_file.stat()
        except FileNotFoundError:
            return {}
        return _read_channels_file(self.channels_file, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_channels_file(path: Path, _mtime_ns: int, _size: int) -> dict[str, ChannelSettings]:
    """The channels file, parsed once per version of it (intake asks for every delivery; an
    edited file is picked up on the next call because its modification time changes)."""
    raw = path.read_text(encoding="utf-8")
    data = (
        json.loads(raw) if path.suffix == ".json" else yaml.load(raw, Loader=yaml.CSafeLoader)
    ) or {}
    return {name: ChannelSettings.model_validate(value) for name, value in data.items()}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
