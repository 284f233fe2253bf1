"""POST /api/v1/observables/lookup with free text, on both shapes (index: index_world)."""

from __future__ import annotations

import pytest

from support.app import App
from support.index_world import EE_NAME, GE, KG, World, seed

PASTED = """Hosts from the flood of 2009-01-18: 198.51.100[.]7, 203.0.113(.)9 and
hxxp://ddos-c2[.]example[.]org/gate (seen again: 198.51.100.7). Unrelated: 192.0.2.200."""


@pytest.fixture
def world(app: App) -> World:
    return seed(app)


def lookup_text(app: App, text: str, key: str | bool = True, **extra: object):
    return app.request(
        "POST", "/api/v1/observables/lookup", json_body={"text": text, **extra}, key=key
    )


def test_the_values_of_a_pasted_text_are_looked_up_as_if_listed(app: App, world):
    reply = lookup_text(app, PASTED, detail="full")
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert answer["values"] == [
        "198.51.100.7",
        "203.0.113.9",
        "http://ddos-c2.example.org/gate",
        "192.0.2.200",
    ]
    listed = app.request(
        "POST",
        "/api/v1/observables/lookup",
        json_body={"values": answer["values"], "detail": "full"},
    ).json()
    assert answer["results"] == listed["results"]
    assert (answer["count"], answer["found"]) == (listed["count"], listed["found"])
    seven = answer["results"][0]
    assert seven["found"] is True
    assert {c["id"] for c in seven["campaigns"]} >= {KG, GE}
    assert answer["results"][3]["found"] is False
    # The summary form, as for values.
    brief = lookup_text(app, PASTED).json()
    assert brief["values"] == answer["values"] and "matches" not in brief["results"][0]


def test_a_green_partner_learns_nothing_more_from_text(app: App, world):
    reply = lookup_text(app, "198.51.100[.]99 192.0.2.101", key=world.green_partner)
    assert reply.status == 200, reply.body
    assert EE_NAME not in reply.body.decode()
    assert not any(r["found"] for r in reply.json()["results"])


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"text": "no values in this sentence"}, 400, "text"),
        ({"text": ""}, 400, "text"),
        ({"text": 42}, 400, "text"),
        ({"text": "192.0.2.1", "values": ["192.0.2.1"]}, 400, "text"),
        ({"text": "192.0.2.1", "colour": "red"}, 400, "colour"),
        ({"text": "a" * 1_000_001}, 413, "text"),
    ],
)
def test_bad_text_is_refused_naming_it(app: App, body: dict, status: int, where: str):
    reply = app.request("POST", "/api/v1/observables/lookup", json_body=body)
    assert reply.status == status, reply.body
    assert reply.json()["where"] == where
    assert reply.json()["description"]


def test_more_than_ten_thousand_values_in_a_text_is_413(app: App):
    text = "\n".join(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}" for n in range(10_001))
    reply = lookup_text(app, text)
    assert reply.status == 413, reply.body
    assert reply.json()["where"] == "text" and "10,000" in reply.json()["description"]
