"""The published OpenAPI document: what FastAPI derives from the routers, made exact.

National systems generate their clients from it, so it must say every answer a route gives:
the gateway's own error body for each refusal (never FastAPI's ``HTTPValidationError``), 401,
403 and 429 with their headers where a token is checked, the request body named
``CanonicalMessage``, no security on the public routes, and an example on every request and
answer. The route table (``gateway.security.policy_table``) says which routes take which
credential, so the document and the enforcement cannot disagree.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.api.examples import error_example, request_example, response_example
from gateway.schema import canonical_json_schema
from gateway.security.policy_table import RoutePolicy, policy_for

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "the scheme to authenticate with",
        "schema": {"type": "string"},
    }
}
# What each refusal means where a route does not say more precisely.
ERROR_TEXT = {
    400: "the body is not UTF-8 JSON, or a parameter (such as a cursor) is not one we gave out",
    401: "no valid credential",
    403: "this credential may not do this",
    404: "unknown, or outside the caller's scope (answered alike)",
    409: "not possible in the current state",
    413: "the body is larger than this route takes",
    415: "the body's media type is not the one this route takes",
    422: "the request does not validate; every violation with its JSON path",
    429: "rate limit reached; see Retry-After",
    503: "the gateway could not answer in time, or its database does not answer; retry later",
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "an API token (mgw_...) made with `marri-gateway token create`",
    },
    "channelCredential": {
        "type": "http",
        "scheme": "bearer",
        "description": "the channel's own inbound credential (or its client certificate)",
    },
}
XML_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"type": "string"}}
        for media in ("application/xml", "text/xml", "application/soap+xml")
    },
}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The whole document for ``app``, built once per app."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    canonical = canonical_json_schema()
    for name, definition in canonical.pop("$defs", {}).items():
        # One name, one schema: an API model named like a part of the message would take
        # that part's place in the message's references.
        assert name not in schemas, f"API model {name} clashes with the canonical schema's"
        schemas[name] = _rewrite_refs(definition)
    # Generators name the class after the title: the component's name, not the document's.
    schemas["CanonicalMessage"] = {**_rewrite_refs(canonical), "title": "CanonicalMessage"}
    components["securitySchemes"] = SECURITY_SCHEMES
    document["security"] = [{"bearer": []}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            policy = policy_for(method, path)
            assert policy is not None, f"{method} {path} has no row in the route table"
            _declare(operation, policy)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _declare(operation: dict[str, Any], policy: RoutePolicy) -> None:
    """Security, every refusal the route can give, and the examples of one operation."""
    if policy.scope == "channel":
        operation["security"] = [{"channelCredential": []}]
        operation.setdefault("requestBody", XML_BODY)
    elif policy.public:
        operation["security"] = []
    responses: dict[str, Any] = operation["responses"]
    for status in _refusals(operation, policy):
        _error_response(responses, status)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    example = request_example(operation["operationId"])
    if body is not None and example is not None:
        body["example"] = example
    for key, response in responses.items():
        for media in response.get("content", {}).values():
            if media.get("schema") == ERROR_REF:
                media.setdefault("example", error_example(int(key)))
                continue
            example = response_example(operation["operationId"], int(key))
            # A route without an example is published without one (a test refuses that).
            if example is not None:
                media.setdefault("example", example)


def _refusals(operation: dict[str, Any], policy: RoutePolicy) -> list[int]:
    """The refusals a route can give, from what it takes and how it is admitted."""
    statuses = {503}
    has_body = "requestBody" in operation
    params = operation.get("parameters", [])
    if not policy.token_free:
        statuses |= {401, 403, 429}
    elif policy.scope == "channel":
        statuses |= {401, 404}
    if has_body:
        statuses |= {413, 422}
    if _parsed_by_the_framework(operation):
        statuses.add(400)  # FastAPI refuses a body that is not UTF-8 JSON
    if params or has_body:
        statuses.add(422)
    if any(p.get("in") == "path" for p in params):
        statuses.add(404)
    return sorted(statuses)


def _parsed_by_the_framework(operation: dict[str, Any]) -> bool:
    """A JSON body FastAPI parses itself (a message is read and parsed by intake: 422)."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return body is not None and body.get("schema") != {
        "$ref": "#/components/schemas/CanonicalMessage"
    }


def _error_response(responses: dict[str, Any], status: int) -> None:
    key = str(status)
    existing = responses.get(key, {})
    response: dict[str, Any] = {
        "description": existing.get("description") or ERROR_TEXT[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status == 422 and existing.get("description") == "Validation Error":
        response["description"] = ERROR_TEXT[422]
    if status == 401:
        response["headers"] = WWW_AUTHENTICATE
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    responses[key] = response


def _rewrite_refs(node: Any) -> Any:
    """JSON Schema $defs references become OpenAPI component references."""
    if isinstance(node, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node
