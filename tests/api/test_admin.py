"""Partners, keys, collections and the audit trail through the admin API."""

import uuid

from steppe.access.partners import add_partner
from steppe.stix.timestamps import now_micros, parse_micros
from steppe.store.port import AuditRecord
from support.app import App


def create(app: App, **fields) -> dict:
    reply = app.request("POST", "/api/v1/admin/partners", json_body=fields)
    assert reply.status == 201, reply.body
    return reply.json()


def test_a_partner_gets_a_key_that_works_until_rotated_or_revoked(app: App):
    partner = create(app, name="cert-ee", tlp="green", read=["steppe indicators"])
    assert partner["role"] == "partner" and partner["tlp"] == "green"
    assert partner["read"] == [app.default_collection] and partner["write"] == []
    first_key = partner["key"]
    assert app.request("GET", "/api/v1/submissions", key=first_key).status == 200

    rotated = app.request("POST", "/api/v1/admin/partners/cert-ee/rotate").json()
    assert "key" in rotated and rotated["key"] != first_key
    refused = app.request("GET", "/api/v1/submissions", key=first_key)
    assert refused.status == 401 and "not valid" in refused.json()["description"]
    assert app.request("GET", "/api/v1/submissions", key=rotated["key"]).status == 200

    revoked = app.request("POST", "/api/v1/admin/partners/cert-ee/revoke").json()
    assert revoked == {"name": "cert-ee", "revoked_keys": 1}
    assert app.request("GET", "/api/v1/submissions", key=rotated["key"]).status == 401
    # the partner record stays, without keys, and can be given a new one
    assert app.request("GET", "/api/v1/admin/partners/cert-ee").json()["name"] == "cert-ee"
    again = app.request("POST", "/api/v1/admin/partners/cert-ee/rotate").json()
    assert app.request("GET", "/api/v1/submissions", key=again["key"]).status == 200


def test_partners_are_listed_updated_and_deleted(app: App):
    create(app, name="cert-ge", tlp="amber")
    names = [p["name"] for p in app.request("GET", "/api/v1/admin/partners").json()["partners"]]
    assert names == ["admin", "cert-ge"]
    updated = app.request(
        "PATCH",
        "/api/v1/admin/partners/cert-ge",
        json_body={"tlp": "amber+strict", "write": [app.default_collection]},
    ).json()
    assert updated["tlp"] == "amber+strict" and updated["write"] == [app.default_collection]
    assert updated["read"] == []  # untouched fields stay as they were
    key = app.request("POST", "/api/v1/admin/partners/cert-ge/rotate").json()["key"]
    assert app.request("DELETE", "/api/v1/admin/partners/cert-ge").status == 200
    assert app.request("GET", "/api/v1/admin/partners/cert-ge").status == 404
    assert app.request("GET", "/api/v1/submissions", key=key).status == 401


def test_bad_partner_requests_say_what_is_wrong(app: App):
    cases = [
        ({"name": "x", "tlp": "purple"}, 400, "tlp"),
        ({"name": "x", "role": "god"}, 400, "role"),
        ({"name": "x", "read": ["no such feed"]}, 400, "read[0]"),
        ({"name": "x", "colour": "red"}, 400, "colour"),
        ({"tlp": "green"}, 400, "name"),
        ({"name": "has space"}, 400, "name"),
        ({"name": "admin"}, 409, "name"),
    ]
    for body, status, where in cases:
        reply = app.request("POST", "/api/v1/admin/partners", json_body=body)
        assert reply.status == status, (body, reply.body)
        assert reply.json()["where"] == where, (body, reply.json())
    malformed = app.request(
        "POST", "/api/v1/admin/partners", body=b"{nope", content_type="application/json"
    )
    assert malformed.status == 400 and malformed.json()["where"] == "body"
    assert [p["name"] for p in app.request("GET", "/api/v1/admin/partners").json()["partners"]] == [
        "admin"
    ]


def test_only_admins_manage(app: App):
    rights = {"can_read": [app.default_collection], "can_write": [app.default_collection]}
    analyst = add_partner(app.services.store, "ana", "analyst", org_name="steppe", **rights).key
    for method, path in [
        ("GET", "/api/v1/admin/partners"),
        ("POST", "/api/v1/admin/partners/ana/rotate"),
        ("GET", "/api/v1/admin/collections"),
        ("GET", "/api/v1/admin/audit"),
    ]:
        reply = app.request(method, path, key=analyst)
        assert reply.status == 403 and "admin" in reply.json()["description"], (method, path)
    assert app.request("GET", "/api/v1/admin/partners", key=False).status == 401


def test_collections_have_uuid4_ids_and_unique_titles(app: App):
    reply = app.request(
        "POST",
        "/api/v1/admin/collections",
        json_body={
            "title": "Kyrgyzstan 2009",
            "description": "KG ISP DDoS",
            "unmarked_tlp": "clear",
        },
    )
    assert reply.status == 201, reply.body
    collection = reply.json()
    assert uuid.UUID(collection["id"]).version == 4
    assert collection["unmarked_tlp"] == "clear" and collection["default"] is False
    taken = app.request("POST", "/api/v1/admin/collections", json_body={"title": "Kyrgyzstan 2009"})
    assert taken.status == 409
    titles = [
        c["title"] for c in app.request("GET", "/api/v1/admin/collections").json()["collections"]
    ]
    assert titles == ["steppe indicators", "Kyrgyzstan 2009"]
    patched = app.request(
        "PATCH",
        f"/api/v1/admin/collections/{collection['id']}",
        json_body={"unmarked_tlp": "amber"},
    )
    assert patched.status == 200 and patched.json()["unmarked_tlp"] == "amber"
    assert app.services.store.get_collection(collection["id"]).unmarked_tlp == 2
    missing = app.request("PATCH", f"/api/v1/admin/collections/{uuid.uuid4()}", json_body={})
    assert missing.status == 404


def test_the_audit_trail_is_listed_newest_first(app: App):
    start = now_micros()
    for n in range(5):
        app.services.store.append_audit(
            AuditRecord(
                time=start + n,
                request_id=f"r{n}",
                partner="cert-ee" if n % 2 else "cert-ge",
                method="GET",
                path="/taxii2/steppe/collections/x/objects/",
                status=200,
                collection_id="x",
                objects=10 * n,
            )
        )
    records = app.request("GET", "/api/v1/admin/audit").json()["records"]
    assert [r["request_id"] for r in records] == ["r4", "r3", "r2", "r1", "r0"]
    assert parse_micros(records[0]["time"]) == start + 4 and records[0]["objects"] == 40
    ee = app.request("GET", "/api/v1/admin/audit", query={"partner": "cert-ee", "limit": "1"})
    assert [r["request_id"] for r in ee.json()["records"]] == ["r3"]
    bad = app.request("GET", "/api/v1/admin/audit", query={"since": "yesterday"})
    assert bad.status == 400 and bad.json()["where"] == "since"
