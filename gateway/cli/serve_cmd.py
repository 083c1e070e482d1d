"""``serve`` runs the gateway; ``sandbox`` (what ``make run`` calls) adds simulators and tokens."""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Connection

    from gateway.context import GatewayContext
    from gateway.security.signing_key import SigningKeys
    from gateway.security.tokens import IssuedToken

from gateway.cli._common import out, refuse
from gateway.cli._process import block_absent_sniffio, exit_with_parent
from gateway.config import Settings, get_settings
from gateway.sandbox_tokens import MARRI_PARTICIPANTS, load_sandbox_tokens, tokens_file


def run_server(
    settings: Settings,
    host: str,
    port: int,
    *,
    processes: int = 1,
    tls: ServerTls | None = None,
) -> None:
    """Build the process context and serve until stopped.

    With several processes uvicorn starts them and each builds its own context from the
    environment (``api_process_app``); the settings object is then only checked here.
    """
    block_absent_sniffio()
    import uvicorn

    from gateway.api.app import create_app
    from gateway.telemetry import configure_logging

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        # uvicorn's own dictConfig would replace the JSON lines with its text lines.
        "log_config": None,
        "access_log": False,
        **(tls.uvicorn_options() if tls else {}),
    }
    if processes > 1:
        # Fail here, once, on a bad rule pack or key file rather than in every child.
        context_or_exit(settings).close()
        configure_logging()  # once it will serve: a refusal stays the one line it is
        uvicorn.run(
            "gateway.cli.serve_cmd:api_process_app", factory=True, workers=processes, **options
        )
        return
    context = context_or_exit(settings)
    configure_logging()
    app = create_app(context)
    try:
        uvicorn.run(app, **options)
    finally:
        context.close()


def context_or_exit(settings: Settings) -> GatewayContext:
    """The process context, or one line naming what is wrong with the keys and exit 2."""
    from gateway.context import build_context
    from gateway.store.crypto import KeyringError

    try:
        return build_context(settings)
    except KeyringError as exc:
        refuse(f"cannot start: {exc}")


def api_process_app() -> FastAPI:
    """The app of one API process of ``serve --processes N``. uvicorn spawns each in a fresh
    interpreter, which gets the process set-up here before it builds its context."""
    block_absent_sniffio()
    exit_with_parent()
    from gateway.api.app import app_from_environment
    from gateway.telemetry import configure_logging

    configure_logging()
    return app_from_environment()


@dataclass(frozen=True)
class ServerTls:
    """The API's own certificate, for a deployment without a TLS-terminating proxy."""

    cert_file: Path
    key_file: Path

    def uvicorn_options(self) -> dict[str, Any]:
        """The uvicorn arguments that serve HTTPS with this certificate and key."""
        return {"ssl_certfile": str(self.cert_file), "ssl_keyfile": str(self.key_file)}


def server_tls(cert_file: Path | None, key_file: Path | None) -> ServerTls | None:
    """Both files or neither; each must be readable now, not at the first connection."""
    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise typer.BadParameter(
            f"cannot use {cert_file} with {key_file}: {type(exc).__name__}"
        ) from None
    return ServerTls(cert_file, key_file)


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    processes: int = typer.Option(
        1,
        "--processes",
        min=1,
        max=64,
        help="API processes sharing the port (one per core); each runs its own worker unless "
        "MARRI_WORKER_ENABLED=false",
    ),
    tls_cert: Path | None = typer.Option(
        None,
        "--tls-cert",
        envvar="MARRI_TLS_CERT_FILE",
        help="serve HTTPS with this certificate chain (PEM); needs --tls-key",
    ),
    tls_key: Path | None = typer.Option(
        None,
        "--tls-key",
        envvar="MARRI_TLS_KEY_FILE",
        help="the certificate's private key (PEM)",
    ),
) -> None:
    """Serve the API (and, unless disabled, the delivery worker) in one or more processes."""
    run_server(get_settings(), host, port, processes=processes, tls=server_tls(tls_cert, tls_key))


def _ensure_sandbox_tokens(settings: Settings) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Create the sandbox's tokens once: a sender per MARRI participant, operator, approver,
    legal officer and auditor; with the names of those created now."""
    from gateway.security.tokens import issue_token
    from gateway.services.permissions import Role
    from gateway.store.engine import Store

    existing = load_sandbox_tokens()
    wanted: list[tuple[str, dict[str, str | None]]] = [
        (f"{Role.SENDER}:{code}", {"role": Role.SENDER, "country": code, "agency": agency})
        for code, agency in MARRI_PARTICIPANTS.items()
    ]
    wanted += [
        (role.value, {"role": role, "country": None, "agency": None})
        for role in (Role.OPERATOR, Role.APPROVER, Role.LEGAL, Role.AUDITOR)
    ]
    # A file from an older sandbox keeps its tokens and gains the roles added since.
    missing = [(name, spec) for name, spec in wanted if name not in existing]
    if not missing:
        return existing, []
    store = Store(settings.database_url)
    tokens: dict[str, dict[str, str]] = dict(existing)
    try:
        for name, spec in missing:

            def issue(
                conn: Connection, name: str = name, spec: dict[str, str | None] = spec
            ) -> IssuedToken:
                return issue_token(
                    conn,
                    role=str(spec["role"]),
                    label=f"sandbox {name}",
                    country=spec["country"],
                    agency=spec["agency"],
                )

            issued = store.write_sync(issue)
            tokens[name] = {"token": issued.token, "token_id": issued.identity.token_id}
    finally:
        store.close()
    path = tokens_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(tokens, handle, indent=2)
    return tokens, [name for name, _ in missing]


def _keys_or_exit(settings: Settings) -> SigningKeys:
    """Settle the keyring and the signing keys (created on the first start) before anything
    else is started; the signing keys are returned for the sandbox's simulators."""
    from gateway.security.keys import open_keyring
    from gateway.security.signing_key import open_signing_keys
    from gateway.store.crypto import KeyringError
    from gateway.store.engine import Store

    store = Store(settings.database_url)
    try:
        open_keyring(settings, store)
        return open_signing_keys(settings.signing_key_file, store)
    except KeyringError as exc:
        refuse(f"cannot start: {exc}")
    finally:
        store.close()


def sandbox(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    simulator_port_base: int = typer.Option(8100, help="first port for the channel simulators"),
) -> None:
    """Start the gateway on the embedded default with every channel's simulator (make run)."""
    from gateway.store.migrate import upgrade

    Path("var").mkdir(exist_ok=True)
    channels_file = Path(os.environ.setdefault("MARRI_CHANNELS_FILE", "var/channels.json"))
    # The sample receiver (``events listen``) runs on this host over plain http: the sandbox,
    # and only the sandbox, lets webhooks go to loopback.
    os.environ.setdefault("MARRI_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    os.environ.setdefault("MARRI_WEBHOOK_REQUIRE_HTTPS", "false")
    get_settings.cache_clear()
    settings = get_settings()
    out.print("[bold]MARRI exchange gateway — sandbox[/bold]")
    out.print(f"  database      {settings.database_url}")
    upgrade(settings.database_url)
    signing = _keys_or_exit(settings)
    from simulators import start_simulators

    # The simulators check the gateway's signature on every payload with its public keys.
    urls = start_simulators(port_base=simulator_port_base, jwks=signing.public_jwks())
    # Each channel answers with its own credential: push channels call the inbound endpoint,
    # poll channels are fetched every two seconds.
    credentials = {name: secrets.token_urlsafe(24) for name in urls}
    channels_file.write_text(
        json.dumps(
            {
                name: {"url": url, "inbound_token": credentials[name], "poll_interval_s": 2}
                for name, url in urls.items()
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    # A wildcard listen address is not one to call: the simulators run on this host.
    gateway_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104  # nosec B104
    urls.answer_every_message(f"http://{gateway_host}:{port}", credentials, seconds=2.0)
    for name, url in sorted(urls.items()):
        wsdl = urls.wsdl_url(name)
        also = f", wsdl: {wsdl}" if wsdl else ""
        out.print(f"  simulator     {name:<9} {url}  (inbox: {url.rstrip('/')}/_sim/inbox{also})")
    out.print("  replies       every channel answers each message after 2 s (push or poll)")
    allowed = ", ".join(settings.webhook_allowed_networks) or "public hosts only"
    out.print(f"  webhooks      public hosts and {allowed}")
    tokens, created = _ensure_sandbox_tokens(settings)
    base = f"http://{host}:{port}"
    out.print(f"  API docs      {base}/docs")
    out.print(f"  schema        {base}/v1/schema")
    out.print(f"  console       {base}/console")
    out.print(f"  tokens        {tokens_file()} (mode 0600)")
    print_tokens(tokens, created, terminal=sys.stdout.isatty())
    example = "examples/al-victim-identification-pcc-see.json"
    out.print(f"  send one:     .venv/bin/marri-gateway send {example}")
    run_server(settings, host, port)


def print_tokens(tokens: dict[str, dict[str, str]], created: list[str], *, terminal: bool) -> None:
    """Each token's name; its secret only once, when it was just made and the output is a
    terminal. Redirected output is a log, and a log must hold no tokens: the file has them."""
    for name in tokens:
        shown = tokens[name]["token"] if terminal and name in created else "(in the tokens file)"
        out.print(f"    {name:<10} {shown}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``sandbox`` to the CLI."""
    app.command("serve")(serve)
    app.command("sandbox")(sandbox)
