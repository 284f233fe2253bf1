"""A Sentinel push destination end to end: a submission reaches the (local) upload API.

The admin API adds the destination pointed at a local server that answers as
Entra ID and Sentinel's upload API do (test_sentinel_sender's FakeMicrosoft);
the worker's push jobs deliver through the real queue.
"""

# ruff: noqa: F811 (the `world` fixture is test_sentinel_sender's)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import test_sentinel_sender as fake
from test_sentinel_sender import CLIENT_ID, SECRET, WORKSPACE, world  # noqa: F401

from support.app import App, open_app

TENANT_GUID = "72f988bf-0000-4000-8000-2d7cd011db47"


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param, STEPPE_CORRELATE="0")
    yield opened
    opened.close()


def report(count: int, tlp: str) -> dict:
    return {
        "tlp": tlp,
        "attack": {"kind": "ddos", "first_seen": "2026-11-30T00:00:00Z"},
        "campaign": {"name": f"flood {tlp}"},
        "observables": [
            {"type": "ipv4-addr", "value": f"198.51.{n // 250}.{n % 250 + 1}", "role": "source"}
            for n in range(count)
        ],
    }


def test_indicators_reach_sentinel_in_batches_of_100_at_the_destinations_tlp(
    app: App,
    world,
    monkeypatch,
):
    monkeypatch.setattr(fake, "TENANT", TENANT_GUID)
    reply = app.request(
        "POST",
        "/api/v1/admin/push",
        json_body={
            "name": "sentinel",
            "kind": "sentinel",
            "tlp": "green",
            "tenant_id": TENANT_GUID,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "workspace_id": WORKSPACE,
            "login_url": world.base,
            "api_url": world.base,
        },
    )
    assert reply.status == 201, reply.body
    assert SECRET.encode() not in reply.body
    world.throttle_next = 1  # the first upload is throttled: Retry-After 7 s, waited out
    world.throttle_headers = {"Retry-After": "1"}
    green = app.submit(report(150, "green"))
    amber = app.submit(report(3, "amber"))
    assert green.status in (201, 202) and amber.status in (201, 202)
    app.drain()
    assert not app.dead_letters()
    accepted = [call for call in world.uploads if call["status"] == 200]
    assert [len(call["objects"]) for call in accepted] == [100, 50]
    assert all(call["auth"].startswith("Bearer token-") for call in accepted)
    delivered = world.delivered_ids()
    assert len(delivered) == len(set(delivered)) == 150
    objects = [o for call in accepted for o in call["objects"]]
    assert {o["type"] for o in objects} == {"indicator"}
    patterns = {o["pattern"] for o in objects}
    assert "[ipv4-addr:value = '198.51.0.1']" in patterns
    # AMBER indicators never leave for a GREEN destination
    assert all("amber" not in str(o.get("object_marking_refs")) for o in objects)
    assert len(world.token_forms) == 1
    # nothing new: another round of push jobs sends nothing
    app.services.queue.send([{"task": "push", "destination_id": reply.json()["id"]}])
    app.drain()
    assert len([c for c in world.uploads if c["status"] == 200]) == 2
