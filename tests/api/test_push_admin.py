"""Push destinations through the admin API: added, listed, shown, rotated, removed."""

from __future__ import annotations

import uuid

import pytest

from steppe.access.partners import add_partner
from support.app import App

PUSH = "/api/v1/admin/push"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0d6c4e1a-3b2f-4a5e-8c7d-9e0f1a2b3c4d"
WORKSPACE = "a1b2c3d4-e5f6-4789-8abc-def012345678"


def add(app: App, **fields) -> dict:
    reply = app.request("POST", PUSH, json_body=fields)
    assert reply.status == 201, reply.body
    return reply.json()


def test_a_webhook_is_added_with_its_key_shown_once(app: App):
    hook = add(app, name="soc-hook", kind="webhook", url="https://soc.example.kg/in?x=1")
    assert uuid.UUID(hook["id"]).version == 4
    assert hook["kind"] == "webhook" and hook["types"] == ["indicator"]
    assert hook["collections"] == [app.default_collection] and hook["tlp"] == "green"
    assert hook["settings"] == {"url": "https://soc.example.kg/in?x=1"}
    key = hook["secret"]
    assert key.startswith("whk_") and len(key) >= 4 + 43
    assert app.services.store.get_destination(hook["id"]).secret == key

    listed = app.request("GET", PUSH)
    shown = app.request("GET", f"{PUSH}/soc-hook")
    assert listed.status == shown.status == 200
    for reply in (listed, shown):
        assert key.encode() not in reply.body
    described = {k: v for k, v in hook.items() if k != "secret"}
    assert shown.json() == described == listed.json()["destinations"][0]

    rotated = app.request("POST", f"{PUSH}/soc-hook/rotate")
    assert rotated.status == 200, rotated.body
    new_key = rotated.json()["secret"]
    assert new_key != key and new_key.startswith("whk_")
    assert app.services.store.get_destination(hook["id"]).secret == new_key


def test_a_sentinel_secret_is_kept_and_never_shown(app: App):
    other = app.request("POST", "/api/v1/admin/collections", json_body={"title": "KG 2009"})
    sentinel = add(
        app,
        name="sentinel",
        kind="sentinel",
        collections=["KG 2009"],
        tlp="amber",
        tenant_id=TENANT.upper(),
        client_id=CLIENT,
        workspace_id=WORKSPACE,
        client_secret="Q~entra.secret",
        api_url="http://127.0.0.1:9/",
        source_system="CERT-KG",
    )
    assert "secret" not in sentinel
    assert sentinel["collections"] == [other.json()["id"]] and sentinel["tlp"] == "amber"
    assert sentinel["settings"] == {
        "api_url": "http://127.0.0.1:9/",
        "client_id": CLIENT,
        "source_system": "CERT-KG",
        "tenant_id": TENANT,
        "workspace_id": WORKSPACE,
    }
    shown = app.request("GET", f"{PUSH}/sentinel")
    assert b"Q~entra.secret" not in shown.body
    refused = app.request("POST", f"{PUSH}/sentinel/rotate")
    assert refused.status == 400 and refused.json()["where"] == "client_secret"
    rotated = app.request("POST", f"{PUSH}/sentinel/rotate", json_body={"client_secret": "new"})
    assert rotated.status == 200 and "secret" not in rotated.json()
    assert app.services.store.get_destination(sentinel["id"]).secret == "new"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"kind": "webhook"}, "url"),
        ({"kind": "webhook", "url": "http://soc.example.kg/in"}, "url"),
        ({"kind": "webhook", "url": "https://u:p@soc.example.kg/in"}, "url"),
        ({"kind": "webhook", "url": "ftp://soc.example.kg/"}, "url"),
        ({"kind": "webhook", "url": "https://soc.example.kg/a b"}, "url"),
        ({"kind": "webhook", "url": "https://soc.example.kg:99999/"}, "url"),
        ({"kind": "webhook", "url": "https://x.kg", "client_secret": "s"}, "client_secret"),
        ({"kind": "webhook", "url": "https://x.kg", "tenant_id": TENANT}, "tenant_id"),
        ({"kind": "webhook", "url": "https://x.kg", "types": ["malware"]}, "types[0]"),
        ({"kind": "webhook", "url": "https://x.kg", "collections": ["nope"]}, "collections[0]"),
        ({"kind": "syslog"}, "kind"),
        ({"kind": "sentinel", "client_id": CLIENT, "workspace_id": WORKSPACE}, "tenant_id"),
        (
            {"kind": "sentinel", "tenant_id": "t", "client_id": CLIENT, "workspace_id": WORKSPACE},
            "tenant_id",
        ),
        (
            {
                "kind": "sentinel",
                "tenant_id": TENANT,
                "client_id": CLIENT,
                "workspace_id": WORKSPACE,
            },
            "client_secret",
        ),
    ],
)
def test_bad_destinations_are_refused_naming_the_field(app: App, fields: dict, where: str):
    reply = app.request("POST", PUSH, json_body={"name": "bad", **fields})
    assert reply.status == 400, reply.body
    assert reply.json()["where"] == where
    assert app.request("GET", PUSH).json()["destinations"] == []


def test_a_name_is_taken_once_and_freed_by_removal(app: App):
    first = add(app, name="hook", kind="webhook", url="https://a.example.kg/")
    taken = app.request(
        "POST", PUSH, json_body={"name": "hook", "kind": "webhook", "url": "https://b.kg/"}
    )
    assert taken.status == 409
    removed = app.request("DELETE", f"{PUSH}/hook")
    assert removed.status == 200 and removed.json() == {"deleted": "hook", "id": first["id"]}
    assert app.request("GET", f"{PUSH}/hook").status == 404
    assert app.request("DELETE", f"{PUSH}/hook").status == 404
    assert app.request("POST", f"{PUSH}/hook/rotate").status == 404
    second = add(app, name="hook", kind="webhook", url="https://b.example.kg/")
    assert second["id"] != first["id"]


def test_only_admins_manage_destinations(app: App):
    add(app, name="hook", kind="webhook", url="https://a.example.kg/")
    rights = {"can_read": [app.default_collection], "can_write": [app.default_collection]}
    analyst = add_partner(app.services.store, "ana", "analyst", org_name="steppe", **rights).key
    body = {"name": "y", "kind": "webhook", "url": "https://y.kg/"}
    for method, path in [
        ("GET", PUSH),
        ("POST", PUSH),
        ("GET", f"{PUSH}/hook"),
        ("DELETE", f"{PUSH}/hook"),
        ("POST", f"{PUSH}/hook/rotate"),
    ]:
        reply = app.request(method, path, key=analyst, json_body=body)
        assert reply.status == 403 and "admin" in reply.json()["description"], (method, path)
        assert app.request(method, path, key=False).status == 401
    assert [d.name for d in app.services.store.list_destinations()] == ["hook"]
