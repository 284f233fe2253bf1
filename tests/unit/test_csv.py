"""Parsing and validating CSV submissions (steppe.observables.report_csv.parse_csv)."""

from __future__ import annotations

import orjson
import pytest

from steppe.errors import InvalidInput
from steppe.observables import report_csv
from steppe.observables.model import Observable
from steppe.observables.report_csv import parse_csv
from steppe.observables.report_json import parse_json
from steppe.stix import tlp
from steppe.stix.timestamps import parse_micros

MD5 = "44d88612fea8a8f36de82e1278abb02f"
SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"

KYRGYZSTAN_CSV = (
    "\ufeffType, Value ,ROLE,asn,country,first_seen,last_seen\r\n"
    "ipv4-addr,198.51.100.7,source,64500,RU,2009-01-18T00:00:00Z,2009-01-19T00:00:00Z\r\n"
    "\r\n"
    "ipv4-addr,198.51.100.8,source,AS64501,ru\r\n"
    "ipv4-addr,203.0.113.10,victim,,,,\r\n"
    '"ipv4-addr","198.51.100.7","source","","","2009-01-17T00:00:00Z",""\r\n'
).encode()

KYRGYZSTAN_PARAMS = {
    "kind": "ddos",
    "tlp": "amber",
    "confidence": "60",
    "campaign": "Kyrgyzstan ISP DDoS, January 2009",
    "first_seen": "2009-01-18T00:00:00Z",
    "last_seen": "2009-01-20T00:00:00Z",
    "description": "Flood",
    "source_name": "IntelFusion",
    "source_url": "https://example.org/post",
    "target": "ISP One",
    "target_country": "kg",
    "target_sector": "telecommunications, government national",
    "attribution": "Unattributed RU botnet",
    "attribution_country": "RU",
    "attribution_confidence": "15",
}


def rejected(body: bytes | str, params: dict[str, str] | None = None) -> InvalidInput:
    data = body.encode() if isinstance(body, str) else body
    with pytest.raises(InvalidInput) as caught:
        parse_csv(data, params if params is not None else {"kind": "ddos"})
    return caught.value


def test_kyrgyzstan_csv_with_report_parameters():
    request = parse_csv(KYRGYZSTAN_CSV, KYRGYZSTAN_PARAMS)
    report = request.report
    assert report.kind == "ddos"
    assert report.tlp is tlp.AMBER
    assert report.confidence == 60
    assert report.campaign is not None and report.campaign.name.startswith("Kyrgyzstan")
    assert report.source is not None and report.source.url == "https://example.org/post"
    assert report.targets[0].name == "ISP One"
    assert report.targets[0].country == "KG"
    assert report.targets[0].sectors == ("telecommunications", "government-national")
    assert report.attribution is not None
    assert (report.attribution.country, report.attribution.confidence) == ("RU", 15)
    assert request.observables == [
        Observable(
            "ipv4-addr",
            "198.51.100.7",
            (),
            "source",
            64500,
            "RU",
            parse_micros("2009-01-17T00:00:00Z"),  # merged with the repeat on the last row
            parse_micros("2009-01-19T00:00:00Z"),
        ),
        Observable("ipv4-addr", "198.51.100.8", (), "source", 64501, "RU"),
        Observable("ipv4-addr", "203.0.113.10", (), "target"),
    ]


def test_csv_and_json_forms_give_the_same_request():
    csv_body = (
        "type,value,role,hash_type\n"
        "email-addr,Billing@Example.com,sender,\n"
        f"file,{MD5},attachment,\n"
        f"file,{SHA1},,sha1\n"
        "url,https://login.example.net/verify,,\n"
    ).encode()
    json_body = orjson.dumps(
        {
            "attack": {"kind": "phishing", "first_seen": "2024-03-01T08:00:00Z"},
            "tlp": "green",
            "observables": [
                {"type": "email-addr", "value": "Billing@Example.com", "role": "sender"},
                {"type": "file", "hashes": {"MD5": MD5}, "role": "attachment"},
                {"type": "file", "value": SHA1, "hash_type": "sha1"},
                {"type": "url", "value": "https://login.example.net/verify"},
            ],
        }
    )
    params = {"kind": "phishing", "tlp": "green", "first_seen": "2024-03-01T08:00:00Z"}
    assert parse_csv(csv_body, params) == parse_json(json_body)


def test_only_type_and_value_columns_are_needed():
    request = parse_csv(b"value,type\nexample.org,domain-name\n", {"kind": "scanning"})
    assert request.observables == [Observable("domain-name", "example.org", (), "target")]


def test_missing_required_column():
    error = rejected("type,role\nipv4-addr,source\n")
    assert error.where == "header, column value"
    assert "type,value" in error.message


def test_unknown_column():
    error = rejected("type,value,colour\nipv4-addr,198.51.100.7,red\n")
    assert error.where == "header, column colour"


def test_repeated_column():
    error = rejected("type,value,Value\nipv4-addr,198.51.100.7,198.51.100.8\n")
    assert error.where == "header, column value"


def test_empty_csv_and_header_only():
    assert rejected("").where == "header"
    assert rejected("\n\n").where == "header"
    error = rejected("type,value\n\n")
    assert error.where == "body"
    assert "no observables" in error.message


def test_not_utf8():
    error = rejected(b"type,value\nipv4-addr,198.51.100.7\xff\n")
    assert error.where == "body"


def test_bad_cell_names_row_and_column():
    rows = (
        ["type,value,country"] + ["ipv4-addr,198.51.100.7,RU"] * 12 + ["ipv4-addr,198.51.100.9,SU"]
    )
    error = rejected("\n".join(rows) + "\n")
    assert error.where == "row 14, column country"
    assert "'SU'" in error.message


def test_bad_value_row():
    error = rejected("type,value\nipv4-addr,198.51.100.7\nipv4-addr,198.51.100.0/16\n")
    assert error.where == "row 3, column value"
    assert "host bits" in error.message


def test_rows_are_numbered_as_lines_of_the_file():
    # the blank line and the quoted line break both count
    body = 'type,value,role\n\nipv4-addr,198.51.100.7,"source"\nipv4-addr,"bad\nvalue",source\n'
    assert rejected(body).where == "row 4, column value"


def test_row_with_more_cells_than_the_header():
    error = rejected("type,value\nipv4-addr,198.51.100.7,extra\n")
    assert error.where == "row 2"
    assert "3 cells" in error.message


def test_bad_hash_type_cell():
    error = rejected(f"type,value,hash_type\nfile,{MD5},crc\n", {"kind": "phishing"})
    assert error.where == "row 2, column hash_type"


def test_bad_hash_cell():
    error = rejected(f"type,value,hash_type\nfile,{MD5},sha256\n", {"kind": "phishing"})
    assert error.where == "row 2, column value"
    assert "64 hex digits" in error.message


def test_type_not_allowed_for_the_kind_in_a_row():
    error = rejected("type,value\nemail-addr,alice@example.org\n")
    assert error.where == "row 2, column type"


def test_many_bad_rows_are_listed():
    rows = ["type,value"] + [f"ipv4-addr,198.51.100.{256 + i}" for i in range(25)]
    error = rejected("\n".join(rows))
    assert len(error.errors) == 20
    assert error.errors[0]["where"] == "row 2, column value"
    assert error.errors[19]["where"] == "row 21, column value"
    assert error.message.startswith("25 observables are invalid")


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({}, "query parameter kind"),
        ({"kind": "ransomware"}, "query parameter kind"),
        ({"kind": "ddos", "colour": "red"}, "query parameter colour"),
        ({"kind": "ddos", "tlp": "purple"}, "query parameter tlp"),
        ({"kind": "ddos", "confidence": "high"}, "query parameter confidence"),
        ({"kind": "ddos", "confidence": "101"}, "query parameter confidence"),
        ({"kind": "ddos", "first_seen": "2009-13-01"}, "query parameter first_seen"),
        (
            {"kind": "ddos", "first_seen": "2009-01-02", "last_seen": "2009-01-01"},
            "query parameter last_seen",
        ),
        ({"kind": "ddos", "target_country": "KG"}, "query parameter target"),
        (
            {"kind": "ddos", "target": "ISP", "target_sector": "telecoms"},
            "query parameter target_sector",
        ),
        (
            {"kind": "ddos", "target": "ISP", "target_kind": "company"},
            "query parameter target_kind",
        ),
        ({"kind": "ddos", "source_url": "https://example.org/"}, "query parameter source_name"),
        (
            {"kind": "ddos", "attribution": "X", "attribution_confidence": "-3"},
            "query parameter attribution_confidence",
        ),
        ({"kind": "ddos", "campaign": " "}, "query parameter campaign"),
        ({"kind": "ddos", "valid_until": "2009-01-01T00:00:00Z"}, "query parameter valid_until"),
    ],
)
def test_bad_query_parameters(params, where):
    body = "type,value,first_seen\nipv4-addr,198.51.100.7,2009-01-05T00:00:00Z\n"
    error = rejected(body, params)
    assert error.where == where
    assert where in error.message


def test_the_documented_example_parses():
    doc = report_csv.__doc__
    example = doc[doc.index("    type,value,role,asn") :].split("\n\n")[0]
    body = "\n".join(line.strip() for line in example.splitlines()).encode()
    request = parse_csv(body, {"kind": "malware-c2", "tlp": "green", "campaign": "Example"})
    assert [(o.type, o.role) for o in request.observables] == [
        ("ipv4-addr", "c2"),
        ("domain-name", "c2"),
        ("file", "payload"),
    ]
