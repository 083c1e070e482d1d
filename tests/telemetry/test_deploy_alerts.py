"""The alerting rules and the Grafana dashboard in deploy/ ask only for metrics that the real
/metrics serves, and the flow metrics they lean on follow what happened."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import BreakerPolicy
from gateway.delivery.breaker import give_back_probe, load_gate, record_channel_result, take_probe
from gateway.store.tables import utcnow
from simulators import Fault
from tests.conftest import ROOT
from tests.telemetry.helpers import message_from
from tests.telemetry.test_metrics import samples, value
from tests.telemetry.world import World

RULES = ROOT / "deploy" / "prometheus" / "marri-alerts.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "marri-gateway.json"

# PromQL words that are not metric names: aggregation and binary-operator keywords.
KEYWORDS = frozenset(
    [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "le",
    ]
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+|ms|[smhdwy])?\b")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers left after strings, label
    matchers, ranges and grouping clauses are removed, that are not functions or keywords."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group(0) in KEYWORDS:
            continue  # a function or an aggregation
        names.add(match.group(0))
    return names


def test_the_name_parser_finds_what_promql_selects() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (channel, le) (rate(x_bucket{a="b}"}[5m])))'
        " / on (channel) group_left sum(y_total) > bool 3 and z unless w offset 5m"
    )
    assert metric_names(expr) == {"x_bucket", "y_total", "z", "w"}


def served_names(text: str) -> set[str]:
    """Every series name a scrape offers, including families without a sample yet."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(s.name for s in family.samples)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


def expressions() -> list[tuple[str, str]]:
    """(where, expr) of every alert rule and every dashboard target and variable."""
    found: list[tuple[str, str]] = []
    for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]:
        for rule in group["rules"]:
            found.append((f"alert {rule['alert']}", rule["expr"]))
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            found.append((f"panel {panel['title']}", target["expr"]))
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query["query"])
            assert match, query
            found.append((f"variable {variable['name']}", match.group(1)))
    return found


async def test_every_alert_and_panel_reads_a_metric_the_gateway_serves(world: World) -> None:
    world.sims.simulator("interpol").inject(Fault("status", status=503, retry_after="0"))
    answer = await world.submit(message_from("al-yellow-notice-request.json"))
    await world.release_held(answer)
    await world.drain()
    refused = await world.client.post(
        "/v1/messages", json={"schema": "x"}, headers=world.auth(world.tokens.sender("AL"))
    )
    assert refused.status_code == 422
    scrape = (await world.client.get("/metrics")).text
    served = served_names(scrape)

    checked = expressions()
    assert len(checked) >= 20
    for where, expr in checked:
        names = metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        missing = names - served
        assert not missing, f"{where} asks for {sorted(missing)}, which /metrics does not serve"
    # the rules file is a Prometheus rule file: every rule has the fields Prometheus needs
    for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule["alert"]
            assert rule["labels"]["severity"] in ("page", "ticket")


async def test_flow_metrics_follow_attempts_and_holds(world: World) -> None:
    world.sims.simulator("interpol").inject(Fault("status", status=503, retry_after="0"))
    answer = await world.submit(message_from("al-yellow-notice-request.json"))
    held = [d for d in answer["deliveries"] if d["state"] == "held"]
    waiting = samples((await world.client.get("/metrics")).text)
    if held:
        assert value(waiting, "marri_held_oldest_age_seconds", channel="interpol") >= 0.0
    await world.release_held(answer)
    await world.drain()
    found = samples((await world.client.get("/metrics")).text)
    assert value(found, "marri_attempts_total", channel="interpol", outcome="transient") == 1
    assert value(found, "marri_attempts_total", channel="interpol", outcome="delivered") == 1
    assert value(found, "marri_attempts_total", channel="europol", outcome="delivered") == 0
    assert value(found, "marri_held_oldest_age_seconds", channel="interpol") == 0.0
    assert value(found, "marri_inbound_unmatched", channel="interpol") == 0


def test_breaker_transitions_are_counted_once_each(context: Any) -> None:
    store = context.store
    policy = BreakerPolicy(failure_threshold=2, open_s=1.0)
    now = utcnow()

    def fail(conn: Any) -> None:
        record_channel_result(conn, "selec", success=False, policy=policy, now=now)

    for _ in range(3):  # opens on the second failure; the third changes no state
        store.write_sync(fail)
    later = now + timedelta(seconds=5)
    gate = store.write_sync(lambda conn: load_gate(conn, "selec", later))
    # a probe taken with nothing to send is given back: not a transition
    assert store.write_sync(lambda conn: take_probe(conn, "selec", later, later))
    store.write_sync(lambda conn: give_back_probe(conn, gate, later))
    assert store.write_sync(lambda conn: take_probe(conn, "selec", later, later))
    store.write_sync(
        lambda conn: record_channel_result(conn, "selec", success=True, policy=policy, now=later)
    )
    store.write_sync(
        lambda conn: record_channel_result(conn, "selec", success=True, policy=policy, now=later)
    )
    from gateway.telemetry.flow_metrics import collect_flow

    families = store.read_sync(lambda conn: collect_flow(conn, ["selec"], later))
    (transitions,) = [f for f in families if f.name == "marri_breaker_transitions"]
    counted = {s.labels["to"]: s.value for s in transitions.samples}
    assert counted == {"open": 1, "half_open": 1, "closed": 1}


def test_the_docs_name_the_shipped_rules_and_dashboard() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for path in (RULES, DASHBOARD):
        assert str(path.relative_to(ROOT / "deploy")) in guide
    assert Path(RULES).is_file()
