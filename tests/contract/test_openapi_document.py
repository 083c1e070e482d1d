"""The published OpenAPI document, read as an integrator's tools read it.

openapi-spec-validator must accept it; names must be the stable ones a generator turns into
classes; every operation must declare the answers it gives (the gateway's error body, 401/403/429
with their headers where a token is checked, no security on public routes); and every example
must be valid against the schema it illustrates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from gateway.api.app import create_app
from gateway.context import build_context
from gateway.security.policy_table import policy_for
from tests.conftest import EXAMPLES, make_settings

OPERATION_IDS = {
    ("post", "/v1/messages"): "sendMessage",
    ("get", "/v1/messages/{message_id}"): "getMessage",
    ("get", "/v1/messages/{message_id}/trace"): "getTrace",
    ("get", "/v1/messages/{message_id}/replies"): "getReplies",
    ("get", "/v1/messages"): "listMessages",
    ("post", "/v1/messages/check"): "checkMessage",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from gateway.store.migrate import upgrade

    tmp = tmp_path_factory.mktemp("openapi")
    url = f"sqlite:///{tmp / 'gateway.db'}"
    upgrade(url)
    context = build_context(make_settings(url, tmp))
    try:
        yield create_app(context).openapi()
    finally:
        context.close()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_openapi_spec_validator_accepts_the_document(document: dict[str, Any]) -> None:
    validate(document)


def test_schema_names_are_unique_and_stable(document: dict[str, Any]) -> None:
    names = set(document["components"]["schemas"])
    # FastAPI falls back to module paths (gateway__api__trace__DecisionOut) for clashing names.
    assert not [n for n in names if "__" in n or "." in n]
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(names)
    assert {"CanonicalMessage", "Decision", "Finding", "ErrorBody", "TraceOut"} <= names
    schemas = document["components"]["schemas"]
    decision = {"$ref": "#/components/schemas/Decision"}
    assert schemas["DeliveryStatus"]["properties"]["decision"] == decision
    assert schemas["DeliveryTraceOut"]["properties"]["decision"] == decision
    body = document["paths"]["/v1/messages"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/CanonicalMessage"}


def test_every_operation_has_an_operation_id_of_ours(document: dict[str, Any]) -> None:
    seen: list[str] = []
    for method, path, operation in operations(document):
        operation_id = operation.get("operationId", "")
        # FastAPI's own would be e.g. submit_message_v1_messages_post.
        assert re.fullmatch(r"[a-z]+[A-Z][A-Za-z]+", operation_id), (method, path, operation_id)
        seen.append(operation_id)
        if (method, path) in OPERATION_IDS:
            assert operation_id == OPERATION_IDS[(method, path)]
    assert len(seen) == len(set(seen))


def test_every_answer_is_declared_with_the_gateways_error_body(document: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for method, path, operation in operations(document):
        policy = policy_for(method, path)
        assert policy is not None
        responses = operation["responses"]
        where = f"{method} {path}"
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == error, where
        if policy.public:
            assert operation["security"] == [], where
        elif policy.scope == "channel":
            assert operation["security"] == [{"channelCredential": []}], where
        else:
            assert "security" not in operation  # the document's default: the bearer token
            assert {"401", "403", "429"} <= set(responses), where
            assert "WWW-Authenticate" in responses["401"]["headers"], where
            assert "Retry-After" in responses["429"]["headers"], where
        if "requestBody" in operation:
            assert {"413", "422"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
    assert document["security"] == [{"bearer": []}]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": document["components"]})


def test_every_request_and_answer_has_a_valid_example(document: dict[str, Any]) -> None:
    problems: list[str] = []
    count = 0
    for method, path, operation in operations(document):
        media_types: list[tuple[str, dict[str, Any]]] = [
            (f"{method} {path} request {name}", media)
            for name, media in operation.get("requestBody", {}).get("content", {}).items()
            if name == "application/json"
        ]
        for status, response in operation["responses"].items():
            for name, media in response.get("content", {}).items():
                media_types.append((f"{method} {path} {status} {name}", media))
        for where, media in media_types:
            count += 1
            if "example" not in media:
                problems.append(f"{where}: no example")
                continue
            validator = _validator(document, media.get("schema", {}))
            errors = list(validator.iter_errors(media["example"]))
            problems += [f"{where}: {e.json_path}: {e.message[:120]}" for e in errors]
    assert problems == []
    assert count > 150


def test_the_shipped_example_message_is_the_repositorys() -> None:
    shipped = Path(__file__).resolve().parents[2] / "gateway" / "api" / "example_message.json"
    assert json.loads(shipped.read_text()) == json.loads(
        (EXAMPLES / "xk-europol-information.json").read_text()
    )
