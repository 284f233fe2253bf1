"""Finding 3: one pattern must not stall the service; every input has a documented bound.

A 50,000-character pattern posted over TAXII becomes a failure in the status
(nothing stored, nothing queued for correlation); a pattern just under the
limit is stored and correlated; the pattern reader is linear, so adversarial
text of any length is read (here: 200,000 characters) and gives the right
answer. Analyst submissions are held to the same limits with a 4xx naming the
field. Both store adapters, through HTTP.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steppe.observables.correlation_keys import pattern_keys
from steppe.stix import bounds, tlp
from steppe.stix.patterns import comparisons, tokens
from support.app import App, Reply, example, open_app, stored_count

TAXII = "application/taxii+json;version=2.1"
CREATED = "2009-01-18T10:15:00.000Z"
BACKENDS = ["sqlite", "aws"]


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()


def indicator(pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": CREATED,
        "modified": CREATED,
        "name": "flood source",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": CREATED,
        "object_marking_refs": [tlp.GREEN.marking_id],
        **extra,
    }


def post(app: App, objects: list[Any]) -> Reply:
    return app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/",
        body=json.dumps({"objects": objects}),
        headers={"Accept": TAXII},
        content_type=TAXII,
    )


def status(app: App, status_id: str) -> dict[str, Any]:
    reply = app.request(
        "GET", f"/taxii2/{app.settings.api_root}/status/{status_id}/", headers={"Accept": TAXII}
    )
    assert reply.status == 200
    return reply.json()


def failures(app: App, reply: Reply) -> dict[str, str]:
    assert reply.status == 202, reply.body
    assert reply.header("Content-Type") == TAXII
    app.drain()  # a queued envelope (above the inline size) is judged by the worker
    final = status(app, reply.json()["id"])
    assert final["status"] == "complete"
    return {entry["id"]: entry["message"] for entry in final.get("failures", [])}


def padded(head: str, size: int) -> str:
    """`[<head> OR domain-name:value LIKE 'aaa…']` of exactly `size` characters."""
    frame = f"[{head} OR domain-name:value LIKE '']"
    return frame[:-2] + "a" * (size - len(frame)) + "']"


def test_a_50000_character_pattern_is_a_failure_and_nothing_is_stored(app: App):
    long_one = indicator(f"[domain-name:value LIKE '{'a' * 50_000}']")
    reply = post(app, [long_one])
    failed = failures(app, reply)
    assert set(failed) == {long_one["id"]}
    assert failed[long_one["id"]] == (
        f"the pattern has {len(long_one['pattern']):,} characters; steppe accepts at most "
        f"{bounds.MAX_PATTERN_CHARS:,}"
    )
    assert stored_count(app) == 0
    assert app.pending_jobs() == 0  # nothing stored, so nothing to correlate


def test_patterns_that_would_stall_the_validator_are_failures_with_a_reason(app: App):
    unclosed = indicator("[domain-name:value = '" + "\\'" * 3000)  # rescanned at every quote
    nested = indicator("(" * 40 + "[ipv4-addr:value = '198.51.100.7']" + ")" * 40)
    chained = indicator(
        "[" + " OR ".join(f"ipv4-addr:value = '198.51.100.{n % 250}'" for n in range(202)) + "]"
    )
    oversized = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": CREATED,
        "modified": CREATED,
        "content": "x" * bounds.MAX_OBJECT_BYTES,
        "object_refs": [unclosed["id"]],
    }
    failed = failures(app, post(app, [unclosed, nested, chained, oversized]))
    assert "a quoted string is not closed" in failed[unclosed["id"]]
    assert f"more than {bounds.MAX_PATTERN_DEPTH} deep" in failed[nested["id"]]
    assert f"more than {bounds.MAX_PATTERN_OPERATORS} expressions" in failed[chained["id"]]
    assert failed[oversized["id"]].startswith("the object is 1,048,")
    assert f"at most {bounds.MAX_OBJECT_BYTES:,}" in failed[oversized["id"]]
    assert stored_count(app) == 0


def test_a_pattern_just_under_the_limit_is_stored_and_correlated(app: App):
    accepted = indicator(padded("ipv4-addr:value = '198.51.100.77'", bounds.MAX_PATTERN_CHARS))
    assert len(accepted["pattern"]) == bounds.MAX_PATTERN_CHARS
    reply = post(app, [accepted])
    assert failures(app, reply) == {}
    assert stored_count(app) == 1
    found = app.request("GET", "/api/v1/observables", query={"value": "198.51.100.77"})
    assert found.status == 200, found.body
    answer = found.json()
    assert answer["found"] is True
    assert accepted["id"] in answer["indicators"]


def test_an_envelope_above_the_object_limit_is_refused_whole(tmp_path: Path):
    app = open_app(tmp_path / "data", "sqlite", STEPPE_MAX_ENVELOPE_OBJECTS="3")
    try:
        reply = post(app, [indicator(f"[ipv4-addr:value = '198.51.100.{n}']") for n in range(4)])
        assert reply.status == 413
        assert reply.header("Content-Type") == TAXII
        error = reply.json()
        assert error["details"]["where"] == "objects"
        assert "4 objects; steppe accepts at most 3" in error["description"]
        assert stored_count(app) == 0
    finally:
        app.close()


def test_analyst_values_that_make_too_long_a_pattern_are_a_400_naming_the_field(app: App):
    report = example()
    report["observables"] = [
        {"type": "url", "value": "http://flood.example.net/" + "a" * 50_000, "role": "c2"}
    ]
    report["attack"]["kind"] = "malware-c2"
    reply = app.submit(report)
    assert reply.status == 400, reply.body
    error = reply.json()
    assert error["where"] == "observables[0].value"
    assert "longer than 4096 characters" in error["description"]
    assert stored_count(app) == 0


def test_a_submission_above_the_observable_limit_is_a_413(tmp_path: Path):
    app = open_app(tmp_path / "data", "sqlite", STEPPE_MAX_OBSERVABLES="3")
    try:
        report = example()
        report["observables"] = [
            {"type": "ipv4-addr", "value": f"198.51.100.{n}", "role": "source"} for n in range(4)
        ]
        reply = app.submit(report)
        assert reply.status == 413
        assert reply.json()["where"] == "observables"
        assert "4 observables; steppe accepts at most 3" in reply.json()["description"]
        csv = "type,value\n" + "".join(f"ipv4-addr,198.51.100.{n}\n" for n in range(4))
        reply = app.request(
            "POST",
            "/api/v1/observations",
            body=csv,
            content_type="text/csv",
            query={"kind": "ddos"},
        )
        assert reply.status == 413 and reply.json()["where"] == "body"
        assert stored_count(app) == 0
    finally:
        app.close()


# -- the reader itself --------------------------------------------------------------


ADVERSARIAL = {
    # The finding: LIKE over a long run of letters (the old reader retried at every letter).
    "like": lambda n: f"[domain-name:value LIKE '{'a' * n}']",
    "colons": lambda n: "[a" + ":a" * (n // 2) + "]",
    "unclosed quotes": lambda n: "[a:b = '" + "\\'" * (n // 2),
    "unclosed comments": lambda n: "[a:b = 1] /" + "*" * n,
    "open literals": lambda n: "h'" * (n // 2),
    "path steps": lambda n: "[a:" + ".b" * (n // 2) + " = 1]",
}


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_the_reader_reads_200000_adversarial_characters_and_answers_right(shape: str):
    noise = ADVERSARIAL[shape](200_000)
    named = "[ipv4-addr:value = '198.51.100.7']"
    readable = shape not in ("unclosed quotes", "unclosed comments")
    pattern = f"{named} OR {noise}" if readable else noise
    keys = pattern_keys(pattern)
    assert keys == (["ipv4-addr:198.51.100.7"] if readable else [])
    assert bounds.pattern_problem(pattern) is not None  # and it never reaches stix2


def test_the_reader_takes_the_values_a_pattern_names():
    pattern = (
        "([ipv4-addr:value IN ('198.51.100.1', '198.51.100.2') AND "
        "ipv4-addr:value NOT = '198.51.100.3'] OR [file:hashes.'SHA-256' = '"
        + "ab" * 32
        + "' OR file:hashes.MD5 = '"
        + "cd" * 16
        + "'] OR [domain-name:value LIKE '%.example.org' OR url:value MATCHES '^x'"
        " OR autonomous-system:number = 64496]) FOLLOWEDBY "
        "[ipv6-addr:value ISSUBSET '2001:db8::/48' AND email-addr:value = 'a\\'b@example.org']"
        " WITHIN 300 SECONDS"
    )
    assert bounds.pattern_problem(pattern) is None
    assert pattern_keys(pattern) == [
        "ipv4-addr:198.51.100.1",
        "ipv4-addr:198.51.100.2",
        "file:SHA-256:" + "ab" * 32,
        "file:MD5:" + "cd" * 16,
        "autonomous-system:64496",
        "ipv6-addr:2001:db8::/48",
        "email-addr:a'b@example.org",
    ]
    negated = comparisons(pattern)[1]
    assert (negated.negated, negated.operator, negated.operands) == (True, "=", ("198.51.100.3",))


def test_the_lexer_reads_a_long_pattern_into_its_tokens():
    head = "ipv4-addr:value = '198.51.100.7'"
    pattern = padded(head, 50_000) + " AND [a:b.c[*].d != -1.5]"
    found = tokens(pattern)
    letters = found[11].text
    assert set(letters) == {"a"} and len(letters) == 50_000 - len(padded(head, 0))
    shown = [token.text if token is not found[11] else "a…" for token in found]
    first = ["[", "ipv4-addr", ":", "value", "=", "198.51.100.7", "OR", "domain-name", ":"]
    then = ["value", "LIKE", "a…", "]", "AND", "[", "a", ":", "b", ".", "c", "[", "*", "]"]
    assert shown == [*first, *then, ".", "d", "!=", "-1.5", "]"]
    starts = [token.start for token in found]
    assert starts == sorted(set(starts))  # each token read once, where the last one ended
