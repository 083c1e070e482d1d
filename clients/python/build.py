"""Generate the Python client from the gateway's OpenAPI document (openapi-python-client).

    python clients/python/build.py                     # from this checkout's app
    python clients/python/build.py --url http://gw:8000/openapi.json --output DIR

The generated package (``marri_gateway_client``) is build output and is not kept in the
repository: it is made from the document the gateway serves, so it cannot drift from it. Any
warning of the generator fails the build (a warning means part of the API would be missing).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def document_from_app() -> dict[str, object]:
    """The document of an app built on a throwaway database (no server needed)."""
    from gateway.api.app import create_app
    from gateway.config import Settings
    from gateway.context import build_context
    from gateway.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'gateway.db'}"
        upgrade(url)
        settings = Settings(database_url=url, key_file=Path(tmp) / "keys.json", channels_file=None)
        context = build_context(settings)
        try:
            return create_app(context).openapi()
        finally:
            context.close()


def generate(spec: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """Run the generator on ``spec`` into ``output``; its output says what it warned about."""
    return subprocess.run(  # noqa: S603  # our own arguments, no shell
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(output),
            "--config",
            str(HERE / "config.yaml"),
            "--meta",
            "setup",
            "--overwrite",
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def main() -> int:
    """Write the document beside the output and generate the client from it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="read the document from a running gateway")
    parser.add_argument("--output", type=Path, default=HERE / "marri-gateway-client")
    args = parser.parse_args()
    if args.url:
        import httpx

        document = httpx.get(args.url, timeout=30).raise_for_status().json()
    else:
        document = document_from_app()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    spec = args.output.parent / "openapi.json"
    spec.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    done = generate(spec, args.output)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
