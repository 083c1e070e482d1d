"""/metrics: Prometheus text computed from the store, agreeing with what happened."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from simulators import Fault
from tests.telemetry.helpers import five_channel_message
from tests.telemetry.world import World


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    """A sample's value; a labelled counter not yet incremented reads as 0."""
    key = (name, tuple(sorted(labels.items())))
    if key not in found and name == "marri_messages_refused_total":
        return 0.0
    return found[key]


async def test_metrics_follow_the_store(world: World) -> None:
    before = samples((await world.client.get("/metrics")).text)
    assert value(before, "marri_messages_accepted_total") == 0

    refused = await world.client.post(
        "/v1/messages",
        json={"schema": "marri.exchange/1"},
        headers=world.auth(world.tokens.sender("ME")),
    )
    assert refused.status_code == 422
    body = five_channel_message()
    answer = await world.submit(body)
    held = sum(d["state"] == "held" for d in answer["deliveries"])
    queued = sum(d["state"] == "queued" for d in answer["deliveries"])

    waiting = samples((await world.client.get("/metrics")).text)
    assert value(waiting, "marri_messages_accepted_total") == 1
    assert (
        sum(
            value(waiting, "marri_deliveries", channel=c, state="held")
            for c in ("europol", "frontex", "interpol", "pcc_see", "selec")
        )
        == held
    )
    assert (
        sum(
            value(waiting, "marri_queue_depth", channel=c)
            for c in ("europol", "frontex", "interpol", "pcc_see", "selec")
        )
        == queued
    )
    assert value(waiting, "marri_oldest_due_age_seconds", channel="frontex") >= 0
    refusals = value(waiting, "marri_messages_refused_total", code="invalid_message")
    assert refusals == value(before, "marri_messages_refused_total", code="invalid_message") + 1

    await world.release_held(answer)
    world.sims.simulator("frontex").inject(Fault("status", status=400))
    world.sims.simulator("interpol").inject(Fault("status", status=503))
    await world.drain()

    after = samples((await world.client.get("/metrics")).text)
    assert value(after, "marri_dead_letters", channel="frontex") == 1
    assert value(after, "marri_deliveries", channel="frontex", state="failed") == 1
    assert value(after, "marri_deliveries", channel="interpol", state="delivered") == 1
    assert value(after, "marri_queue_depth", channel="interpol") == 0
    assert value(after, "marri_oldest_due_age_seconds", channel="interpol") == 0
    # two interpol attempts (503, then delivered), one each elsewhere
    assert value(after, "marri_attempt_duration_seconds_count", channel="interpol") == 2
    assert value(after, "marri_attempt_duration_seconds_bucket", channel="interpol", le="+Inf") == 2
    assert value(after, "marri_attempt_duration_seconds_sum", channel="interpol") > 0
    assert value(after, "marri_breaker_state", channel="interpol", state="closed") == 1
    assert value(after, "marri_breaker_state", channel="interpol", state="open") == 0
