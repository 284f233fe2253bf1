"""The ids steppe derives for its intelligence are unguessable outside the installation
(issue 8, finding 11), through HTTP on both shapes.

steppe used to derive them as UUIDv5 in a public namespace over public words
(producer, collection, TLP, name or pattern): a partner could compute the id of
a RED indicator or campaign, post an object under it and learn from the answer
whether steppe holds it. Now an HMAC under the installation's secret scopes
them: the probe finds nothing, and the ids stay the same within an
installation (after a restart too), so a re-submission versions its objects.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steppe.access.partners import add_partner
from steppe.local.server import create_app
from steppe.runtime import build_services, use_services
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id, partner_identity_id
from steppe.stix.score_extension import PROJECT_IDENTITY_ID
from steppe.stix.timestamps import format_stix, parse_micros
from steppe.store.port import ALL_VERSIONS, ObjectQuery
from support.app import ROUTES, App, open_app

TAXII = "application/taxii+json;version=2.1"
DAY = parse_micros("2009-01-18T00:00:00Z")
# The namespace steppe derived its ids in before they carried the installation's secret.
PUBLIC_NAMESPACE = uuid.UUID("6f1c1d2e-4b1e-4f9a-9a57-7b3c2f7d5e01")
CAMPAIGN = "Operation Quiet Steppe"
ADDRESS = "203.0.113.9"
PATTERN = f"[ipv4-addr:value = '{ADDRESS}']"
# Objects anyone may derive: their ids are the same in every installation.
# (and steppe's score extension, with the identity that defines it: the same everywhere)
PUBLIC_TYPES = {
    "marking-definition",
    "attack-pattern",
    "location",
    "ipv4-addr",
    "extension-definition",
}


@pytest.fixture(params=["sqlite", "aws"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app(backend: str, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", backend, STEPPE_CORRELATE="0")
    yield opened
    opened.close()


# -- helpers ----------------------------------------------------------------------------


def public_id(stix_type: str, *key: str) -> str:
    """The id the public formula gives (the old derivation, which the partner knows)."""
    return f"{stix_type}--{uuid.uuid5(PUBLIC_NAMESPACE, chr(31).join((stix_type, *key)))}"


def guesses(app: App) -> dict[str, str]:
    """What a partner can compute for the RED campaign and indicator it suspects."""
    producer = org_identity_id(app.settings.org_name)
    collection = app.default_collection
    scope = f"{collection}/red"
    name = " ".join(CAMPAIGN.split()).casefold()
    return {
        "campaign": public_id("campaign", "campaign", producer, scope, name),
        "indicator": public_id("indicator", "indicator", producer, PATTERN),
        "scoped indicator": public_id("indicator", "indicator", producer, scope, PATTERN),
    }


def report(confidence: int = 60) -> dict[str, Any]:
    return {
        "tlp": "red",
        "confidence": confidence,
        "attack": {"kind": "ddos", "first_seen": "2009-01-18T00:00:00Z"},
        "campaign": {"name": CAMPAIGN},
        "targets": [{"name": "Kyrgyz ISP A", "country": "KG"}],
        "attribution": {"name": "Steppe operators", "country": "RU"},
        "observables": [
            {"type": "ipv4-addr", "value": ADDRESS, "role": "source"},
            {"type": "ipv4-addr", "value": "203.0.113.10", "role": "source"},
        ],
    }


def submit(app: App, body: dict[str, Any]) -> list[dict[str, Any]]:
    reply = app.submit(body)
    assert reply.status == 201, reply.body
    return app.request("GET", reply.json()["links"]["bundle"]).json()["objects"]


def one(objects: list[dict[str, Any]], stix_type: str) -> dict[str, Any]:
    [found] = [obj for obj in objects if obj["type"] == stix_type]
    return found


def indicator_of(objects: list[dict[str, Any]], pattern: str = PATTERN) -> dict[str, Any]:
    [found] = [o for o in objects if o["type"] == "indicator" and o["pattern"] == pattern]
    return found


def versions(app: App, object_id: str) -> list[tuple[int, int, bytes]]:
    page = app.services.store.list_objects(
        app.default_collection,
        ObjectQuery(ids=frozenset({object_id}), versions=ALL_VERSIONS, limit=100),
    )
    return sorted((r.version, r.tlp, r.body) for r in page.records)


def green_partner(app: App) -> str:
    collection = app.default_collection
    return add_partner(
        app.services.store,
        "isp-noc",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[collection],
        can_write=[collection],
    ).key


def probe(object_id: str, stix_type: str, creator: str) -> dict[str, Any]:
    stamp = format_stix(DAY)
    obj: dict[str, Any] = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": object_id,
        "created_by_ref": creator,
        "created": stamp,
        "modified": stamp,
        "object_marking_refs": [tlp.GREEN.marking_id],
    }
    if stix_type == "campaign":
        obj["name"] = CAMPAIGN
    else:
        obj.update(pattern=PATTERN, pattern_type="stix", valid_from=stamp, name=ADDRESS)
    return obj


def answer(app: App, key: str, obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What the TAXII status tells the partner about its object, its id left out."""
    reply = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/",
        body=json.dumps({"objects": [obj]}),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        key=key,
    )
    assert reply.status == 202, reply.body
    status = reply.json()
    assert status["total_count"] == 1, status
    told = []
    for outcome in ("successes", "failures", "pendings"):
        for entry in status.get(outcome, []):
            assert entry["id"] == obj["id"]
            told.append((outcome, entry.get("message", ""), entry.get("version", "")))
    return told


def restarted(app: App) -> App:
    """The same installation in a new process: new services over the same stored data."""
    use_services(None)  # closes the old store
    services = build_services(app.settings)
    if app.aws is not None:
        app.aws.serialise(services.store._table.client)
    use_services(services)
    gateway = create_app(ROUTES, app.settings.max_body_bytes)
    return App(app.settings, services, app.boot, gateway, app.backend, app.aws)


def derived_ids(objects: list[dict[str, Any]], org_id: str) -> dict[str, str]:
    """The ids of what steppe derived that is not public, by a key naming the object."""
    out = {}
    for obj in objects:
        if obj["type"] in PUBLIC_TYPES or obj["id"] in (org_id, PROJECT_IDENTITY_ID):
            continue
        name = obj.get("name") or obj.get("pattern") or obj.get("relationship_type")
        if obj["type"] == "relationship":
            name = f"{obj['relationship_type']} {obj['source_ref'].split('--')[0]}"
            name += f" {obj['target_ref'].split('--')[0]}"
        out[f"{obj['type']} {name}"] = obj["id"]
    return out


# -- a partner cannot probe for RED objects ----------------------------------------------


def test_a_green_partner_cannot_probe_for_a_red_indicator_or_campaign(app: App):
    made = submit(app, report())
    campaign, indicator = one(made, "campaign"), indicator_of(made)
    assert tlp.RED.marking_id in campaign["object_marking_refs"]
    guessed = guesses(app)
    assert campaign["id"] != guessed["campaign"]
    assert indicator["id"] not in (guessed["indicator"], guessed["scoped indicator"])
    before = {oid: versions(app, oid) for oid in (campaign["id"], indicator["id"])}

    key = green_partner(app)
    mine = partner_identity_id("isp-noc")
    steppe = org_identity_id(app.settings.org_name)
    probes = [
        ("campaign", guessed["campaign"]),
        ("indicator", guessed["indicator"]),
        ("indicator", guessed["scoped indicator"]),
    ]
    for stix_type, guessed_id in probes:
        for creator in (steppe, mine):  # mine last: it stores the object
            fresh = f"{stix_type}--{uuid.uuid4()}"
            expected = answer(app, key, probe(fresh, stix_type, creator))
            assert answer(app, key, probe(guessed_id, stix_type, creator)) == expected
    # The partner's own objects were stored as new (the fresh ones, and the guessed ones).
    assert answer(app, key, probe(guessed["campaign"], "campaign", mine))[0][0] == "successes"

    assert {oid: versions(app, oid) for oid in before} == before
    staff_view = app.request(
        "GET",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/"
        f"{campaign['id']}/",
        headers={"Accept": TAXII},
    )
    assert staff_view.json()["objects"] == [campaign]


# -- deterministic within an installation, different between installations ----------------


def test_ids_differ_between_installations_and_survive_a_restart(backend: str, tmp_path: Path):
    first = open_app(tmp_path / "one", backend, STEPPE_CORRELATE="0")
    try:
        org_id = org_identity_id(first.settings.org_name)
        made = submit(first, report())
        ours = derived_ids(made, org_id)
        public = {
            o["id"]
            for o in made
            if o["type"] in PUBLIC_TYPES or o["id"] in (org_id, PROJECT_IDENTITY_ID)
        }

        again = restarted(first)
        first = again
        remade = submit(again, report(confidence=80))
        assert derived_ids(remade, org_id).keys() == ours.keys()
        for name, object_id in derived_ids(remade, org_id).items():
            if not name.startswith(("report ", "observed-data ")):  # per submission
                assert object_id == ours[name], name
        for made_before in (one(made, "campaign"), indicator_of(made)):
            stored = versions(again, made_before["id"])
            assert len(stored) == 2, made_before["type"]
            assert json.loads(stored[-1][2])["confidence"] == 80
            assert {rank for _, rank, _ in stored} == {tlp.RED.rank}
    finally:
        first.close()

    # Another installation: its own secret, other ids for the same report.
    other = open_app(tmp_path / "two", backend, STEPPE_CORRELATE="0")
    try:
        theirs_made = submit(other, report())
        theirs = derived_ids(theirs_made, org_id)
        assert theirs.keys() == ours.keys()
        assert not set(theirs.values()) & set(ours.values())
        assert {o["id"] for o in theirs_made if o["id"] in public} == public
    finally:
        other.close()
