"""Operators see answers: in the message's timeline (trace API, ``trace`` CLI, console page)
and, for answers that matched nothing, in their own list (API and console)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import httpx
from rich.console import Console

from gateway.cli.trace_cmd import render_trace
from simulators._answers import AnswerPlan, default_answer
from simulators._base import InboxEntry
from tests.console.signin import sign_in
from tests.exchange._support import bearer, replies, round_trip, wait_for
from tests.exchange.test_round_trip import send


async def test_replies_show_in_the_timeline_and_strays_in_the_unmatched_list(
    db_url: str, tmp_path: Path
) -> None:
    with round_trip(db_url, tmp_path) as rt:
        message_id, _ = send(
            rt.url, rt.tokens.sender("XK"), "xk-europol-information.json", "europol"
        )
        found = wait_for(
            lambda: replies(rt, message_id, rt.tokens.sender("XK")).json()["replies"],
            lambda body: len(body) == 1,
        )
        answer_id = found[0]["channel_message_id"]

        api = httpx.AsyncClient(base_url=rt.url, headers=bearer(rt.tokens.operator))
        trace = await api.get(f"/v1/messages/{message_id}/trace")
        assert trace.status_code == 200
        view = trace.json()
        assert [r["channel_message_id"] for r in view["replies"]] == [answer_id]
        (event,) = [e for e in view["events"] if e["type"] == "reply"]
        assert event["channel"] == "europol"
        assert answer_id in event["summary"]
        # The reply comes after the delivery it answers.
        types = [e["type"] for e in view["events"]]
        assert types.index("reply") > types.index("receipt")
        terminal = Console(record=True, width=200)
        terminal.print(render_trace(view))
        assert answer_id in terminal.export_text()

        # A stray answer the channel pushes for a message we never sent.
        simulator = rt.simulators.simulator("europol")
        entry = InboxEntry("EUROPOL-NOWHERE", None, None, None, {}, "<x/>")
        stray = replace(
            default_answer(simulator, entry, AnswerPlan()), in_reply_to=str(uuid.uuid4())
        )
        assert await simulator.answers.push(stray) == 202

        listed = await api.get("/v1/inbound/unmatched")
        await api.aclose()
        assert [a["channel_message_id"] for a in listed.json()] == [stray.channel_message_id]

        async with httpx.AsyncClient(base_url=rt.url) as browser:
            assert (await sign_in(browser, rt.tokens.operator)).status_code in (200, 303)
            page = await browser.get(f"/console/messages/{message_id}")
            assert page.status_code == 200
            assert 'data-testid="replies"' in page.text
            assert answer_id in page.text
            assert 'class="ev-reply"' in page.text
            unmatched = await browser.get("/console/inbound/unmatched")
            assert unmatched.status_code == 200
            assert stray.channel_message_id in unmatched.text
            assert answer_id not in unmatched.text
            # Names in the answer are not shown on these pages.
            assert "Петровић" not in page.text + unmatched.text
