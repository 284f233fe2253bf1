"""Media types (1.6.8, 3.1) and authentication (1.6.9): refused requests, in TAXII's own type."""

import pytest
from taxii_world import CAMPAIGN, TAXII, Loaded, indicator, objects_of

from support.app import basic

STATUS = "2d086da7-4bdc-4f91-900e-d77486753710"


def endpoints(loaded: Loaded) -> list[tuple[str, str]]:
    world = loaded.world
    return [
        ("GET", "/taxii2/"),
        ("GET", "/taxii2/steppe/"),
        ("GET", f"/taxii2/steppe/status/{STATUS}/"),
        ("GET", "/taxii2/steppe/collections/"),
        ("GET", world.collection_path()),
        ("GET", world.collection_path(rest="manifest/")),
        ("GET", world.collection_path(rest="objects/")),
        ("POST", world.collection_path(rest="objects/")),
        ("GET", world.collection_path(rest=f"objects/{CAMPAIGN}/")),
        ("DELETE", world.collection_path(rest=f"objects/{CAMPAIGN}/")),
        ("GET", world.collection_path(rest=f"objects/{CAMPAIGN}/versions/")),
    ]


def _envelope() -> bytes:
    import json

    return json.dumps({"objects": [indicator("198.51.100.99")]}).encode()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-key", "Token ", "Basic bm90LWJhc2U2NA==", "Digest abc"],
    ids=["none", "unknown-key", "empty-token", "malformed-basic", "other-scheme"],
)
def test_every_endpoint_needs_credentials(loaded: Loaded, authorization):
    app = loaded.world.app
    headers = {"Accept": TAXII, "Content-Type": TAXII}
    if authorization:
        headers["Authorization"] = authorization
    for method, path in endpoints(loaded):
        reply = app.request(
            method, path, headers=headers, key=False, body=_envelope() if method == "POST" else None
        )
        assert reply.status == 401, (method, path)
        assert reply.header("Content-Type") == TAXII
        assert reply.header("WWW-Authenticate").startswith('Basic realm="steppe"')
        error = reply.json()
        assert error["http_status"] == "401"
        assert "Authorization" in error["description"]
    assert app.services.store.count_objects(loaded.world.shared) == len(loaded.objects)


def test_basic_authentication_with_partner_and_key(loaded: Loaded):
    world = loaded.world
    good = basic("kg-green", world.keys["kg-green"])
    reply = world.app.request(
        "GET", "/taxii2/", headers={"Accept": TAXII, "Authorization": good}, key=False
    )
    assert reply.status == 200
    wrong = basic("kg-amber", world.keys["kg-green"])
    refused = world.app.request(
        "GET", "/taxii2/", headers={"Accept": TAXII, "Authorization": wrong}, key=False
    )
    assert refused.status == 401
    assert "kg-amber" in refused.json()["description"]


@pytest.mark.parametrize(
    "accept",
    [
        "application/taxii+json;version=2.1",
        "application/taxii+json",
        "*/*",
        "application/*",
        "application/stix+json;version=2.1, application/taxii+json;version=2.1",
    ],
)
def test_acceptable_media_ranges_are_served(loaded: Loaded, accept):
    world = loaded.world
    reply = world.get(world.collection_path(rest="objects/"), headers={"Accept": accept})
    assert reply.status == 200
    assert reply.header("Content-Type") == TAXII
    assert objects_of(reply)


def test_no_accept_header_at_all_is_served(loaded: Loaded):
    reply = loaded.world.app.request("GET", "/taxii2/")
    assert reply.status == 200
    assert reply.header("Content-Type") == TAXII


@pytest.mark.parametrize(
    "accept",
    ["application/taxii+json;version=2.0", "application/json", "application/vnd.oasis.taxii+json"],
)
def test_other_versions_and_types_are_406_on_every_endpoint(loaded: Loaded, accept):
    world = loaded.world
    for method, path in endpoints(loaded):
        reply = world.request(
            method,
            path,
            headers={"Accept": accept, "Content-Type": TAXII},
            body=_envelope() if method == "POST" else None,
        )
        assert reply.status == 406, (method, path)
        assert reply.header("Content-Type") == TAXII
        assert reply.json()["details"]["where"] == "header Accept"
    assert world.app.services.store.count_objects(world.shared) == len(loaded.objects)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.0",
        None,
    ],
)
def test_a_post_that_is_not_taxii_21_is_415_and_stores_nothing(loaded: Loaded, content_type):
    world = loaded.world
    headers = {"Content-Type": content_type} if content_type else {}
    reply = world.request(
        "POST", world.collection_path(rest="objects/"), body=_envelope(), headers=headers
    )
    assert reply.status == 415
    assert reply.header("Content-Type") == TAXII
    error = reply.json()
    assert error["http_status"] == "415"
    assert "application/taxii+json;version=2.1" in error["description"]
    assert world.app.services.store.count_objects(world.shared) == len(loaded.objects)


def test_a_content_type_sent_on_a_get_is_ignored(loaded: Loaded):
    world = loaded.world
    for content_type in ("text/plain", "application/json", "application/taxii+json;version=2.0"):
        reply = world.get(
            world.collection_path(rest="objects/"), headers={"Content-Type": content_type}
        )
        assert reply.status == 200
        assert objects_of(reply)


def test_errors_are_taxii_error_resources(loaded: Loaded):
    world = loaded.world
    reply = world.get(world.collection_path(rest="objects/"), query={"limit": "-1"})
    error = reply.json()
    assert reply.header("Content-Type") == TAXII
    assert error["title"] == "Invalid input"
    assert error["http_status"] == str(reply.status) == "400"
    assert "limit" in error["description"]
    assert error["error_id"] == reply.header("x-amzn-RequestId")
