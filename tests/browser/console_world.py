"""The world the console's browser tests look at, seeded through the HTTP API of a real server.

* Kyrgyzstan, January 2009: examples/kyrgyzstan-2009.json as shipped, but TLP:GREEN
  (so that a GREEN partner may see it, and must still learn nothing of the AMBER one).
* Georgia 2008 (GREEN): two of Kyrgyzstan's source addresses: an exact link.
* Lithuania 2008 (GREEN): one of Kyrgyzstan's source addresses: an exact link.
* Estonia 2007 (GREEN): an address in Kyrgyzstan's 198.51.100.0/24, none of its
  addresses: weak (network) evidence only.
* Azerbaijan 2008 (AMBER, the same collection): one of Kyrgyzstan's addresses,
  and one of its own that nobody else has.

No report but Kyrgyzstan's names an autonomous system or malware, so the only
links are exact ones and /24 neighbourhoods. A GREEN partner reading the
default collection is added through the admin API.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.server import RunningServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kyrgyzstan-2009.json"
ADMIN_KEY = "stp_browser-admin-key-not-secret-0123456789"

KYRGYZSTAN = "Kyrgyzstan ISP DDoS, January 2009"
GEORGIA = "Georgia DDoS, August 2008"
LITHUANIA = "Lithuania DDoS, June 2008"
ESTONIA = "Estonia DDoS, April-May 2007"
AZERBAIJAN = "Azerbaijan media DDoS, March 2008"
GREEN_NAMES = (KYRGYZSTAN, GEORGIA, LITHUANIA, ESTONIA)

GEORGIA_SHARED = ["198.51.100.7", "198.51.100.23"]
LITHUANIA_SHARED = ["203.0.113.66"]
ESTONIA_NEIGHBOUR = "198.51.100.200"  # in Kyrgyzstan's /24, not one of its addresses
AZERBAIJAN_SHARED = ["198.51.100.41"]
AZERBAIJAN_ONLY = "198.18.7.7"  # nobody else's, nor in anybody else's /24

# (campaign, campaign, strength) -> the values they share, as the admin sees them.
EXACT_LINKS = {
    frozenset({KYRGYZSTAN, GEORGIA}): GEORGIA_SHARED,
    frozenset({KYRGYZSTAN, LITHUANIA}): LITHUANIA_SHARED,
    frozenset({KYRGYZSTAN, AZERBAIJAN}): AZERBAIJAN_SHARED,
}


def kyrgyzstan() -> dict[str, Any]:
    report = json.loads(EXAMPLE.read_text())
    report["tlp"] = "green"
    return report


def _ddos(
    name: str, tlp: str, first: str, last: str, sources: list[str], target: str, country: str
) -> dict[str, Any]:
    return {
        "tlp": tlp,
        "confidence": 60,
        "attack": {"kind": "ddos", "first_seen": first, "last_seen": last},
        "campaign": {"name": name},
        "targets": [{"name": target, "kind": "organization", "country": country}],
        "observables": [{"type": "ipv4-addr", "value": ip, "role": "source"} for ip in sources],
    }


def reports() -> list[dict[str, Any]]:
    return [
        kyrgyzstan(),
        _ddos(
            GEORGIA,
            "green",
            "2008-08-08T00:00:00Z",
            "2008-08-12T00:00:00Z",
            [*GEORGIA_SHARED, "198.18.1.10"],
            "Georgian government portal",
            "GE",
        ),
        _ddos(
            LITHUANIA,
            "green",
            "2008-06-28T00:00:00Z",
            "2008-07-02T00:00:00Z",
            [*LITHUANIA_SHARED, "198.18.2.20"],
            "Lithuanian government portal",
            "LT",
        ),
        _ddos(
            ESTONIA,
            "green",
            "2007-04-27T00:00:00Z",
            "2007-05-18T00:00:00Z",
            [ESTONIA_NEIGHBOUR],
            "Estonian government portal",
            "EE",
        ),
        _ddos(
            AZERBAIJAN,
            "amber",
            "2008-03-10T00:00:00Z",
            "2008-03-14T00:00:00Z",
            [*AZERBAIJAN_SHARED, AZERBAIJAN_ONLY],
            "Azerbaijani news site",
            "AZ",
        ),
    ]


@dataclass
class World:
    server: RunningServer
    admin_key: str
    green_key: str
    collection: str
    ids: dict[str, str] = field(default_factory=dict)  # campaign name -> id

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, method: str, path: str, key: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else None
        status, answer = self.server.json(method, path, key, body=data, headers=headers)
        assert status < 400, (method, path, status, answer)
        return answer


def seed(server: RunningServer, admin_key: str = ADMIN_KEY) -> World:
    """Submit the reports, add the GREEN partner, wait until correlation has linked them."""
    world = World(server, admin_key, "", "")
    listed = world.api("GET", "/api/v1/admin/collections", admin_key)["collections"]
    world.collection = listed[0]["id"]
    for report in reports():
        resource = world.api("POST", "/api/v1/observations", admin_key, report)
        assert resource["status"] == "complete", resource
    partner = world.api(
        "POST",
        "/api/v1/admin/partners",
        admin_key,
        {"name": "siem-green", "role": "partner", "tlp": "green", "read": [world.collection]},
    )
    world.green_key = partner["key"]
    deadline = time.monotonic() + 60
    while True:  # campaigns are indexed by correlation, in the server's background worker
        listed = world.api("GET", "/api/v1/campaigns", admin_key)["campaigns"]
        world.ids = {c["name"]: c["id"] for c in listed}
        if set(world.ids) == {*GREEN_NAMES, AZERBAIJAN}:
            break
        assert time.monotonic() < deadline, world.ids
        time.sleep(0.1)
    _await_links(world)
    return world


def related_of(world: World, name: str, key: str) -> dict[tuple[str, str], list[str]]:
    """(other campaign's name, strength) -> shared values, from the API's campaign view."""
    view = world.api("GET", f"/api/v1/campaigns/{world.ids[name]}", key)
    return {(r["campaign"]["name"], r["strength"]): r["shared"] for r in view["related"]}


def _await_links(world: World) -> None:
    """Correlation runs in the server's background worker: wait for the links it must make."""
    wanted = {
        KYRGYZSTAN: {
            (GEORGIA, "exact"),
            (LITHUANIA, "exact"),
            (AZERBAIJAN, "exact"),
            (ESTONIA, "network"),
        },
        ESTONIA: {(KYRGYZSTAN, "network"), (GEORGIA, "network"), (AZERBAIJAN, "network")},
    }
    deadline = time.monotonic() + 60
    for name, links in wanted.items():
        while not links <= set(related_of(world, name, world.admin_key)):
            assert time.monotonic() < deadline, (name, related_of(world, name, world.admin_key))
            time.sleep(0.1)
