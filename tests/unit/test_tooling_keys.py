"""Malware and tools as correlation reads them: family keys, samples, and the rank each rests on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steppe.correlate.engine import describe
from steppe.correlate.evidence import EVIDENCE, ORDER, confidence
from steppe.correlate.extract import read_batch
from steppe.observables import correlation_keys as values
from steppe.stix import tlp

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
OTHER = "ab" * 32
STAMP = "2009-01-20T00:00:00.000Z"


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("malware:BlackEnergy", ["malware:blackenergy"]),
        ("MALWARE: Black Energy ", ["malware:blackenergy"]),
        ("tool:Mimikatz", ["tool:mimikatz"]),
        ("BlackEnergy", ["malware:blackenergy", "tool:blackenergy"]),
        ("black-energy", ["malware:blackenergy", "tool:blackenergy"]),
        ("Чёрная_энергия", ["malware:чёрнаяэнергия", "tool:чёрнаяэнергия"]),
        # Other forms keep their meaning: a domain, an AS, a hash.
        ("blackenergy.example", ["domain-name:blackenergy.example"]),
        ("AS64500", ["autonomous-system:64500"]),
        (SHA256, [f"file:SHA-256:{SHA256}"]),
    ],
)
def test_a_family_name_is_looked_up_by_its_family_key(text: str, keys: list[str]):
    assert values.parse_query(text) == keys


@pytest.mark.parametrize(
    "text", ["Black Energy", "malware:", "malware:--", "what?", "AS-1", "x" * 201, "botnet c2!"]
)
def test_what_names_no_family_is_not_taken_for_one(text: str):
    assert values.parse_query(text) == []


@settings(max_examples=50)
@given(st.text(max_size=40))
def test_any_text_parses_to_keys_of_one_kind_or_none(text: str):
    keys = values.parse_query(text)
    assert len({values.split(key)[0] for key in keys if not values.is_family_key(key)}) <= 1
    for key in keys:
        if values.is_family_key(key):
            assert values.split(key)[1].isalnum()


def _sdo(stix_type: str, object_id: str, level: tlp.TlpLevel = tlp.GREEN, **props) -> dict:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": object_id,
        "created": STAMP,
        "modified": STAMP,
        "object_marking_refs": [level.marking_id],
        **props,
    }


def _rel(n: int, source: str, kind: str, target: str, level: tlp.TlpLevel = tlp.GREEN) -> dict:
    return _sdo(
        "relationship",
        f"relationship--00000000-0000-4000-8000-{n:012d}",
        level,
        relationship_type=kind,
        source_ref=source,
        target_ref=target,
    )


CAMPAIGN = "campaign--00000000-0000-4000-8000-000000000001"
FAMILY = "malware--00000000-0000-4000-8000-000000000002"
BOT = "malware--00000000-0000-4000-8000-000000000003"
SAMPLE = "indicator--00000000-0000-4000-8000-000000000004"
TOOL = "tool--00000000-0000-4000-8000-000000000005"
FILE = "file--00000000-0000-4000-8000-000000000006"


def _batch(uses_level: tlp.TlpLevel = tlp.GREEN) -> list[dict]:
    return [
        _sdo("campaign", CAMPAIGN, name="Kyrgyzstan 2009", first_seen=STAMP),
        _sdo("malware", FAMILY, name="BlackEnergy", aliases=["BE"], is_family=True),
        _sdo("malware", BOT, tlp.AMBER, name="KG bot", is_family=False, sample_refs=[FILE]),
        _sdo("file", FILE, hashes={"SHA-256": OTHER}),
        _sdo("tool", TOOL, name="LOIC"),
        _sdo(
            "indicator",
            SAMPLE,
            pattern=f"[file:hashes.'SHA-256' = '{SHA256}']",
            pattern_type="stix",
            valid_from=STAMP,
        ),
        _rel(1, CAMPAIGN, "uses", BOT, uses_level),
        _rel(2, BOT, "variant-of", FAMILY),
        _rel(3, SAMPLE, "indicates", BOT),
        _rel(4, CAMPAIGN, "uses", TOOL),
    ]


def test_a_campaigns_tooling_is_its_families_and_samples_each_at_the_rank_it_rests_on():
    batch = read_batch(_batch(), tlp.GREEN.rank)
    found = {(o.key, o.object_id, o.campaign_id): o.tlp for o in batch.occurrences}
    amber, green = tlp.AMBER.rank, tlp.GREEN.rank
    assert found == {
        # The instance's own name, and its family's names through variant-of: the
        # instance is AMBER, so what rests on it is too.
        ("malware:kgbot", BOT, CAMPAIGN): amber,
        ("malware:blackenergy", FAMILY, CAMPAIGN): amber,
        ("malware:be", FAMILY, CAMPAIGN): amber,
        # Its samples: an indicator that indicates it, and its sample_refs.
        (f"file:SHA-256:{SHA256}", BOT, CAMPAIGN): amber,
        (f"file:SHA-256:{OTHER}", BOT, CAMPAIGN): amber,
        ("tool:loic", TOOL, CAMPAIGN): green,
        # The family is in the batch too, but every key of it is tied to the campaign.
        # The sample indicator indicates no campaign: an occurrence of its own, untied.
        (f"file:SHA-256:{SHA256}", SAMPLE, None): green,
        (f"file:SHA-256:{OTHER}", FILE, None): green,  # the SCO, as any SCO
    }
    # The family object itself is GREEN: its name may be shown at GREEN.
    assert batch.tool_names["malware:blackenergy"] == ("BlackEnergy", green)


def test_a_stricter_uses_makes_the_tie_as_strict():
    batch = read_batch(_batch(uses_level=tlp.RED), tlp.GREEN.rank)
    tied = {o.key: o.tlp for o in batch.occurrences if o.object_id == TOOL}
    assert tied == {"tool:loic": tlp.GREEN.rank}
    for o in batch.occurrences:
        if o.object_id in (BOT, FAMILY):
            assert o.tlp == tlp.RED.rank and o.campaign_id == CAMPAIGN


def test_a_family_without_a_uses_in_the_batch_gives_its_samples_to_no_campaign():
    objects = [
        o for o in _batch() if o["id"] != "relationship--00000000-0000-4000-8000-000000000001"
    ]
    batch = read_batch(objects, tlp.GREEN.rank)
    for o in batch.occurrences:
        if o.object_id in (BOT, FAMILY):
            assert o.campaign_id is None


def test_family_sample_refs_are_not_read_as_this_reports_samples():
    objects = _batch()
    objects[1] = {**objects[1], "sample_refs": [FILE]}  # the shared family object
    objects.append(_rel(5, CAMPAIGN, "uses", FAMILY))
    batch = read_batch(objects, tlp.GREEN.rank)
    assert (f"file:SHA-256:{OTHER}", FAMILY) not in {
        (o.key, o.object_id) for o in batch.occurrences
    }


def test_evidence_kinds_are_ordered_and_their_confidence_never_crosses():
    assert list(ORDER) == ["exact", "sample", "family", "network", "asn"]
    assert [EVIDENCE[s] for s in ORDER] == ["strong", "strong", "medium", "weak", "weak"]
    for shared in (1, 3, 10, 1000):
        assert confidence("family", shared) < confidence("sample", 1)
        assert confidence("network", shared) < confidence("family", 1) or shared > 3
        assert confidence("family", shared) <= 40


def test_descriptions_name_the_evidence():
    text = describe("A", "B", "sample", 1, [f"file:SHA-256:{SHA256}"])
    assert f"shared sample SHA-256 {SHA256}" in text
    text = describe("A", "B", "family", 2, ["malware:be", "tool:loic"], {"malware:be": "BE"})
    assert "shared malware family BE" in text and "shared tool family loic" in text
    assert text.startswith("Medium evidence, not an exact match")


C2 = "indicator--00000000-0000-4000-8000-000000000007"


def _with_c2(uses_level: tlp.TlpLevel = tlp.GREEN) -> list[dict]:
    c2 = _sdo(
        "indicator",
        C2,
        pattern="[domain-name:value = 'c2.example.net']",
        pattern_type="stix",
        valid_from=STAMP,
    )
    return [*_batch(uses_level), c2, _rel(6, C2, "indicates", BOT), _rel(7, C2, "indicates", TOOL)]


def test_an_indicator_of_the_malware_a_campaign_uses_is_the_campaigns_at_the_strictest_tie():
    batch = read_batch(_with_c2(), tlp.GREEN.rank)
    c2 = {(o.key, o.campaign_id): o.tlp for o in batch.occurrences if o.object_id == C2}
    # Through the AMBER bot and through the GREEN tool: the least strict path counts.
    assert c2 == {("domain-name:c2.example.net", CAMPAIGN): tlp.GREEN.rank}
    strict = read_batch(
        [o for o in _with_c2(tlp.RED) if o["id"] != _rel(7, C2, "indicates", TOOL)["id"]],
        tlp.GREEN.rank,
    )
    c2 = {(o.key, o.campaign_id): o.tlp for o in strict.occurrences if o.object_id == C2}
    assert c2 == {("domain-name:c2.example.net", CAMPAIGN): tlp.RED.rank}
    # A sample's hash stays tooling evidence: its indicator is tied to no campaign.
    sample = {o.campaign_id for o in batch.occurrences if o.object_id == SAMPLE}
    assert sample == {None}


def test_an_indicator_of_a_malware_no_campaign_uses_in_the_batch_is_tied_to_none():
    objects = [o for o in _with_c2() if o.get("relationship_type") != "uses"]
    batch = read_batch(objects, tlp.GREEN.rank)
    assert {o.campaign_id for o in batch.occurrences if o.object_id == C2} == {None}
