"""Loading (a malformed pack stops the start, naming file, rule and problem) and the engine's
own behaviour: strongest outcome, evaluation errors held for review, pack hashes, dates."""

from __future__ import annotations

import gc
import hashlib
import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.policy import PolicyEngine, PolicyLoadError

from .helpers import build, decide, edit_yaml

AL_PCC = "al-victim-identification-pcc-see.json"


def _first_rule(change: dict[str, Any]) -> Any:
    def apply(document: Any) -> None:
        document["rules"][0].update(change)

    return apply


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"expression": "sender.country in"}, "does not compile"),
        ({"expression": "facts.no_such_fact"}, "'facts' has no field(s) ['no_such_fact']"),
        ({"expression": "sender.country in parties.interpol_member"}, "'parties' has no"),
        ({"expression": "message.persns.size() == 0"}, "'message' has no field(s) ['persns']"),
        ({"expression": "recipient.country == 'AL'"}, "unknown variables ['recipient']"),
        ({"expression": "!(sender.country in parties.unconfirmed.nato)"}, "unconfirmed has no"),
        ({"outcome": "redact"}, "must name what it removes"),
        ({"outcome": "redact", "redact": ["persons_by_colour:red"]}, "unknown redact selector"),
        ({"outcome": "block"}, "outcome"),
        ({"applies": {"products": ["red_notice"]}}, "applies.products not offered"),
        ({"applies": {"kinds": ["gossip"]}}, "applies.kinds has unknown kinds"),
        ({"id": "europol.renamed"}, "rule ids must start with 'interpol.'"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_malformed_rule_stops_the_load(
    mappings_copy: Path, change: dict[str, Any], problem: str
) -> None:
    pack = mappings_copy / "interpol" / "rules.yaml"
    edit_yaml(pack, _first_rule(change))
    with pytest.raises(PolicyLoadError) as caught:
        PolicyEngine.load(mappings_copy)
    assert caught.value.file == str(pack)
    assert problem in str(caught.value)
    if change.get("id") is None and "surprise" not in change:
        assert caught.value.rule == "interpol.art4_sender_member"


def test_rule_id_used_twice_is_refused(mappings_copy: Path) -> None:
    edit_yaml(
        mappings_copy / "selec" / "rules.yaml",
        lambda d: d["rules"].append({**d["rules"][0]}),
    )
    with pytest.raises(PolicyLoadError, match="rule id used twice"):
        PolicyEngine.load(mappings_copy)


def test_channel_folder_without_pack_is_refused(mappings_copy: Path) -> None:
    (mappings_copy / "no_such_channel").mkdir()
    with pytest.raises(PolicyLoadError, match="channel 'no_such_channel' has no rule pack"):
        PolicyEngine.load(mappings_copy)


@pytest.mark.parametrize(
    ("field", "placeholder"),
    [("cite", "TODO: article"), ("cite", "Art. 5 (tbd)"), ("instrument", "TODO: the instrument")],
)
def test_a_placeholder_citation_is_refused(
    mappings_copy: Path, field: str, placeholder: str
) -> None:
    def put(document: Any) -> None:
        if field == "cite":
            document["rules"][0]["cite"] = placeholder
        else:
            document["instrument"] = placeholder

    edit_yaml(mappings_copy / "frontex" / "rules.yaml", put)
    with pytest.raises(PolicyLoadError, match="placeholder: name the instrument and article"):
        PolicyEngine.load(mappings_copy)


def test_a_channel_folder_outside_the_mappings_joins_them_once(
    mappings_copy: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "channel" / "mappings"
    outside.mkdir(parents=True)
    (mappings_copy / "frontex").rename(outside / "frontex")
    assert "frontex" not in PolicyEngine.load(mappings_copy).channels()
    assert "frontex" in PolicyEngine.load(mappings_copy, extra_dirs=[outside]).channels()
    shutil.copytree(outside / "frontex", mappings_copy / "frontex")
    with pytest.raises(PolicyLoadError, match="frontex_status_agreement is defined in"):
        PolicyEngine.load(mappings_copy, extra_dirs=[outside])
    (mappings_copy / "frontex" / "parties.yaml").unlink()
    with pytest.raises(PolicyLoadError, match="channel 'frontex' has a rule pack already"):
        PolicyEngine.load(mappings_copy, extra_dirs=[outside])


def test_registered_channel_without_pack_is_refused(mappings_copy: Path) -> None:
    with pytest.raises(PolicyLoadError, match="missing rule pack"):
        PolicyEngine.load(mappings_copy, required_channels=["europol", "no_such_channel"])


def test_malformed_parties_table_is_refused(mappings_copy: Path) -> None:
    def drop_source(document: Any) -> None:
        del document["instruments"]["selec_members"]["entries"][0]["source"]

    edit_yaml(mappings_copy / "selec" / "parties.yaml", drop_source)
    with pytest.raises(PolicyLoadError, match=r"selec_members entry 0 \(AL\): every entry needs"):
        PolicyEngine.load(mappings_copy)


def test_a_channels_own_instruments_come_and_go_with_its_folder(
    mappings_copy: Path, tmp_path: Path
) -> None:
    """selec_members lives in mappings/selec/: merged with the shared table at load, gone with
    the folder (the rest still loads), and merged from a folder outside the mappings too."""
    loaded = PolicyEngine.load(mappings_copy)
    assert {"selec_members", "convention_108", "interpol_members"} <= set(loaded.parties.names())
    assert loaded.parties.instruments["selec_members"].entry("RS") is not None
    outside = tmp_path / "channel" / "mappings"
    outside.mkdir(parents=True)
    (mappings_copy / "selec").rename(outside / "selec")
    without = PolicyEngine.load(mappings_copy)
    assert "selec_members" not in without.parties.names()
    assert "selec" not in without.channels()
    assert "europol" in without.channels()
    assert without.parties.digest != loaded.parties.digest
    again = PolicyEngine.load(mappings_copy, extra_dirs=[outside])
    moved = again.parties.instruments["selec_members"]
    assert moved.entries == loaded.parties.instruments["selec_members"].entries
    assert moved.file == outside / "selec" / "parties.yaml"


def test_an_instrument_defined_twice_names_both_files(mappings_copy: Path) -> None:
    def add_selec(document: Any) -> None:
        own = yaml.safe_load((mappings_copy / "selec" / "parties.yaml").read_text())
        document["instruments"]["selec_members"] = own["instruments"]["selec_members"]

    edit_yaml(mappings_copy / "parties.yaml", add_selec)
    with pytest.raises(PolicyLoadError) as raised:
        PolicyEngine.load(mappings_copy)
    text = str(raised.value)
    assert "instrument selec_members is defined in" in text
    assert str(mappings_copy / "parties.yaml") in text
    assert str(mappings_copy / "selec" / "parties.yaml") in text


def test_pack_hash_is_the_file_hash(engine: PolicyEngine) -> None:
    from .helpers import MAPPINGS

    for channel in engine.channels():
        raw = (MAPPINGS / channel / "rules.yaml").read_bytes()
        assert engine.pack_hash(channel) == hashlib.sha256(raw).hexdigest()
    decision = decide(engine, build(AL_PCC), "pcc_see")
    assert decision.pack_hash == engine.pack_hash("pcc_see")
    assert decision.extra["pack_version"] == engine.pack("pcc_see").version


def test_failing_expression_is_a_review_naming_the_rule(mappings_copy: Path) -> None:
    # The example has no warrant: reading its penalty fails at evaluation time.
    edit_yaml(
        mappings_copy / "pcc_see" / "rules.yaml",
        _first_rule({"expression": "message.case.warrant.max_penalty_years > 0.0"}),
    )
    decision = decide(PolicyEngine.load(mappings_copy), build(AL_PCC), "pcc_see")
    assert decision.outcome == "review"
    (finding,) = decision.findings
    assert finding.rule == "pcc_see.party_sender"
    assert finding.outcome == "review"
    assert "pcc_see.party_sender could not be evaluated" in finding.message


def test_non_boolean_result_is_a_review(mappings_copy: Path) -> None:
    edit_yaml(
        mappings_copy / "pcc_see" / "rules.yaml", _first_rule({"expression": "sender.country"})
    )
    decision = decide(PolicyEngine.load(mappings_copy), build(AL_PCC), "pcc_see")
    assert [(f.rule, f.outcome) for f in decision.findings] == [("pcc_see.party_sender", "review")]


def test_redaction_that_matches_nothing_is_a_review(mappings_copy: Path) -> None:
    edit_yaml(
        mappings_copy / "pcc_see" / "rules.yaml",
        _first_rule({"expression": "false", "outcome": "redact", "redact": ["attachments"]}),
    )
    decision = decide(PolicyEngine.load(mappings_copy), build(AL_PCC), "pcc_see")
    assert decision.outcome == "review"
    assert decision.redacted == ()


def test_strongest_outcome_wins(engine: PolicyEngine) -> None:
    # Kosovo* to PCC SEE with no deletion deadline: deny beats the rest.
    message = build(AL_PCC, {"sender.country": "XK", "destinations.0.to": ["BA"]})
    decision = decide(engine, message, "pcc_see")
    outcomes = {f.outcome for f in decision.findings}
    assert outcomes == {"deny", "review"}
    assert decision.outcome == "deny"
    assert not decision.allows_delivery


def test_party_counts_from_its_date(engine: PolicyEngine) -> None:
    """Austria is party to the 2018 automated-exchange agreement from 19 Oct 2025."""
    lb = [{"instrument": "pcc_see", "article": "5"}, {"instrument": "pcc_see_automated_exchange"}]
    rule = "pcc_see.automated_exchange_parties"
    before = build(
        AL_PCC,
        {"sent_at": "2025-10-18T10:00:00+02:00", "legal_basis": lb, "destinations.0.to": ["AT"]},
    )
    after = build(AL_PCC, {"legal_basis": lb, "destinations.0.to": ["AT"]})
    assert rule in [f.rule for f in decide(engine, before, "pcc_see").findings]
    assert rule not in [f.rule for f in decide(engine, after, "pcc_see").findings]


def test_year_only_dates_count_from_the_end_of_the_year(engine: PolicyEngine) -> None:
    """Hungary acceded to PCC SEE in 2012: not yet a party in mid-2012."""
    rule = "pcc_see.party_recipients"
    mid = build(AL_PCC, {"sent_at": "2012-06-01T10:00:00+02:00", "destinations.0.to": ["HU"]})
    later = build(AL_PCC, {"sent_at": "2013-01-02T10:00:00+02:00", "destinations.0.to": ["HU"]})
    assert rule in [f.rule for f in decide(engine, mid, "pcc_see").findings]
    assert rule not in [f.rule for f in decide(engine, later, "pcc_see").findings]


def test_inputs_are_reused_only_for_the_same_message(engine: PolicyEngine) -> None:
    """Deciding two messages in turn must not mix their inputs."""
    allowed = build(AL_PCC)
    denied = build(AL_PCC, {"sender.country": "XK"})
    assert decide(engine, allowed, "pcc_see").outcome == "allow"
    assert decide(engine, denied, "pcc_see").outcome == "deny"
    assert decide(engine, allowed, "pcc_see").outcome == "allow"


def test_a_decided_message_is_freed_once_the_next_one_is_decided(engine: PolicyEngine) -> None:
    """The engine keeps only the message it decided last: nothing of earlier ones stays in
    memory (its CEL context once closed a cycle the garbage collector could not see into)."""
    first = build(AL_PCC)
    assert decide(engine, first, "pcc_see").outcome == "allow"
    gone = weakref.ref(first)
    del first
    decide(engine, build(AL_PCC), "pcc_see")
    gc.collect()
    assert gone() is None


def test_findings_carry_no_personal_data(engine: PolicyEngine) -> None:
    message = build(AL_PCC, {"sender.country": "XK", "handling.retention_until": None})
    decision = decide(engine, message, "pcc_see")
    text = " ".join(f.message + f.cite for f in decision.findings)
    for person in message.persons:
        for name in person.names:
            for part in (name.given, name.family):
                assert part is None or part not in text


def test_channel_not_named_by_the_message_is_still_decided_on_its_own_rules(
    engine: PolicyEngine,
) -> None:
    """The inputs converted for a message cover the packs of its channels; deciding another
    channel must convert what that pack reads instead of failing its expressions."""
    from gateway.schema import Destination, derive_facts

    message = build(AL_PCC, {"purposes": ["cross_checking"]})
    facts = derive_facts(message)
    engine.decide(message, facts, message.destinations[0], recipients=("MK",))
    decision = engine.decide(message, facts, Destination(channel="europol"), recipients=())
    assert all("could not be evaluated" not in f.message for f in decision.findings)
    assert "europol.art18_cross_checking_subjects" in [f.rule for f in decision.findings]


def test_channel_without_pack_is_denied(engine: PolicyEngine) -> None:
    from gateway.schema import Destination, derive_facts

    message = build(AL_PCC)
    decision = engine.decide(
        message, derive_facts(message), Destination(channel="no_such_channel"), recipients=()
    )
    assert decision.outcome == "deny"
    assert [f.rule for f in decision.findings] == ["policy.no_rule_pack"]


def test_threads_deciding_at_once_get_the_answers_of_one_thread(engine: PolicyEngine) -> None:
    """Inputs are cached per thread: concurrent decisions must not see each other's message."""
    from concurrent.futures import ThreadPoolExecutor

    messages = [
        build(AL_PCC),
        build(AL_PCC, {"sender.country": "XK"}),
        build(AL_PCC, {"destinations.0.to": ["BA"]}),
        build(AL_PCC, {"handling.retention_until": None}),
    ]
    expected = [decide(engine, m, "pcc_see").outcome for m in messages]
    assert expected == ["allow", "deny", "review", "deny"]
    work = [i % len(messages) for i in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda i: decide(engine, messages[i], "pcc_see").outcome, work))
    assert got == [expected[i] for i in work]


def test_party_lists_used_whole_are_complete(mappings_copy: Path) -> None:
    """A rule that reads parties.unconfirmed as a whole gets every instrument's list."""
    edit_yaml(
        mappings_copy / "pcc_see" / "rules.yaml",
        _first_rule({"expression": "'interpol_members' in parties.unconfirmed"}),
    )
    decision = decide(PolicyEngine.load(mappings_copy), build(AL_PCC), "pcc_see")
    assert "pcc_see.party_sender" not in [f.rule for f in decision.findings]
