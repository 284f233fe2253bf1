"""Finding 10 (analyst and TAXII): input of the wrong type or out of range is a 4xx naming it.

Each case answered 500 before: a timestamp whose UTC instant is past year
9999, integers of 5,000 digits in a query parameter or a CSV cell. Each must
be a 4xx JSON error whose `where` names the field, and nothing is written.
Both store adapters, through HTTP.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from support.app import App, Reply, example, open_app, stored_count

TAXII = "application/taxii+json;version=2.1"
HUGE = "9" * 5000
BACKENDS = ["sqlite", "aws"]


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app per shape: every request here is refused, so none changes what the next sees."""
    opened = open_app(tmp_path_factory.mktemp("typed") / "data", request.param)
    yield opened
    opened.close()


def report_with(path: list[Any], value: Any) -> dict[str, Any]:
    report = copy.deepcopy(example())
    target = report
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return report


def refused(reply: Reply, where: str, *, taxii: bool = False) -> dict[str, Any]:
    assert 400 <= reply.status < 500, (reply.status, reply.body[:300])
    error = reply.json()
    if taxii:
        assert reply.header("Content-Type") == TAXII
        assert error["details"]["where"] == where
    else:
        assert error["where"] == where
    assert error["description"] and error["http_status"] == str(reply.status)
    assert len(reply.body) < 2000  # the value is named, not echoed 5,000 digits long
    return error


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (["attack", "first_seen"], "9999-12-31T23:59:59-14:00", "attack.first_seen"),
        (["attack", "last_seen"], "0001-01-01T00:00:00+14:00", "attack.last_seen"),
        (["attack", "first_seen"], "9999-12-31T23:59:59.9999999999Z", None),  # in range
        (["valid_until"], "99999-01-01T00:00:00Z", "valid_until"),
        (["observables", 0, "first_seen"], "9999-12-31T23:59:59-14:00", "observables[0]"),
        (["observables", 0, "asn"], HUGE, "observables[0].asn"),
        (["observables", 0, "asn"], 2**64 - 1, "observables[0].asn"),
        (["observables", 0, "value"], 1e300, "observables[0].value"),
        (["confidence"], 1.5, "confidence"),
        (["confidence"], HUGE, "confidence"),
        (["title"], {"an": "object"}, "title"),
        (["attack", "kind"], ["ddos"], "attack.kind"),
        (["targets"], "KG", "targets"),
        (["override_false_positives"], "yes", "override_false_positives"),
    ],
)
def test_a_submission_field_of_the_wrong_type_or_range_is_a_400_naming_it(
    app: App, path: list[Any], value: Any, where: str | None
):
    before = stored_count(app)
    reply = app.submit(report_with(path, value))
    if where is None:
        # Ten fraction digits are truncated to microseconds: a valid instant of 9999.
        # Its last_seen (2009) is then before first_seen: still a 400, never a 500.
        refused(reply, "attack.last_seen")
    else:
        error = refused(reply, where) if not where.startswith("observables[") else None
        if error is None:
            assert reply.status == 400 and reply.json()["where"].startswith(where)
    assert stored_count(app) == before


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ({"kind": "ddos", "confidence": HUGE}, "query parameter confidence"),
        (
            {"kind": "ddos", "attribution_confidence": "-" + HUGE},
            "query parameter attribution_confidence",
        ),
        # fullwidth digits: digits to str.isdigit, not to steppe
        ({"kind": "ddos", "confidence": "\uff15\uff10"}, "query parameter confidence"),
        ({"kind": "ddos", "first_seen": "9999-12-31T23:59:59-14:00"}, "query parameter first_seen"),
    ],
)
def test_a_csv_report_parameter_out_of_range_is_a_400_naming_it(
    app: App, query: dict[str, str], where: str
):
    before = stored_count(app)
    reply = app.request(
        "POST",
        "/api/v1/observations",
        body="type,value\nipv4-addr,198.51.100.7\n",
        content_type="text/csv",
        query=query,
    )
    refused(reply, where)
    assert stored_count(app) == before


def test_a_csv_cell_of_5000_digits_is_a_400_naming_its_row_and_column(app: App):
    reply = app.request(
        "POST",
        "/api/v1/observations",
        body=f"type,value,asn\nipv4-addr,198.51.100.7,{HUGE}\n",
        content_type="text/csv",
        query={"kind": "ddos"},
    )
    error = refused(reply, "row 2, column asn")
    assert "autonomous system number" in error["description"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/submissions", "limit"),
        ("/api/v1/campaigns", "limit"),
        ("/api/v1/campaigns/graph", "limit"),
        ("/api/v1/false-positives", "limit"),
    ],
)
@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "1e3", "\u0661\u0660", " 5", "NaN", ""])
def test_an_integer_query_parameter_of_any_text_is_a_400_naming_it(
    app: App, path: str, name: str, value: str
):
    refused(app.request("GET", path, query={name: value}), name)


@pytest.mark.parametrize(
    ("endpoint", "query", "where"),
    [
        ("objects/", {"limit": HUGE}, "limit"),
        ("manifest/", {"limit": "-" + HUGE}, "limit"),
        ("objects/", {"limit": "\u0663"}, "limit"),
        ("objects/", {"added_after": "9999-12-31T23:59:59-14:00"}, "added_after"),
        ("objects/", {"added_after": "2009-01-18T00:00:00." + HUGE + "Z"}, None),
        ("objects/", {"match[version]": "99999-01-01T00:00:00Z"}, "match[version]"),
        ("objects/", {"next": HUGE}, "next"),
        ("objects/", {"match[id]": "indicator--" + HUGE}, "match[id]"),
    ],
)
def test_a_taxii_parameter_out_of_range_is_a_400_naming_it(
    app: App, endpoint: str, query: dict[str, str], where: str | None
):
    path = f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/{endpoint}"
    reply = app.request("GET", path, query=query, headers={"Accept": TAXII})
    if where is None:  # digits beyond the microsecond are dropped: a valid instant
        assert reply.status == 200 and reply.header("Content-Type") == TAXII
    else:
        refused(reply, where, taxii=True)


def test_the_limit_a_client_sends_as_its_largest_integer_is_served_a_full_page(app: App):
    path = f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/"
    reply = app.request("GET", path, query={"limit": str(2**63 - 1)}, headers={"Accept": TAXII})
    assert reply.status == 200


def test_a_taxii_object_with_an_out_of_range_timestamp_is_a_failure_entry(app: App):
    late = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0b1a7c52-3f4e-4d8a-9c6b-2e5f7a8d9c10",
        "created": "9999-12-31T23:59:59.999Z",
        "modified": "99999-12-31T23:59:59.999Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2009-01-18T00:00:00Z",
    }
    before = stored_count(app)
    reply = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/",
        json_body={"objects": [late, {"type": "indicator", "id": 5}]},
        headers={"Accept": TAXII},
        content_type=TAXII,
    )
    assert reply.status == 202, reply.body
    status = reply.json()
    assert status["failure_count"] == 2 and status["success_count"] == 0
    assert stored_count(app) == before
