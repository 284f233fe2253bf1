"""Campaigns kept in different collections: linked for the API, never through TAXII."""

from __future__ import annotations

import json

from scenario import (
    GEORGIA_CAMPAIGN,
    KYRGYZSTAN_CAMPAIGN,
    SHARED_WITH_GEORGIA,
    georgia_bundle,
    kyrgyzstan_report,
)
from test_scenario import TAXII, pull

from steppe.access.collections import add_collection
from steppe.access.partners import add_partner
from support.app import App


def test_a_reader_of_one_collection_never_learns_of_a_campaign_kept_in_another(app: App):
    store = app.services.store
    default = app.default_collection
    georgian = add_collection(store, app.settings.api_root, "CERT-GE exchange").id
    cert = add_partner(
        store,
        "cert-ge",
        "partner",
        org_name=app.settings.org_name,
        clearance="amber",
        can_read=[georgian],
        can_write=[georgian],
    ).key
    # Cleared for AMBER, but reads only the default collection.
    reader = add_partner(
        store,
        "kg-amber",
        "partner",
        org_name=app.settings.org_name,
        clearance="amber",
        can_read=[default],
    ).key
    posted = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{georgian}/objects/",
        body=json.dumps(georgia_bundle()),
        headers={"Accept": TAXII},
        content_type=TAXII,
        key=cert,
    )
    assert posted.status == 202, posted.body
    app.drain()
    assert app.submit(kyrgyzstan_report()).status == 201
    app.drain()
    assert app.dead_letters() == []

    for collection, key in ((default, reader), (georgian, cert)):
        text = json.dumps(pull(app, collection, key=key))
        other = GEORGIA_CAMPAIGN if collection == default else KYRGYZSTAN_CAMPAIGN
        assert other not in text  # no link or sighting crosses into the other collection
        assert "exact matches" not in text and '"sighting"' not in text

    # Staff who may read both see the link through the API, with the evidence.
    campaigns = {
        c["name"]: c["id"] for c in app.request("GET", "/api/v1/campaigns").json()["campaigns"]
    }
    view = app.request("GET", f"/api/v1/campaigns/{campaigns[KYRGYZSTAN_CAMPAIGN]}").json()
    [exact] = [r for r in view["related"] if r["strength"] == "exact"]
    assert exact["campaign"]["name"] == GEORGIA_CAMPAIGN
    assert sorted(exact["shared"]) == sorted(SHARED_WITH_GEORGIA)
    # The default collection's reader asks the API: Georgia stays unnamed.
    seen = app.request(
        "GET", "/api/v1/observables", query={"value": "198.51.100.7"}, key=reader
    ).json()
    assert [c["name"] for c in seen["campaigns"]] == [KYRGYZSTAN_CAMPAIGN]
    view = app.request(
        "GET", f"/api/v1/campaigns/{campaigns[KYRGYZSTAN_CAMPAIGN]}", key=reader
    ).json()
    assert view["related"] == []
