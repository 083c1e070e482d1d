"""Reading a request body safely: content type first, then a size cap while streaming."""

from __future__ import annotations

from fastapi import Request

from gateway.errors import ErrorKind, GatewayError


async def read_json_body(request: Request, max_bytes: int) -> bytes:
    """The raw body of a JSON request; 415 for another type, 413 past ``max_bytes``."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise GatewayError(
            ErrorKind.UNSUPPORTED_MEDIA,
            "unsupported_media_type",
            "send the message as application/json",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise GatewayError(
            ErrorKind.TOO_LARGE, "payload_too_large", f"the body exceeds {max_bytes} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise GatewayError(
                ErrorKind.TOO_LARGE, "payload_too_large", f"the body exceeds {max_bytes} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)
