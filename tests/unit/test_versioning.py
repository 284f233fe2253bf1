"""Merging new versions of objects steppe already holds (steppe.stix.versioning)."""

from __future__ import annotations

import copy

import stix2
from stix2validator import ValidationOptions, validate_instance

from steppe.stix import tlp
from steppe.stix.timestamps import parse_micros
from steppe.stix.versioning import Reconciled, reconcile, version_of

PRODUCER = "identity--0b0d8c5f-2f5a-4b83-9d38-1ad8cbe3bb4a"
OTHER_PRODUCER = "identity--7d1e5a3c-9b2f-4c6e-8a1d-2f3b4c5d6e7f"


def campaign(**changes) -> dict:
    obj = {
        "type": "campaign",
        "spec_version": "2.1",
        "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created_by_ref": PRODUCER,
        "created": "2024-01-10T00:00:00.000Z",
        "modified": "2024-01-10T00:00:00.000Z",
        "name": "Kyrgyzstan ISP DDoS, January 2009",
        "first_seen": "2009-01-18T00:00:00.000Z",
        "last_seen": "2009-01-20T00:00:00.000Z",
        "external_references": [{"source_name": "IntelFusion", "url": "https://example.org/a"}],
        "object_marking_refs": [tlp.AMBER.marking_id],
    }
    obj.update(changes)
    return obj


def test_a_new_object_is_stored_as_is():
    obj = campaign()
    [result] = reconcile([obj], {})
    assert result == Reconciled(obj, True)
    assert result.obj is obj


def test_the_same_object_again_writes_nothing():
    existing = campaign()
    again = campaign(
        created="2024-02-01T00:00:00.000Z",
        modified="2024-02-01T00:00:00.000Z",
        first_seen="2009-01-18T00:00:00Z",  # same instant, other spelling
    )
    [result] = reconcile([again], {existing["id"]: existing})
    assert result.changed is False
    assert result.obj is existing


def test_a_wider_range_and_new_list_items_make_a_new_version():
    existing = campaign()
    desired = campaign(
        created="2024-02-01T00:00:00.000Z",
        modified="2024-02-01T00:00:00.000Z",
        created_by_ref=OTHER_PRODUCER,
        first_seen="2009-01-19T00:00:00.000Z",  # later: the existing start stays
        last_seen="2009-01-25T00:00:00.000Z",  # later: widens
        external_references=[
            {"source_name": "CERT-KG", "url": "https://example.net/b"},
            {"url": "https://example.org/a", "source_name": "IntelFusion"},  # same, reordered
        ],
        objective="Silence the press",
    )
    [result] = reconcile([desired], {existing["id"]: existing})
    assert result.changed is True
    merged = result.obj
    assert merged["created"] == existing["created"]
    assert merged["created_by_ref"] == PRODUCER
    assert merged["modified"] == "2024-02-01T00:00:00.000Z"
    assert merged["first_seen"] == "2009-01-18T00:00:00.000Z"
    assert merged["last_seen"] == "2009-01-25T00:00:00.000Z"
    assert merged["external_references"] == [
        {"source_name": "IntelFusion", "url": "https://example.org/a"},
        {"source_name": "CERT-KG", "url": "https://example.net/b"},
    ]
    assert merged["objective"] == "Silence the press"
    assert existing == campaign()  # inputs are not modified
    assert validate_instance(merged, ValidationOptions(version="2.1")).errors == []
    stix2.parse(merged, allow_custom=False)


def test_modified_moves_past_the_existing_version():
    existing = campaign(modified="2024-03-01T00:00:00.000Z")
    desired = campaign(modified="2024-02-01T00:00:00.000Z", name="Renamed")
    [result] = reconcile([desired], {existing["id"]: existing})
    assert result.changed is True
    assert result.obj["name"] == "Renamed"
    assert result.obj["modified"] == "2024-03-01T00:00:00.001Z"


def test_indicator_validity_widens_and_lists_union_in_order():
    existing = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--1c4d06a1-2b1f-4b7e-9f5e-0d6c1a2b3c4d",
        "created_by_ref": PRODUCER,
        "created": "2024-01-10T00:00:00.000Z",
        "modified": "2024-01-10T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2009-01-18T00:00:00.000Z",
        "valid_until": "2009-02-17T00:00:00.000Z",
        "indicator_types": ["malicious-activity"],
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "impact"}],
        "confidence": 60,
    }
    desired = copy.deepcopy(existing) | {
        "modified": "2024-05-01T00:00:00.000Z",
        "valid_from": "2009-01-17T00:00:00.000Z",
        "valid_until": "2009-02-01T00:00:00.000Z",
        "indicator_types": ["anomalous-activity", "malicious-activity"],
        "kill_chain_phases": [
            {"kill_chain_name": "mitre-attack", "phase_name": "reconnaissance"},
            {"kill_chain_name": "mitre-attack", "phase_name": "impact"},
        ],
        "confidence": 70,
    }
    [result] = reconcile([desired], {existing["id"]: existing})
    merged = result.obj
    assert result.changed is True
    assert merged["valid_from"] == "2009-01-17T00:00:00.000Z"
    assert merged["valid_until"] == "2009-02-17T00:00:00.000Z"
    assert merged["indicator_types"] == ["malicious-activity", "anomalous-activity"]
    assert [p["phase_name"] for p in merged["kill_chain_phases"]] == ["impact", "reconnaissance"]
    assert merged["confidence"] == 70


def test_properties_only_the_existing_object_has_are_kept():
    existing = campaign(objective="Silence", aliases=["KG-2009"])
    desired = campaign(modified="2024-02-01T00:00:00.000Z", aliases=["Jan-2009"])
    [result] = reconcile([desired], {existing["id"]: existing})
    assert result.obj["objective"] == "Silence"
    assert result.obj["aliases"] == ["KG-2009", "Jan-2009"]


def test_markings_keep_only_the_strictest_tlp():
    existing = campaign(object_marking_refs=[tlp.GREEN.marking_id])
    desired = campaign(
        modified="2024-02-01T00:00:00.000Z", object_marking_refs=[tlp.RED.marking_id]
    )
    [result] = reconcile([desired], {existing["id"]: existing})
    assert result.obj["object_marking_refs"] == [tlp.RED.marking_id]
    # and a looser marking never relaxes a stricter one
    [again] = reconcile(
        [campaign(modified="2024-03-01T00:00:00.000Z", object_marking_refs=[tlp.CLEAR.marking_id])],
        {existing["id"]: result.obj},
    )
    assert again.changed is False


def test_unversioned_objects_that_exist_stand_as_they_are():
    sco = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db",
        "value": "198.51.100.7",
        "object_marking_refs": [tlp.RED.marking_id],
    }
    desired_sco = sco | {"object_marking_refs": [tlp.GREEN.marking_id]}
    marking = tlp.AMBER.marking_definition()
    new_sco = sco | {
        "id": "ipv4-addr--826fe3cb-56b0-5620-9d30-4c17ed7b24e3",
        "value": "203.0.113.5",
    }
    results = reconcile(
        [desired_sco, dict(marking), new_sco], {sco["id"]: sco, marking["id"]: marking}
    )
    assert [(r.obj, r.changed) for r in results] == [
        (sco, False),
        (marking, False),
        (new_sco, True),
    ]
    assert results[0].obj is sco


def test_a_revoked_object_stands_as_it_is():
    """STIX forbids new versions of a revoked object: whatever is desired, nothing is written."""
    revoked = campaign(modified="2024-03-01T00:00:00.000Z", revoked=True)
    for desired in (
        campaign(modified="2024-04-01T00:00:00.000Z", name="Renamed"),
        campaign(modified="2024-04-01T00:00:00.000Z", revoked=False),
        campaign(modified="2024-04-01T00:00:00.000Z", object_marking_refs=[tlp.RED.marking_id]),
        revoked,
    ):
        [result] = reconcile([desired], {revoked["id"]: revoked})
        assert result == Reconciled(revoked, False)
        assert result.obj is revoked
    # Only the value true revokes: an object with revoked false is versioned as usual.
    live = campaign(revoked=False)
    [result] = reconcile(
        [campaign(modified="2024-04-01T00:00:00.000Z", name="Renamed")], {live["id"]: live}
    )
    assert result.changed is True and result.obj["name"] == "Renamed"


def test_a_revocation_is_a_new_version_and_the_last_one():
    existing = campaign()
    revocation = campaign(modified="2024-02-01T00:00:00.000Z", revoked=True)
    [result] = reconcile([revocation], {existing["id"]: existing})
    assert result.changed is True
    assert result.obj["revoked"] is True
    assert result.obj["modified"] == "2024-02-01T00:00:00.000Z"
    assert result.obj["created"] == existing["created"]
    assert validate_instance(result.obj, ValidationOptions(version="2.1")).errors == []
    stix2.parse(result.obj, allow_custom=False)
    # ... after which the object never changes again.
    [later] = reconcile(
        [campaign(modified="2024-03-01T00:00:00.000Z", name="Renamed")],
        {existing["id"]: result.obj},
    )
    assert later == Reconciled(result.obj, False)


def test_version_of():
    assert version_of(campaign(modified="2024-02-01T00:00:00.123456Z")) == parse_micros(
        "2024-02-01T00:00:00.123456Z"
    )
    assert version_of(tlp.AMBER.marking_definition()) == parse_micros(tlp.TLP_CREATED)
    assert version_of({"type": "ipv4-addr", "value": "198.51.100.7"}) is None
