"""Sightings: POST /api/v1/sightings and sightings posted over TAXII move scores and declare
false positives, on both shapes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance

from steppe.access.partners import add_partner
from steppe.scoring.decay_curve import DecayCurve
from steppe.scoring.decay_score import expires_at
from steppe.stix import tlp
from steppe.stix.score_extension import EXTENSION_ID, read_score
from steppe.stix.timestamps import parse_micros
from steppe.store.latest import latest_versions
from support.app import App, open_app

SIGHTINGS = "/api/v1/sightings"
TAXII = "application/taxii+json;version=2.1"
NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """Feeds rendered again by any request after a change (STEPPE_FEED_STALE_SECONDS=0)."""
    opened = open_app(tmp_path / "data", request.param, STEPPE_FEED_STALE_SECONDS="0")
    yield opened
    opened.close()


def _stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def submit(app: App, tlp_name: str, confidence: int, address: str, **extra) -> dict:
    body = {
        **extra,
        "tlp": tlp_name,
        "confidence": confidence,
        "attack": {"kind": "ddos", "first_seen": _stamp(3), "last_seen": _stamp(1)},
        "campaign": {"name": f"campaign {address}"},
        "observables": [
            {
                "type": "ipv4-addr",
                "value": address,
                "role": "source",
                "first_seen": _stamp(2),
                "last_seen": _stamp(1),
            }
        ],
    }
    reply = app.submit(body)
    assert reply.status == 201, reply.body
    app.drain()
    bundle = app.request("GET", f"/api/v1/submissions/{reply.json()['id']}/bundle")
    [indicator] = [
        o for o in bundle.json()["objects"] if o["type"] == "indicator" and address in o["pattern"]
    ]
    return indicator


def latest(app: App, object_id: str) -> dict:
    record = latest_versions(app.services.store, app.default_collection, [object_id])[object_id]
    return orjson.loads(record.body)


def csv_scores(app: App, path: str) -> dict[str, int]:
    reply = app.request("GET", path, key=False)
    assert reply.status == 200, reply.body
    return {
        row.split(",")[0]: int(row.split(",")[2]) for row in reply.body.decode().splitlines()[1:]
    }


def csv_feed(app: App, tlp_name: str = "green") -> str:
    reply = app.request(
        "POST", "/api/v1/admin/feeds", json_body={"name": "csv", "format": "csv", "tlp": tlp_name}
    )
    assert reply.status == 201, reply.body
    return urlsplit(reply.json()["url"]).path


def sight(app: App, key: str | bool = True, **fields) -> object:
    body = {"organisation": "ISP One", "outcome": "true-positive", **fields}
    return app.request("POST", SIGHTINGS, json_body=body, key=key)


def test_a_true_positive_by_value_is_a_valid_sighting_and_raises_the_score(app: App):
    indicator = submit(app, "green", 60, "198.51.100.7")
    path = csv_feed(app)
    before = csv_scores(app, path)["198.51.100.7"]
    reply = sight(app, value="198.51.100.7", count=3, first_seen=_stamp(0.5), last_seen=_stamp(0))
    assert reply.status == 201, reply.body
    answer = reply.json()
    [sighting_id] = answer["sightings"]
    assert answer["false_positive_declared"] is False
    [about] = answer["indicators"]
    assert about["id"] == indicator["id"] and about["outcome"] == "true-positive"
    assert before < about["score"] <= 70  # 60 + 10, seen moments ago

    sighting = latest(app, sighting_id)
    assert sighting["sighting_of_ref"] == indicator["id"] and sighting["count"] == 3
    assert sighting["object_marking_refs"] == [tlp.GREEN.marking_id]
    assert sighting["extensions"][EXTENSION_ID]["outcome"] == "true-positive"
    reporter = latest(app, sighting["where_sighted_refs"][0])
    assert reporter["name"] == "ISP One" and reporter["identity_class"] == "organization"
    assert sighting["created_by_ref"] == indicator["created_by_ref"]  # the admin: steppe's org
    for obj in (sighting, reporter, latest(app, EXTENSION_ID)):
        result = validate_instance(obj, ValidationOptions(version="2.1"))
        assert result.is_valid and not result.errors, result.errors
        stix2.parse(obj)  # no allow_custom: the outcome is a property extension

    refreshed = latest(app, indicator["id"])
    assert parse_micros(refreshed["modified"]) > parse_micros(indicator["modified"])
    fields = read_score(refreshed)
    assert fields is not None and fields.score == 70
    assert fields.last_seen == parse_micros(_stamp(0))
    assert before < csv_scores(app, path)["198.51.100.7"] <= 70


def test_a_true_positive_brings_an_expired_indicator_back_until_its_new_expiry(app: App):
    indicator = submit(app, "green", 60, "198.51.100.16", valid_until=_stamp(1 / 24))
    path = csv_feed(app)
    assert "198.51.100.16" not in csv_scores(app, path)  # past valid_until
    reply = sight(app, value="198.51.100.16")
    assert reply.status == 201, reply.body
    refreshed = latest(app, indicator["id"])
    fields = read_score(refreshed)
    assert fields is not None and fields.score == 70
    curve = DecayCurve(fields.lifetime_days, fields.decay_speed, fields.threshold)
    assert parse_micros(refreshed["valid_until"]) == expires_at(70, fields.last_seen, curve)
    assert parse_micros(refreshed["valid_until"]) > parse_micros(indicator["valid_until"])
    assert "198.51.100.16" in csv_scores(app, path)


def test_a_false_positive_by_id_lowers_the_score_in_a_new_version(app: App):
    indicator = submit(app, "green", 60, "198.51.100.8")
    path = csv_feed(app)
    before = csv_scores(app, path)["198.51.100.8"]
    reply = sight(app, indicator_id=indicator["id"], outcome="false-positive", note="our CDN")
    assert reply.status == 201, reply.body
    [about] = reply.json()["indicators"]
    lowered = latest(app, indicator["id"])
    fields = read_score(lowered)
    assert fields is not None and fields.score == 35
    # a false positive is no evidence of use: last seen stays
    assert fields.last_seen == read_score(indicator).last_seen  # type: ignore[union-attr]
    assert parse_micros(lowered["modified"]) > parse_micros(indicator["modified"])
    after = csv_scores(app, path)["198.51.100.8"]
    assert after == about["score"] < before
    sighting = latest(app, reply.json()["sightings"][0])
    assert sighting["extensions"][EXTENSION_ID] == {
        "extension_type": "property-extension",
        "outcome": "false-positive",
        "note": "our CDN",
    }


def test_the_third_false_positive_declares_the_value_and_it_leaves_the_feed(app: App):
    indicator = submit(app, "green", 90, "198.51.100.9")
    submit(app, "green", 90, "198.51.100.10")
    path = csv_feed(app)
    assert "198.51.100.9" in csv_scores(app, path)
    declared = []
    for organisation, note in (("ISP One", "shared CDN"), ("ISP Two", "a resolver"), ("Bank", "")):
        reply = sight(
            app,
            value="198.51.100.9",
            outcome="false-positive",
            organisation=organisation,
            **({"note": note} if note else {}),
        )
        assert reply.status == 201, reply.body
        declared.append(reply.json()["false_positive_declared"])
    assert declared == [False, False, True]
    assert latest(app, indicator["id"])["revoked"] is True
    scores = csv_scores(app, path)
    assert "198.51.100.9" not in scores and "198.51.100.10" in scores
    listed = app.request("GET", "/api/v1/false-positives").json()["false_positives"]
    [entry] = [e for e in listed if e["value"] == "198.51.100.9"]
    assert entry["analyst"] == "sightings from ISP One, ISP Two, Bank"
    assert entry["reason"] == "shared CDN; a resolver"


def test_a_partner_sights_only_what_it_may_read_and_cannot_tell_the_rest_apart(app: App):
    amber = submit(app, "amber", 80, "203.0.113.5")
    green = submit(app, "green", 80, "198.51.100.11")
    store = app.services.store
    siem = add_partner(
        store,
        "siem-green",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[app.default_collection],
    ).key
    above = sight(app, siem, value="203.0.113.5")
    absent = sight(app, siem, value="203.0.113.99")
    assert above.status == absent.status == 404
    assert above.body == absent.body and b"no indicator you may read" in above.body
    by_id_above = sight(app, siem, indicator_id=amber["id"])
    by_id_absent = sight(app, siem, indicator_id=f"indicator--{uuid.uuid4()}")
    assert by_id_above.status == by_id_absent.status == 404
    assert by_id_above.body == by_id_absent.body
    assert latest(app, amber["id"]) == amber  # nothing written

    outsider = add_partner(
        store, "outsider", "partner", org_name=app.settings.org_name, clearance="red"
    ).key
    assert sight(app, outsider, value="198.51.100.11").body == absent.body

    reply = sight(app, siem, value="198.51.100.11", organisation="SOC")
    assert reply.status == 201, reply.body
    sighting = latest(app, reply.json()["sightings"][0])
    assert sighting["created_by_ref"] != green["created_by_ref"]  # the partner's own identity
    assert latest(app, sighting["created_by_ref"])["name"] == "siem-green"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"outcome": "maybe", "value": "198.51.100.12"}, "outcome"),
        ({"value": "198.51.100.12", "colour": "red"}, "colour"),
        ({"value": "198.51.100.12", "count": 0}, "count"),
        ({"value": "198.51.100.12", "count": 1_000_001}, "count"),
        ({"value": "198.51.100.12", "count": "3"}, "count"),
        ({"value": "198.51.100.12", "organisation": ""}, "organisation"),
        ({"value": "198.51.100.12", "organisation": "x" * 201}, "organisation"),
        ({"value": "198.51.100.12", "note": "x" * 1001}, "note"),
        ({"value": "198.51.100.12", "last_seen": "yesterday"}, "last_seen"),
        ({"value": "198.51.100.12", "first_seen": _stamp(0), "last_seen": _stamp(1)}, "first_seen"),
        ({"value": "not a value at all"}, "value"),
        ({"indicator_id": "indicator--nope"}, "indicator_id"),
        ({}, "body"),
        ({"value": "198.51.100.12", "indicator_id": f"indicator--{uuid.uuid4()}"}, "body"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(app: App, fields: dict, where: str):
    reply = sight(app, **fields)
    assert reply.status == 400, reply.body
    assert reply.json()["where"] == where, reply.body


def test_a_missing_organisation_or_outcome_is_named(app: App):
    for missing in ("organisation", "outcome"):
        body = {"value": "198.51.100.12", "organisation": "x", "outcome": "true-positive"}
        del body[missing]
        reply = app.request("POST", SIGHTINGS, json_body=body)
        assert reply.status == 400 and reply.json()["where"] == missing, reply.body
    assert app.request("POST", SIGHTINGS, body="[1]", content_type="application/json").status == 400
    assert sight(app, key=False, value="198.51.100.12").status == 401


def _taxii_sighting(indicator_id: str, identity_id: str, **extra) -> dict:
    stamp = _stamp(0)
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created_by_ref": identity_id,
        "created": stamp,
        "modified": stamp,
        "first_seen": _stamp(0.2),
        "last_seen": stamp,
        "count": 2,
        "sighting_of_ref": indicator_id,
        "where_sighted_refs": [identity_id],
        "object_marking_refs": [tlp.GREEN.marking_id],
        **extra,
    }


def test_sightings_posted_over_taxii_move_the_score(app: App):
    refreshed = submit(app, "green", 60, "198.51.100.13")
    negative = submit(app, "green", 60, "198.51.100.14")
    key = add_partner(
        app.services.store,
        "cert-x",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[app.default_collection],
        can_write=[app.default_collection],
    ).key
    identity_id = f"identity--{uuid.uuid4()}"
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": _stamp(1),
        "modified": _stamp(1),
        "name": "CERT-X",
        "identity_class": "organization",
    }
    objects = [
        identity,
        _taxii_sighting(refreshed["id"], identity_id),
        _taxii_sighting(negative["id"], identity_id, x_opencti_negative=True),
    ]
    reply = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/",
        body=json.dumps({"objects": objects}),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        key=key,
    )
    assert reply.status == 202 and reply.json()["success_count"] == 3, reply.body
    assert read_score(latest(app, refreshed["id"])).score == 70  # type: ignore[union-attr]
    assert read_score(latest(app, negative["id"])).score == 35  # type: ignore[union-attr]
    tally = app.services.store.get_sighting_tally("ipv4-addr:198.51.100.14")
    assert tally is not None and tally.count == 1 and tally.organisations == ("CERT-X",)


def test_a_partners_indicator_gets_the_sighting_but_no_new_version(app: App):
    key = add_partner(
        app.services.store,
        "cert-y",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[app.default_collection],
        can_write=[app.default_collection],
    ).key
    identity_id = f"identity--{uuid.uuid4()}"
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created_by_ref": identity_id,
        "created": _stamp(1),
        "modified": _stamp(1),
        "pattern": "[ipv4-addr:value = '198.51.100.15']",
        "pattern_type": "stix",
        "valid_from": _stamp(1),
        "confidence": 70,
        "object_marking_refs": [tlp.GREEN.marking_id],
    }
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": _stamp(1),
        "modified": _stamp(1),
        "name": "CERT-Y",
    }
    reply = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/",
        body=json.dumps({"objects": [identity, indicator]}),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        key=key,
    )
    assert reply.json()["success_count"] == 2, reply.body
    app.drain()  # correlation indexes the value
    reply = sight(app, value="198.51.100.15", outcome="false-positive", note="lab")
    assert reply.status == 201, reply.body
    [about] = reply.json()["indicators"]
    assert about["id"] == indicator["id"] and about["effect"] == "recorded"
    assert latest(app, indicator["id"]) == indicator
    sighting = latest(app, reply.json()["sightings"][0])
    assert sighting["sighting_of_ref"] == indicator["id"]
    assert latest(app, EXTENSION_ID)["type"] == "extension-definition"
    # it still counts towards declaring the value
    tally = app.services.store.get_sighting_tally("ipv4-addr:198.51.100.15")
    assert tally is not None and tally.count == 1 and tally.notes == ("lab",)


def test_a_sighting_reported_in_the_future_counts_as_seen_now(app: App):
    indicator = submit(app, "green", 60, "198.51.100.17")
    future = (NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = sight(app, indicator_id=indicator["id"], last_seen=future)
    assert reply.status == 201, reply.body
    assert latest(app, reply.json()["sightings"][0])["last_seen"].startswith(future[:19])
    fields = read_score(latest(app, indicator["id"]))
    assert fields is not None and fields.last_seen < parse_micros(future)
