"""Bad input: a 4xx with a JSON error naming what is at fault, and nothing written."""

import base64
import copy
from pathlib import Path

import pytest

from steppe.access.partners import add_partner
from support.app import App, example, open_app, stored_count


def broken(path: list, value) -> bytes:
    report = copy.deepcopy(example())
    target = report
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    import json

    return json.dumps(report).encode()


JSON = "application/json"
CSV = "text/csv"

CASES = {
    "malformed JSON": (b'{"attack": {"kind": "ddos"}, "observables": [', JSON, None, 400, "body"),
    "not a JSON object": (b"[1, 2]", JSON, None, 400, "body"),
    "wrong content type": (b"<report/>", "application/xml", None, 415, "header Content-Type"),
    "no content type": (b"{}", None, None, 415, "header Content-Type"),
    "empty body": (b"", JSON, None, 400, "body"),
    "unknown attack kind": (broken(["attack", "kind"], "tsunami"), JSON, None, 400, "attack.kind"),
    "invalid IPv4": (
        broken(["observables", 0, "value"], "198.51.100.256"),
        JSON,
        None,
        400,
        "observables[0].value",
    ),
    "IPv6 in an IPv4 field": (
        broken(["observables", 0, "value"], "2001:db8::1"),
        JSON,
        None,
        400,
        "observables[0].value",
    ),
    "invalid hash": (
        broken(["observables", 0], {"type": "file", "hashes": {"SHA-256": "abc"}}),
        JSON,
        None,
        400,
        "observables[0]",
    ),
    "bad timestamp": (
        broken(["attack", "first_seen"], "18/01/2009"),
        JSON,
        None,
        400,
        "attack.first_seen",
    ),
    "last seen before first seen": (
        broken(["observables", 0, "last_seen"], "2009-01-01T00:00:00Z"),
        JSON,
        None,
        400,
        "observables[0]",
    ),
    "empty observable list": (broken(["observables"], []), JSON, None, 400, "observables"),
    "missing observables": (broken(["observables"], KeyError), JSON, None, 400, "observables"),
    "unknown TLP": (broken(["tlp"], "purple"), JSON, None, 400, "tlp"),
    "confidence out of range": (broken(["confidence"], 101), JSON, None, 400, "confidence"),
    "typo in a field name": (
        broken(["observables", 0, "valeu"], "198.51.100.8"),
        JSON,
        None,
        400,
        "observables[0]",
    ),
    "unknown collection": (
        broken(["collection"], "no such feed"),
        JSON,
        None,
        400,
        "collection",
    ),
    "CSV without the value column": (
        b"type,role\nipv4-addr,source\n",
        CSV,
        {"kind": "ddos"},
        400,
        "header",
    ),
    "CSV with a bad row": (
        b"type,value,country\nipv4-addr,198.51.100.7,RU\nipv4-addr,198.51.100.8,XX\n",
        CSV,
        {"kind": "ddos"},
        400,
        "row 3, column country",
    ),
    "CSV without the kind parameter": (
        b"type,value\nipv4-addr,198.51.100.7\n",
        CSV,
        {},
        400,
        "query parameter kind",
    ),
    "CSV with an unknown parameter": (
        b"type,value\nipv4-addr,198.51.100.7\n",
        CSV,
        {"kind": "ddos", "tpl": "red"},
        400,
        "query parameter tpl",
    ),
}


def assert_nothing_written(app: App, blobs_before: list[str]) -> None:
    assert stored_count(app) == 0
    assert app.blob_keys() == blobs_before
    assert app.services.store.list_submissions() == []
    assert app.pending_jobs() == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_submissions_are_refused_with_the_place_at_fault(app: App, case: str):
    body, content_type, query, status, where = CASES[case]
    files_before = app.blob_keys()
    reply = app.request(
        "POST", "/api/v1/observations", body=body, content_type=content_type, query=query
    )
    assert reply.status == status, reply.body
    error = reply.json()
    assert error["http_status"] == str(status)
    assert error["where"].startswith(where), error
    assert len(error["description"]) > 20  # a sentence, not a code
    assert_nothing_written(app, files_before)


def test_many_bad_observables_are_listed(app: App):
    report = example()
    report["observables"] = [
        {"type": "ipv4-addr", "value": f"198.51.100.{n}"} for n in range(250, 300)
    ]
    reply = app.submit(report)
    assert reply.status == 400
    error = reply.json()
    assert len(error["errors"]) >= 10
    assert {e["where"] for e in error["errors"]} >= {"observables[6].value", "observables[7].value"}
    assert_nothing_written(app, [])


def test_a_body_over_the_limit_is_refused(tmp_path: Path):
    app = open_app(tmp_path / "data", STEPPE_MAX_BODY_BYTES="2000")
    try:
        report = example()
        report["observables"] *= 20
        reply = app.submit(report)
        assert reply.status == 413
        assert "larger than" in reply.json()["description"]
        assert_nothing_written(app, [])
    finally:
        app.close()


@pytest.mark.parametrize(
    ("authorization", "says"),
    [
        (None, "no credentials"),
        ("Bearer stp_not-a-real-key", "not valid"),
        ("Digest username=x", "Digest"),
        ("Basic " + base64.b64encode(b"mallory:stp_nope").decode(), "not valid"),
    ],
)
def test_missing_or_wrong_credentials_get_401(app: App, authorization, says):
    headers = {"Authorization": authorization} if authorization else {}
    reply = app.submit(example(), key=False, headers=headers)
    assert reply.status == 401
    assert reply.header("WWW-Authenticate") is not None
    error = reply.json()
    assert says in error["description"] and error["where"] == "header Authorization"
    assert_nothing_written(app, [])


def test_a_key_presented_under_another_partners_name_is_refused(app: App):
    reply = app.submit(
        example(),
        key=False,
        headers={
            "Authorization": "Basic "
            + base64.b64encode(f"someone-else:{app.admin_key}".encode()).decode()
        },
    )
    assert reply.status == 401
    assert "does not belong to 'someone-else'" in reply.json()["description"]


def test_partners_cannot_submit_and_analysts_only_where_they_may_write(app: App):
    store = app.services.store
    partner_key = add_partner(store, "cert-ee", "partner", org_name="steppe").key
    reply = app.submit(example(), key=partner_key)
    assert reply.status == 403 and "analyst" in reply.json()["description"]
    analyst_key = add_partner(store, "carol", "analyst", org_name="steppe").key  # no rights
    reply = app.submit(example(), key=analyst_key)
    assert reply.status == 403 and reply.json()["where"] == "collection"
    assert_nothing_written(app, [])
