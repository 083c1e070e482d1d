"""The operator console (server-rendered, mounted under ``/console``)."""

from gateway.console.app import create_console

__all__ = ["create_console"]
