"""Schemathesis against the gateway's own OpenAPI document, with a sender token.

Bounded (a few examples per operation) so that it runs in the normal suite. Each case must
not produce a server error, its status must be one the operation documents, and the answer's
media type, headers and body must match what the document says for it. The number of cases
tried is printed at the end of the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.api.app import create_app
from gateway.context import build_context
from tests.conftest import issue_tokens, make_settings

CASES: dict[str, int] = {"tried": 0}
STATUSES: dict[int, int] = {}
MAX_EXAMPLES = 15


@pytest.fixture(scope="module", autouse=True)
def report_case_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter: Any = request.config.pluginmanager.getplugin("terminalreporter")
    seen = ", ".join(f"{code}: {n}" for code, n in sorted(STATUSES.items()))
    line = f"schemathesis: {CASES['tried']} cases tried against the gateway's OpenAPI ({seen})"
    if reporter is not None:
        reporter.write_line(line)
    else:
        print(line)


@pytest.fixture
def sender_token(api_app: Any) -> str:
    token: str = api_app.state.sender_token
    return token


@pytest.fixture
def api_app(sqlite_url: str, tmp_path: Path) -> Iterator[Any]:
    context = build_context(make_settings(sqlite_url, tmp_path, rate_limit_per_minute=100_000))
    app = create_app(context)
    app.state.sender_token = issue_tokens(context.store).sender("AL")
    try:
        yield app
    finally:
        context.close()


def test_no_server_errors_and_answers_match_the_schema(api_app: Any, sender_token: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    headers = {"Authorization": f"Bearer {sender_token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            CASES["tried"] += 1
            response = case.call_and_validate(
                headers=headers,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_headers_conformance,
                    response_schema_conformance,
                ],
            )
            STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then fail once
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:400]}")
    assert operations >= 10
    assert failures == []
    # The token was used: most answers are not "unauthenticated".
    assert sum(n for code, n in STATUSES.items() if code != 401) > CASES["tried"] // 2
