"""``events listen``: a sample receiver of the gateway's signed webhooks."""

from __future__ import annotations

import signal

import typer

from gateway.cli._common import err

events_app = typer.Typer(help="Events told to national systems.", no_args_is_help=True)


@events_app.command("listen")
def listen(
    port: int = typer.Option(8090, "--port", help="port to listen on (127.0.0.1)"),
    secret: str = typer.Option(
        ..., "--secret", envvar="MARRI_WEBHOOK_SECRET", help="the subscription's whsec_ secret"
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
) -> None:
    """Verify each webhook (signature and timestamp), drop repeats by webhook-id, print each
    new CloudEvent as one JSON line."""
    from gateway.events.receiver import Receiver, print_event, serve

    try:
        receiver = Receiver(secret, print_event)
    except Exception:
        err.print("the secret is not a Standard Webhooks secret (whsec_ and base64)")
        raise typer.Exit(2) from None
    server = serve(receiver, port, host)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM ends it like Ctrl-C, with the tally printed

    signal.signal(signal.SIGTERM, stop)
    err.print(f"listening on http://{host}:{port}/ for signed events")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        err.print(
            f"{receiver.accepted} events, {receiver.repeats} repeats, {receiver.rejected} refused"
        )


def register(app: typer.Typer) -> None:
    """Add the ``events`` group to the command line."""
    app.add_typer(events_app, name="events")
