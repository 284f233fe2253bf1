"""Issue 8, finding 10 (admin part): every admin body and parameter goes through a model.

`{"tlp": 5}` for a partner and an object as a collection description answered
500, and a partner named "None" was accepted. Each bad input below is a 4xx
JSON error whose `where` names the field, and nothing is written. The models
are stated in /api/v1/openapi.json. Through HTTP on both store adapters.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.app import App, open_app

PARTNERS = "/api/v1/admin/partners"
COLLECTIONS = "/api/v1/admin/collections"


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()


def state(app: App) -> tuple[list, list]:
    store = app.services.store
    return store.list_partners(), store.list_collections(app.settings.api_root)


def refused(reply, where: str, status: int = 400) -> None:
    assert reply.status == status, reply.body
    assert reply.header("Content-Type") == "application/json"
    body = reply.json()
    assert body["where"] == where, body
    assert body["http_status"] == str(status) and body["description"]


NEW_PARTNERS = [
    ({"name": "cert-ee", "tlp": 5}, "tlp"),
    ({"name": "cert-ee", "tlp": "purple"}, "tlp"),
    ({"name": "cert-ee", "tlp": ["green"]}, "tlp"),
    ({"name": "None"}, "name"),
    ({"name": "null"}, "name"),
    ({"name": "NULL"}, "name"),
    ({"name": 5}, "name"),
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": "a" * 65}, "name"),
    ({"name": "a:b"}, "name"),
    ({"name": "-rf"}, "name"),
    ({"name": "../admin"}, "name"),
    ({"name": "cert-ee", "role": "root"}, "role"),
    ({"name": "cert-ee", "role": 1}, "role"),
    ({"name": "cert-ee", "read": "steppe indicators"}, "read"),
    ({"name": "cert-ee", "read": [{"id": 1}]}, "read[0]"),
    ({"name": "cert-ee", "write": ["steppe indicators", "nope"]}, "write[1]"),
    ({"name": "cert-ee", "read": ["x"] * 1001}, "read"),
    ({"name": "cert-ee", "id": "5b0c2d9e-8a41-4f3e-b7c6-1d2e3f4a5b6c"}, "id"),
    ({"name": "cert-ee", "identity": "identity--x"}, "identity"),
    ({}, "name"),
]


@pytest.mark.parametrize(("body", "where"), NEW_PARTNERS)
def test_a_bad_new_partner_is_refused_and_nothing_is_written(app: App, body, where):
    before = state(app)
    refused(app.request("POST", PARTNERS, json_body=body), where)
    assert state(app) == before


PARTNER_CHANGES = [
    ({"tlp": 5}, "tlp"),
    ({"tlp": {"level": "red"}}, "tlp"),
    ({"role": None, "name": "renamed"}, "name"),
    ({"read": [None]}, "read[0]"),
    ({"write": "all"}, "write"),
]


@pytest.mark.parametrize(("body", "where"), PARTNER_CHANGES)
def test_a_bad_partner_change_is_refused_and_nothing_is_written(app: App, body, where):
    app.request("POST", PARTNERS, json_body={"name": "cert-ee"})
    before = state(app)
    refused(app.request("PATCH", f"{PARTNERS}/cert-ee", json_body=body), where)
    assert state(app) == before


NEW_COLLECTIONS = [
    ({"title": "feed", "description": {"text": "x"}}, "description"),
    ({"title": "feed", "description": ["x"]}, "description"),
    ({"title": "feed", "description": "x" * 10_001}, "description"),
    ({"title": 7}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "t" * 201}, "title"),
    ({"title": "feed", "unmarked_tlp": 1}, "unmarked_tlp"),
    ({"title": "feed", "unmarked_tlp": "purple"}, "unmarked_tlp"),
    ({"title": "feed", "active_only": "yes"}, "active_only"),
    ({"title": "feed", "active_only": 1}, "active_only"),
    ({"title": "feed", "alias": 5}, "alias"),
    ({"title": "feed", "default": True}, "default"),
    ({"description": "no title"}, "title"),
]


@pytest.mark.parametrize(("body", "where"), NEW_COLLECTIONS)
def test_a_bad_new_collection_is_refused_and_nothing_is_written(app: App, body, where):
    before = state(app)
    refused(app.request("POST", COLLECTIONS, json_body=body), where)
    assert state(app) == before


@pytest.mark.parametrize(
    ("body", "where"),
    [({"description": {"a": 1}}, "description"), ({"title": None, "id": "x"}, "id")],
)
def test_a_bad_collection_change_is_refused_and_nothing_is_written(app: App, body, where):
    before = state(app)
    path = f"{COLLECTIONS}/{app.default_collection}"
    refused(app.request("PATCH", path, json_body=body), where)
    assert state(app) == before


@pytest.mark.parametrize(
    ("raw", "where"),
    [(b"{nope", "body"), (b"[1, 2]", "body"), (b'"cert-ee"', "body"), (b"null", "body")],
)
def test_a_body_that_is_not_a_json_object_is_refused(app: App, raw, where):
    before = state(app)
    for path in (PARTNERS, COLLECTIONS):
        refused(app.request("POST", path, body=raw, content_type="application/json"), where)
    assert state(app) == before


def test_an_oversized_body_is_refused(app: App):
    body = b'{"name": "cert-ee", "read": [' + b'"x",' * 70_000 + b'"x"]}'
    refused(app.request("POST", PARTNERS, body=body, content_type="application/json"), "body", 413)


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ({"limit": "9" * 5000}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": "9999-99-99"}, "until"),
        ({"partner": "p" * 101}, "partner"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_audit_parameters_name_the_parameter(app: App, query, where):
    refused(app.request("GET", "/api/v1/admin/audit", query=query), where)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PARTNERS),
        ("GET", f"{PARTNERS}/admin"),
        ("GET", COLLECTIONS),
        ("POST", f"{PARTNERS}/admin/rotate"),
    ],
)
def test_unknown_query_parameters_are_refused(app: App, method, path):
    before = state(app)
    refused(app.request(method, path, query={"force": "1"}), "force")
    assert state(app) == before


def test_path_parameters_are_checked(app: App):
    refused(app.request("GET", f"{PARTNERS}/{'n' * 101}"), "name")
    refused(app.request("GET", f"{PARTNERS}/nobody"), "name", 404)
    refused(app.request("PATCH", f"{COLLECTIONS}/{'c' * 201}", json_body={}), "collection_id")
    refused(app.request("PATCH", f"{COLLECTIONS}/nothing-here", json_body={}), "collection_id", 404)
    # a collection may be named by its title
    renamed = app.request(
        "PATCH", f"{COLLECTIONS}/steppe indicators", json_body={"description": "all of it"}
    )
    assert renamed.status == 200 and renamed.json()["id"] == app.default_collection


def test_a_non_admin_is_refused_before_its_body_is_read(app: App):
    created = app.request(
        "POST",
        PARTNERS,
        json_body={"name": "ana", "role": "analyst", "read": [app.default_collection]},
    )
    key = created.json()["key"]
    reply = app.request("POST", PARTNERS, json_body={"name": "None", "tlp": 5}, key=key)
    assert reply.status == 403
    assert app.request("POST", PARTNERS, json_body={"tlp": 5}, key=False).status == 401


def test_good_input_in_its_accepted_spellings(app: App):
    reply = app.request(
        "POST",
        PARTNERS,
        json_body={"name": "soc@cert.ee", "tlp": "TLP:AMBER+STRICT", "read": ["steppe indicators"]},
    )
    assert reply.status == 201, reply.body
    assert reply.json()["tlp"] == "amber+strict"
    assert reply.json()["read"] == [app.default_collection]
    collection = app.request(
        "POST", COLLECTIONS, json_body={"title": "KG 2009", "alias": "kg", "unmarked_tlp": "Red"}
    )
    assert collection.status == 201 and collection.json()["unmarked_tlp"] == "red"
    cleared = app.request(
        "PATCH", f"{COLLECTIONS}/{collection.json()['id']}", json_body={"alias": None}
    )
    assert cleared.status == 200 and cleared.json()["alias"] is None


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "role", "tlp", "read", "write", "title", "description"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
            max_leaves=4,
        ),
    )
)
def test_any_json_body_is_answered_without_a_server_error(app: App, body):
    for method, path in (
        ("POST", PARTNERS),
        ("PATCH", f"{PARTNERS}/admin"),
        ("POST", COLLECTIONS),
    ):
        reply = app.request(method, path, json_body=body)
        assert reply.status < 500, (method, path, body, reply.body)
        if reply.status >= 400:
            assert reply.json()["where"]


def test_the_admin_models_are_in_the_openapi_document(app: App):
    document = app.request("GET", "/api/v1/openapi.json", key=False).json()
    paths = document["paths"]
    post = paths[PARTNERS]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert post["title"] == "PartnerCreate" and post["required"] == ["name"]
    assert post["additionalProperties"] is False
    assert post["properties"]["name"]["pattern"]
    tlp = post["properties"]["tlp"]["anyOf"][0]["enum"]
    assert tlp == ["clear", "green", "amber", "amber+strict", "red"]
    patch = paths[f"{PARTNERS}/{{name}}"]["patch"]["requestBody"]["content"]
    assert patch["application/json"]["schema"]["title"] == "PartnerUpdate"
    for path, title in ((COLLECTIONS, "CollectionCreate"),):
        schema = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["title"] == title
    collection_patch = paths[f"{COLLECTIONS}/{{collection_id}}"]["patch"]["requestBody"]
    assert collection_patch["content"]["application/json"]["schema"]["title"] == "CollectionUpdate"
    audit = {p["name"]: p for p in paths["/api/v1/admin/audit"]["get"]["parameters"]}
    assert set(audit) == {"since", "until", "partner", "partner_id", "limit"}
    assert audit["limit"]["schema"]["maximum"] == 1000
