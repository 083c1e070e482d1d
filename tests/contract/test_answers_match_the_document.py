"""openapi-core validates every real answer of a scripted run against the published document.

The run provokes each documented status: accepted, repeated, conflicting, refused for each
reason (no token, wrong role, unknown, too large, wrong media type, invalid, bad cursor, rate
limited) and the reads and actions an operator, approver, auditor and legal officer make. Each
answer's status, headers and body must be the ones the document declares for that operation.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from gateway.api.app import create_app
from gateway.context import GatewayContext, build_context
from tests.api.helpers import dumps, example
from tests.conftest import Tokens, make_settings


class _Request:
    """An httpx request as openapi-core reads one."""

    def __init__(self, request: httpx.Request) -> None:
        self.host_url = f"{request.url.scheme}://{request.url.netloc.decode()}"
        self.path = request.url.path
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    """An httpx response as openapi-core reads one."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))
        self.data = response.content


class Checked:
    """Sends requests and validates each answer against the document, noting its status."""

    def __init__(self, http: httpx.AsyncClient, spec: OpenAPI) -> None:
        self.http = http
        self.spec = spec
        self.statuses: dict[str, set[int]] = {}
        self.problems: list[str] = []

    async def __call__(
        self, method: str, path: str, token: str | None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        answer = await self.http.request(method, path, headers=headers, **kw)
        try:
            self.spec.validate_response(_Request(answer.request), _Response(answer))
        except Exception as exc:
            cause = exc.__cause__ or exc
            self.problems.append(f"{method} {path} → {answer.status_code}: {cause!s:.300}")
        self.statuses.setdefault(f"{method} {path.split('?')[0]}", set()).add(answer.status_code)
        return answer


JSON = {"content-type": "application/json"}


@pytest.fixture
def limited_context(settings: Any, tmp_path: Path) -> Any:
    context = build_context(make_settings(settings.database_url, tmp_path, rate_limit_per_minute=2))
    try:
        yield context
    finally:
        context.close()


async def test_every_answer_of_a_scripted_run_is_as_documented(
    context: GatewayContext, tokens: Tokens, limited_context: GatewayContext
) -> None:
    app = create_app(context)
    spec = OpenAPI.from_dict(app.openapi())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        call = Checked(http, spec)
        sender = tokens.sender("AL")
        message = example()
        mid = message["message_id"]
        body = dumps(message)
        for path in ("/healthz", "/readyz", "/metrics", "/v1/schema"):
            assert (await call("GET", path, None)).status_code == 200
        assert (
            await call("POST", "/v1/messages/check", sender, content=body, headers=JSON)
        ).status_code == 200
        sent = await call("POST", "/v1/messages", sender, content=body, headers=JSON)
        assert sent.status_code == 202
        assert (
            await call("POST", "/v1/messages", sender, content=body, headers=JSON)
        ).status_code == 200
        changed = copy.deepcopy(message)
        changed["subject"] = "another subject"
        assert (
            await call("POST", "/v1/messages", sender, content=dumps(changed), headers=JSON)
        ).status_code == 409
        invalid = {**message, "message_id": str(uuid.uuid4()), "kind": "gossip"}
        assert (
            await call("POST", "/v1/messages", sender, content=dumps(invalid), headers=JSON)
        ).status_code == 422
        assert (
            await call(
                "POST", "/v1/messages", sender, content=body, headers={"content-type": "text/plain"}
            )
        ).status_code == 415
        assert (
            await call("POST", "/v1/messages", None, content=body, headers=JSON)
        ).status_code == 401
        for path in (
            f"/v1/messages/{mid}",
            f"/v1/messages/{mid}/trace",
            f"/v1/messages/{mid}/replies",
            "/v1/messages?limit=5",
            "/v1/inbox",
            "/v1/subscriptions",
        ):
            assert (await call("GET", path, sender)).status_code == 200, path
        assert (await call("GET", "/v1/messages?cursor=nonsense", sender)).status_code == 400
        assert (await call("GET", f"/v1/messages/{uuid.uuid4()}", sender)).status_code == 404
        assert (await call("GET", "/v1/messages?limit=0", sender)).status_code == 422
        assert (await call("GET", f"/v1/messages/{mid}", tokens.sender("RS"))).status_code == 404
        deliveries = [d["id"] for d in sent.json()["deliveries"]]
        retry = f"/v1/deliveries/{deliveries[0]}/retry"
        assert (await call("POST", retry, sender, json={"reason": "again"})).status_code == 403
        assert (
            await call("POST", retry, tokens.operator, json={"reason": "again"})
        ).status_code in (200, 409)
        assert (
            await call("POST", retry, tokens.operator, content=b"\xff{", headers=JSON)
        ).status_code == 400
        assert (
            await call("POST", retry, tokens.operator, content=b"x" * 70_000, headers=JSON)
        ).status_code == 413
        cancel = f"/v1/deliveries/{deliveries[-1]}/cancel"
        assert (
            await call("POST", cancel, tokens.operator, json={"reason": "test"})
        ).status_code == 200
        assert (
            await call("POST", cancel, tokens.operator, json={"reason": "test"})
        ).status_code == 409
        release = f"/v1/deliveries/{deliveries[-1]}/release"
        assert (
            await call("POST", release, tokens.approver, json={"reason": "ok"})
        ).status_code == 409
        assert (
            await call("POST", release, tokens.approver, json={"reason": ""})
        ).status_code == 422
        for path in ("/v1/channels", "/v1/inbound/unmatched"):
            assert (await call("GET", path, tokens.operator)).status_code == 200, path
        for action in ("pause", "resume", "redrive"):
            assert (
                await call(
                    "POST",
                    f"/v1/channels/europol/{action}",
                    tokens.operator,
                    json={"reason": "test"},
                )
            ).status_code == 200
        for path in ("/v1/audit?limit=3", "/v1/audit/verify"):
            assert (await call("GET", path, tokens.auditor)).status_code == 200
        assert (await call("GET", "/v1/facts", tokens.operator)).status_code == 200
        assert (
            await call(
                "POST",
                "/v1/channels/europol/inbound",
                None,
                content=b"<a/>",
                headers={"content-type": "application/xml"},
            )
        ).status_code in (401, 404)

    limited = create_app(limited_context)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited), base_url="http://gateway.test"
    ) as http:
        call_limited = Checked(http, spec)
        answers = [
            (await call_limited("GET", "/v1/channels", tokens.operator)).status_code
            for _ in range(4)
        ]
        assert 429 in answers
        call.problems += call_limited.problems

    seen = {status for statuses in call.statuses.values() for status in statuses} | set(answers)
    assert {200, 202, 400, 401, 403, 404, 409, 413, 415, 422, 429} <= seen
    assert call.problems == []


async def test_options_and_allow_name_exactly_the_documented_methods(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    for template, item in document["paths"].items():
        path = template.replace("{", "x").replace("}", "")
        documented = {method.upper() for method in item}
        options = await client.request("OPTIONS", path)
        assert options.status_code == 204, template
        allowed = {m.strip() for m in options.headers["allow"].split(",")} - {"HEAD", "OPTIONS"}
        assert allowed == documented, template
        unused = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in documented)
        refused = await client.request(unused, path)
        assert refused.status_code == 405, (template, unused)
        assert refused.headers["allow"] == options.headers["allow"]
        assert refused.json()["error"]["code"] == "method_not_allowed"
