"""GET /api/v1/me on both shapes: who a key is, as the console's sign-in check reads it."""

from __future__ import annotations

from steppe.access.collections import add_collection
from steppe.access.partners import add_partner
from support.app import App


def me(app: App, key: str | bool) -> dict:
    reply = app.request("GET", "/api/v1/me", key=key)
    assert reply.status == 200, reply.body
    return reply.json()


def test_me_says_who_the_key_is_and_which_collections_it_may_use(app: App):
    store, root = app.services.store, app.settings.api_root
    default = app.default_collection
    shared = add_collection(store, root, "Central Asian CERTs")
    add_collection(store, root, "internal investigations")  # nobody but admins reads it
    siem = add_partner(
        store,
        "siem-bishkek",
        "partner",
        org_name=app.settings.org_name,
        clearance="amber+strict",
        can_read=[default, shared.id],
        can_write=[shared.id],
    ).key
    answer = me(app, siem)
    assert set(answer) == {"partner", "role", "clearance", "can_read", "can_write"}
    assert (answer["partner"], answer["role"], answer["clearance"]) == (
        "siem-bishkek",
        "partner",
        "amber+strict",
    )
    assert sorted((c["id"], c["title"]) for c in answer["can_read"]) == sorted(
        [(default, app.boot.default_collection.title), (shared.id, "Central Asian CERTs")]
    )
    assert answer["can_write"] == [{"id": shared.id, "title": "Central Asian CERTs"}]

    admin = me(app, True)
    assert admin["role"] == "admin" and admin["clearance"] == "red"
    titles = {c["title"] for c in admin["can_read"]}
    assert {"Central Asian CERTs", "internal investigations"} <= titles
    assert len(admin["can_write"]) == len(admin["can_read"]) == 3


def test_a_reader_of_nothing_is_told_so(app: App):
    key = add_partner(app.services.store, "newcomer", "analyst", org_name=app.settings.org_name).key
    answer = me(app, key)
    assert answer["role"] == "analyst" and answer["can_read"] == [] and answer["can_write"] == []


def test_me_without_a_valid_key_is_401(app: App):
    for key in (False, "not-a-key"):
        reply = app.request("GET", "/api/v1/me", key=key)
        assert reply.status == 401, reply.body
        assert reply.json()["description"]


def test_me_takes_no_query_parameters(app: App):
    reply = app.request("GET", "/api/v1/me", query={"as": "admin"})
    assert reply.status == 400 and reply.json()["where"] == "as", reply.body


def test_the_console_endpoints_are_in_the_openapi_document(app: App):
    document = app.request("GET", "/api/v1/openapi.json", key=False).json()
    assert "get" in document["paths"]["/api/v1/me"]
    graph = document["paths"]["/api/v1/campaigns/graph"]["get"]
    names = {p["name"] for p in graph["parameters"]}
    assert names == {"since", "until", "kind", "collection", "tlp", "strength", "limit"}
    lookup = document["paths"]["/api/v1/observables/lookup"]["post"]
    body = lookup["requestBody"]["content"]["application/json"]["schema"]
    assert {"values", "text", "detail"} <= set(body["properties"])
