"""Issue 8, findings 5, 8 and 11 (first point): who owns what, and which keys stay dead.

- 5: an analyst could revoke another analyst's submission; only its submitter
  (by stable partner id) or an admin may read, revoke or reprocess it, and to
  anyone else it does not exist (404).
- 8: a revoked admin key came back on restart while STEPPE_ADMIN_KEY was set;
  the variable only creates the first admin.
- 11a: a deleted partner's name, created again, inherited its submissions,
  TAXII statuses and idempotency records; ownership now follows the partner's
  stable id, so the new holder of the name reaches none of them.

Through HTTP on both store adapters (and a real `steppe serve` restart for 8).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from steppe.access.bootstrap import ensure_bootstrapped
from steppe.stix.timestamps import format_stix, now_micros
from support.app import App, example, open_app
from support.server import steppe_serve

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()


def add(app: App, name: str, role: str, **fields: object) -> dict:
    reply = app.request(
        "POST", "/api/v1/admin/partners", json_body={"name": name, "role": role, **fields}
    )
    assert reply.status == 201, reply.body
    return reply.json()


def analyst(app: App, name: str) -> dict:
    feed = app.default_collection
    return add(app, name, "analyst", read=[feed], write=[feed])


def revoke(app: App, submission_id: str, key: str | bool = True):
    return app.request(
        "POST",
        f"/api/v1/submissions/{submission_id}/revoke",
        json_body={"reason": "false report"},
        key=key,
    )


# -- finding 5 ---------------------------------------------------------------------------


def test_only_the_submitter_or_an_admin_can_see_revoke_or_reprocess_a_submission(app: App):
    alice, bob = analyst(app, "alice"), analyst(app, "bob")
    submitted = app.submit(example(), key=alice["key"])
    assert submitted.status == 201, submitted.body
    sid = submitted.json()["id"]
    stored = app.services.store.count_objects(app.default_collection)

    for method, rest in [
        ("GET", ""),
        ("GET", "/bundle"),
        ("POST", "/reprocess"),
        ("POST", "/revoke"),
    ]:
        reply = app.request(
            method,
            f"/api/v1/submissions/{sid}{rest}",
            json_body={"reason": "not mine"} if rest == "/revoke" else None,
            key=bob["key"],
        )
        assert reply.status == 404, (method, rest, reply.body)
        assert reply.json()["where"] == "submission_id"
        # the same answer as for an id that does not exist: nothing confirms it
        assert reply.json()["description"] == f"there is no submission '{sid}'"
    assert app.request("GET", "/api/v1/submissions", key=bob["key"]).json() == {"submissions": []}
    # bob's attempts changed nothing
    after = app.request("GET", f"/api/v1/submissions/{sid}", key=alice["key"]).json()
    assert after["revoked"] is None
    assert app.services.store.count_objects(app.default_collection) == stored

    # its submitter may reprocess and revoke it
    assert app.request("POST", f"/api/v1/submissions/{sid}/reprocess", key=alice["key"]).status in (
        200,
        201,
    )
    revoked = revoke(app, sid, alice["key"])
    assert revoked.status == 200, revoked.body
    shown = app.request("GET", f"/api/v1/submissions/{sid}", key=alice["key"]).json()
    assert shown["revoked"]["analyst"] == "alice"


def test_an_admin_may_revoke_anyones_submission(app: App):
    alice = analyst(app, "alice")
    sid = app.submit(example(), key=alice["key"]).json()["id"]
    assert revoke(app, sid).status == 200  # the admin key
    assert app.request("GET", f"/api/v1/submissions/{sid}").json()["revoked"] is not None


def test_a_partner_cannot_reach_submissions(app: App):
    alice = analyst(app, "alice")
    sid = app.submit(example(), key=alice["key"]).json()["id"]
    partner = add(app, "cert-ee", "partner", read=[app.default_collection])
    assert app.request("GET", f"/api/v1/submissions/{sid}", key=partner["key"]).status == 404
    assert revoke(app, sid, partner["key"]).status == 403  # the role comes first


# -- finding 11 (first point) ------------------------------------------------------------


def _post_envelope(app: App, partner: dict) -> dict:
    stamp = format_stix(now_micros())
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": partner["identity"],
        "name": "DDoS source",
        "pattern": "[ipv4-addr:value = '198.51.100.77']",
        "pattern_type": "stix",
        "valid_from": stamp,
    }
    reply = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/",
        body=json.dumps({"objects": [indicator]}),
        headers={"Content-Type": TAXII, "Accept": TAXII},
        key=partner["key"],
    )
    assert reply.status == 202, reply.body
    return reply.json()


def _status(app: App, status_id: str, key: str):
    return app.request(
        "GET",
        f"/taxii2/{app.settings.api_root}/status/{status_id}/",
        headers={"Accept": TAXII},
        key=key,
    )


def test_a_name_deleted_and_created_again_inherits_nothing(app: App):
    feed = app.default_collection
    old_analyst = analyst(app, "ana")
    old_partner = add(app, "cert-kg", "partner", read=[feed], write=[feed])
    retry = {"Idempotency-Key": "report-2009-01-18"}
    first = app.submit(example(), key=old_analyst["key"], headers=retry)
    assert first.status == 201
    status = _post_envelope(app, old_partner)
    assert _status(app, status["id"], old_partner["key"]).status == 200

    for name in ("ana", "cert-kg"):
        assert app.request("DELETE", f"/api/v1/admin/partners/{name}").status == 200
    new_analyst = analyst(app, "ana")
    new_partner = add(app, "cert-kg", "partner", read=[feed], write=[feed])
    assert new_analyst["id"] != old_analyst["id"] and new_partner["id"] != old_partner["id"]
    for partner in (new_analyst, new_partner, old_analyst, old_partner):
        assert uuid.UUID(partner["id"]).version == 4
    # a partner's STIX identity follows its id: the new holder of the name cannot
    # pass for the producer of the old one's objects
    assert new_partner["identity"] != old_partner["identity"]

    key = new_analyst["key"]
    sid = first.json()["id"]
    assert app.request("GET", f"/api/v1/submissions/{sid}", key=key).status == 404
    assert revoke(app, sid, key).status == 404
    assert app.request("GET", "/api/v1/submissions", key=key).json() == {"submissions": []}
    # the old Idempotency-Key replays nothing of the old holder: a submission of its own
    again = app.submit(example(), key=key, headers=retry)
    assert again.status == 201, again.body
    assert again.json()["id"] != sid and again.json()["submitted_by"] == "ana"
    assert app.request("GET", f"/api/v1/submissions/{again.json()['id']}", key=key).status == 200

    refused = _status(app, status["id"], new_partner["key"])
    assert refused.status == 404 and refused.header("Content-Type") == TAXII
    # the admin still sees the old submission, and who made it
    old = app.request("GET", f"/api/v1/submissions/{sid}").json()
    assert old["submitted_by"] == "ana"


def test_the_audit_trail_tells_two_holders_of_a_name_apart(app: App):
    feed = app.default_collection
    old = add(app, "cert-kg", "partner", read=[feed])
    path = f"/taxii2/{app.settings.api_root}/collections/"
    assert app.request("GET", path, headers={"Accept": TAXII}, key=old["key"]).status == 200
    assert app.request("DELETE", "/api/v1/admin/partners/cert-kg").status == 200
    new = add(app, "cert-kg", "partner", read=[feed])
    assert app.request("GET", path, headers={"Accept": TAXII}, key=new["key"]).status == 200

    records = app.request("GET", "/api/v1/admin/audit", query={"partner": "cert-kg"}).json()
    assert [r["partner_id"] for r in records["records"]] == [new["id"], old["id"]]
    only_old = app.request("GET", "/api/v1/admin/audit", query={"partner_id": old["id"]}).json()
    assert [r["partner_id"] for r in only_old["records"]] == [old["id"]]


def test_an_admin_cannot_delete_itself_and_keeps_its_id(app: App):
    listed = app.request("GET", "/api/v1/admin/partners").json()["partners"]
    [admin] = [p for p in listed if p["name"] == "admin"]
    refused = app.request("DELETE", "/api/v1/admin/partners/admin")
    assert refused.status == 400 and refused.json()["where"] == "name"
    app.request("PATCH", "/api/v1/admin/partners/admin", json_body={"tlp": "red"})
    assert app.request("GET", "/api/v1/admin/partners/admin").json()["id"] == admin["id"]


# -- finding 8 ---------------------------------------------------------------------------


def test_a_later_start_never_gives_back_or_adds_an_admin_key(app: App):
    """Both shapes: the bootstrap a restart (or `steppe bootstrap` on AWS) runs again."""
    configured = "stp_configured-admin-key-0123456789abcdef"
    first_key = app.admin_key
    # STEPPE_ADMIN_KEY set (or changed) after the first start: not a key of anyone
    again = ensure_bootstrapped(app.services.store, app.settings, admin_key=configured)
    assert again.admin_key is None
    assert app.request("GET", "/api/v1/admin/partners", key=configured).status == 401

    ops = add(app, "ops", "admin")
    assert app.request("POST", "/api/v1/admin/partners/admin/revoke").json()["revoked_keys"] == 1
    ensure_bootstrapped(app.services.store, app.settings, admin_key=first_key)
    assert app.request("GET", "/api/v1/admin/partners", key=first_key).status == 401

    deleted = app.request("DELETE", "/api/v1/admin/partners/admin", key=ops["key"])
    assert deleted.status == 200
    ensure_bootstrapped(app.services.store, app.settings, admin_key=first_key)
    assert app.request("GET", "/api/v1/admin/partners/admin", key=ops["key"]).status == 404
    assert app.request("GET", "/api/v1/admin/partners", key=first_key).status == 401


def test_a_revoked_admin_key_stays_revoked_across_a_restart(tmp_path: Path):
    data = tmp_path / "data"
    admin_key = "stp_e2e-admin-key-0123456789abcdefghijkl"
    with steppe_serve(data, STEPPE_ADMIN_KEY=admin_key) as server:
        assert "admin key (shown once)" in "".join(server.output)
        status, ops = server.json(
            "POST",
            "/api/v1/admin/partners",
            admin_key,
            body=json.dumps({"name": "ops", "role": "admin"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 201
        status, rotated = server.json("POST", "/api/v1/admin/partners/admin/rotate", admin_key)
        assert status == 200
        assert server.json("GET", "/api/v1/admin/partners", admin_key)[0] == 401

    with steppe_serve(data, STEPPE_ADMIN_KEY=admin_key) as server:
        assert not re.search(r"admin key", "".join(server.output))
        assert server.json("GET", "/api/v1/admin/partners", admin_key)[0] == 401
        assert server.json("GET", "/api/v1/admin/partners", rotated["key"])[0] == 200
        status, _ = server.json("POST", "/api/v1/admin/partners/admin/revoke", ops["key"])
        assert status == 200

    with steppe_serve(data, STEPPE_ADMIN_KEY=admin_key) as server:
        for key in (admin_key, rotated["key"]):
            assert server.json("GET", "/api/v1/admin/partners", key)[0] == 401
        status, admin = server.json("GET", "/api/v1/admin/partners/admin", ops["key"])
        assert status == 200 and admin["name"] == "admin"  # the record stays, keyless
