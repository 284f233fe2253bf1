"""The issue's scenario: Estonia 2007, Georgia 2008 (over TAXII), then Kyrgyzstan 2009.

Kyrgyzstan's sources partly overlap Georgia's: steppe links the two campaigns
with the shared addresses and a confidence that says three exact matches, and
records sightings of Georgia's indicators. Estonia shares only an autonomous
system: a weak link, labelled so, never an exact one. A GREEN partner pulling
the collection never learns of the AMBER Georgia campaign through any of it.
"""

from __future__ import annotations

import json
from typing import Any

import stix2
from scenario import (
    ESTONIA_CAMPAIGN,
    GEORGIA_CAMPAIGN,
    KYRGYZSTAN_CAMPAIGN,
    SHARED_WITH_GEORGIA,
    estonia_report,
    georgia_bundle,
    kyrgyzstan_report,
)
from stix2validator import ValidationOptions, validate_instance

from steppe.access.partners import add_partner
from steppe.correlate.engine import confidence
from steppe.jobs.tasks import correlate_message
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id
from support.app import App

TAXII = "application/taxii+json;version=2.1"
VALIDATOR = ValidationOptions(version="2.1")


def pull(app: App, collection: str, key: str | bool = True) -> list[dict[str, Any]]:
    """Every object of the collection over TAXII, all versions' latest, page by page."""
    path = f"/taxii2/{app.settings.api_root}/collections/{collection}/objects/"
    objects: list[dict[str, Any]] = []
    query: dict[str, str] = {"limit": "200"}
    while True:
        reply = app.request("GET", path, headers={"Accept": TAXII}, query=query, key=key)
        assert reply.status == 200, reply.body
        page = reply.json()
        objects += page.get("objects", [])
        if not page.get("more"):
            return objects
        query = {"next": page["next"], "limit": "200"}


def load_story(app: App) -> dict[str, Any]:
    collection = app.default_collection
    store = app.services.store
    georgia_cert = add_partner(
        store,
        "cert-ge",
        "partner",
        org_name=app.settings.org_name,
        clearance="amber",
        can_read=[collection],
        can_write=[collection],
    ).key
    siem = add_partner(
        store,
        "siem-green",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[collection],
    ).key

    assert app.submit(estonia_report()).status == 201
    app.drain()
    bundle = georgia_bundle()
    posted = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{collection}/objects/",
        body=json.dumps(bundle),
        headers={"Accept": TAXII},
        content_type=TAXII,
        key=georgia_cert,
    )
    assert posted.status == 202, posted.body
    assert posted.json()["failure_count"] == 0
    app.drain()
    reply = app.submit(kyrgyzstan_report())
    assert reply.status == 201, reply.body
    app.drain()
    assert app.dead_letters() == []
    return {
        "collection": collection,
        "siem": siem,
        "georgia": bundle["objects"],
        "kyrgyzstan_submission": reply.json()["id"],
        "georgia_status": posted.json()["id"],
    }


def campaign_id(objects: list[dict[str, Any]], name: str) -> str:
    [found] = [o["id"] for o in objects if o["type"] == "campaign" and o["name"] == name]
    return found


def links_between(objects: list[dict[str, Any]], a: str, b: str) -> list[dict[str, Any]]:
    return [
        o
        for o in objects
        if o["type"] == "relationship"
        and o["relationship_type"] == "related-to"
        and {o["source_ref"], o["target_ref"]} == {a, b}
    ]


def test_kyrgyzstan_is_linked_to_georgia_by_what_they_share_and_to_estonia_only_weakly(app: App):
    story = load_story(app)
    objects = pull(app, story["collection"])
    estonia = campaign_id(objects, ESTONIA_CAMPAIGN)
    georgia = campaign_id(objects, GEORGIA_CAMPAIGN)
    kyrgyzstan = campaign_id(objects, KYRGYZSTAN_CAMPAIGN)

    kg_links = links_between(objects, kyrgyzstan, georgia)
    [exact] = [link for link in kg_links if "exact matches" in link["description"]]
    for link in kg_links:
        if link is not exact:  # the same /24 networks: weak evidence, recorded as such
            assert link["description"].startswith("Weak evidence, not an exact match")
            assert link["confidence"] < confidence("exact", 1)
    for address in SHARED_WITH_GEORGIA:
        assert address in exact["description"]
    assert "198.51.100.41" not in exact["description"]  # Kyrgyzstan's alone
    assert "203.0.113.200" not in exact["description"]  # Georgia's alone
    assert exact["confidence"] == confidence("exact", 3)
    assert exact["object_marking_refs"] == [tlp.AMBER.marking_id]  # the stricter of the two

    estonia_links = links_between(objects, kyrgyzstan, estonia)
    assert len(estonia_links) == 1
    [weak] = estonia_links
    assert weak["description"].startswith("Weak evidence, not an exact match")
    assert "AS64500" in weak["description"]
    assert "exact matches" not in weak["description"]
    assert weak["confidence"] < confidence("exact", 1)
    assert weak["object_marking_refs"] == [tlp.GREEN.marking_id]
    assert links_between(objects, estonia, georgia) == []

    # Georgia's indicators for the shared addresses were sighted again, in Kyrgyzstan.
    georgia_indicators = {
        o["pattern"].split("'")[1]: o["id"] for o in story["georgia"] if o["type"] == "indicator"
    }
    sightings = {o["sighting_of_ref"]: o for o in objects if o["type"] == "sighting"}
    assert set(sightings) == {georgia_indicators[a] for a in SHARED_WITH_GEORGIA}
    for sighting in sightings.values():
        assert sighting["count"] == 1
        assert KYRGYZSTAN_CAMPAIGN in sighting["description"]
        assert sighting["object_marking_refs"] == [tlp.AMBER.marking_id]

    correlation = [weak, *kg_links, *sightings.values()]
    for obj in correlation:
        result = validate_instance(obj, VALIDATOR)
        assert result.errors == [], [str(e) for e in result.errors]
        stix2.parse(obj, allow_custom=False)


def test_a_green_partner_never_learns_of_the_amber_campaign(app: App):
    story = load_story(app)
    everything = pull(app, story["collection"])
    georgia = campaign_id(everything, GEORGIA_CAMPAIGN)
    georgia_ids = {o["id"] for o in story["georgia"] if o["type"] != "marking-definition"}
    georgia_ids.discard(next(o["id"] for o in story["georgia"] if o["type"] == "identity"))

    seen = pull(app, story["collection"], key=story["siem"])
    text = json.dumps(seen)
    assert georgia not in text
    assert GEORGIA_CAMPAIGN not in text and "Georgia" not in text
    assert not any(ref in text for ref in georgia_ids)
    assert "203.0.113.200" not in text  # a value only Georgia reported
    # What it may see, it does see: both GREEN campaigns and their weak link.
    assert {o["name"] for o in seen if o["type"] == "campaign"} == {
        ESTONIA_CAMPAIGN,
        KYRGYZSTAN_CAMPAIGN,
    }
    assert (
        len(
            links_between(
                seen, campaign_id(seen, ESTONIA_CAMPAIGN), campaign_id(seen, KYRGYZSTAN_CAMPAIGN)
            )
        )
        == 1
    )


def test_correlating_again_changes_nothing(app: App):
    """A retried correlation job (or one run twice) writes nothing and indexes nothing new."""
    story = load_story(app)
    store = app.services.store
    before = store.count_objects(story["collection"])
    objects_before = pull(app, story["collection"])
    campaigns_before = store.list_campaigns()
    again = correlate_message("submission", submission_id=story["kyrgyzstan_submission"], chunk=1)
    app.services.queue.send([again, again])
    assert app.drain() == 2
    assert store.count_objects(story["collection"]) == before
    assert pull(app, story["collection"]) == objects_before
    assert [(c.id, c.values) for c in store.list_campaigns()] == [
        (c.id, c.values) for c in campaigns_before
    ]


def test_the_link_does_not_depend_on_which_came_first(app: App):
    """Georgia posted after Kyrgyzstan: the same link, found from the other side."""
    collection = app.default_collection
    cert = add_partner(
        app.services.store,
        "cert-ge",
        "partner",
        org_name=app.settings.org_name,
        clearance="amber",
        can_read=[collection],
        can_write=[collection],
    ).key
    assert app.submit(kyrgyzstan_report()).status == 201
    app.drain()
    posted = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{collection}/objects/",
        body=json.dumps(georgia_bundle()),
        headers={"Accept": TAXII},
        content_type=TAXII,
        key=cert,
    )
    assert posted.status == 202
    app.drain()
    objects = pull(app, collection)
    links = links_between(
        objects,
        campaign_id(objects, KYRGYZSTAN_CAMPAIGN),
        campaign_id(objects, GEORGIA_CAMPAIGN),
    )
    exact = [link for link in links if "exact matches" in link["description"]]
    assert len(exact) == 1
    assert exact[0]["confidence"] == confidence("exact", 3)
    # Kyrgyzstan's own indicators for the shared addresses are the ones sighted now.
    sighted = {o["sighting_of_ref"] for o in objects if o["type"] == "sighting"}
    kyrgyz_indicators = {
        o["id"]
        for o in objects
        if o["type"] == "indicator"
        and o["created_by_ref"] == org_identity_id(app.settings.org_name)
        and o["pattern"].split("'")[1] in SHARED_WITH_GEORGIA
    }
    assert sighted == kyrgyz_indicators


def test_the_analyst_api_answers_the_question_and_keeps_the_amber_campaign_hidden(app: App):
    """ "Have these IPs attacked before?", asked by an analyst and by the GREEN SIEM."""
    story = load_story(app)
    objects = pull(app, story["collection"])
    georgia = campaign_id(objects, GEORGIA_CAMPAIGN)
    kyrgyzstan = campaign_id(objects, KYRGYZSTAN_CAMPAIGN)
    estonia = campaign_id(objects, ESTONIA_CAMPAIGN)

    seen = app.request("GET", "/api/v1/observables", query={"value": "198.51.100.7"}).json()
    assert seen["found"]
    assert {c["id"] for c in seen["campaigns"]} == {georgia, kyrgyzstan}
    assert seen["count"] >= 2

    view = app.request("GET", f"/api/v1/campaigns/{kyrgyzstan}").json()
    related = {(r["campaign"]["id"], r["strength"]): r for r in view["related"]}
    exact = related[(georgia, "exact")]
    assert exact["count"] == 3 and exact["evidence"] == "strong"
    assert sorted(exact["shared"]) == sorted(SHARED_WITH_GEORGIA)
    assert exact["confidence"] == confidence("exact", 3)
    assert related[(estonia, "asn")]["evidence"] == "weak"
    assert related[(estonia, "asn")]["shared"] == ["AS64500"]
    assert (estonia, "exact") not in related

    siem = story["siem"]
    seen = app.request(
        "GET", "/api/v1/observables", query={"value": "198.51.100.7"}, key=siem
    ).json()
    assert {c["id"] for c in seen["campaigns"]} == {kyrgyzstan}
    view = app.request("GET", f"/api/v1/campaigns/{kyrgyzstan}", key=siem).json()
    assert {r["campaign"]["id"] for r in view["related"]} == {estonia}
    assert app.request("GET", f"/api/v1/campaigns/{georgia}", key=siem).status == 404
    listed = app.request("GET", "/api/v1/campaigns", key=siem).json()["campaigns"]
    assert {c["id"] for c in listed} == {estonia, kyrgyzstan}
    assert "Georgia" not in json.dumps([seen, view, listed])
