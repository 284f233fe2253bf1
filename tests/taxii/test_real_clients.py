"""Real TAXII clients against a running `steppe serve`, over HTTP.

The server is a child process (tests/support/server.py). Collections and
partners are made the way an operator makes them: with the `steppe` command
and through the admin API. Objects are loaded by POSTing envelopes and by an
analyst submission. Then the OASIS client (taxii2-client), stix2's TAXII data
store, and replays of what Microsoft Sentinel, Elastic and Cortex XSOAR send,
read and write it.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
import stix2
from requests.exceptions import HTTPError as RequestsHTTPError
from stix2.datastore.filters import Filter
from taxii2client import v20, v21
from taxii2client.common import TokenAuth

from steppe.stix import tlp
from steppe.stix.ids import value_sco_id
from steppe.stix.timestamps import format_stix, format_taxii, now_micros, parse_micros
from support.app import example
from support.server import RunningServer, steppe_env, steppe_serve

TAXII = "application/taxii+json;version=2.1"
ADMIN_KEY = "stp_real-clients-admin-key-0123456789abcdef"
SHARED = "Kyrgyzstan DDoS 2009"
DROP_BOX = "Partner drop box"
WORKBENCH = "TIP workbench"
RANK = {level.marking_id: level.rank for level in tlp.LEVELS}
LEVELS = (tlp.CLEAR, tlp.GREEN, tlp.AMBER)


# ---------------------------------------------------------------------------
# Objects: what CERT-KG shares, at CLEAR, GREEN and AMBER
# ---------------------------------------------------------------------------


@dataclass
class Feed:
    """STIX 2.1 objects as a producer writes them: fresh timestamps, TLP 2.0 markings."""

    block: int  # each feed numbers its addresses from its own block
    producer: str = field(default_factory=lambda: f"identity--{uuid.uuid4()}")

    def __post_init__(self) -> None:
        self.counter = self.block * 10_000

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def stamp(self) -> str:
        return format_stix(now_micros())

    def indicator(self, level: tlp.TlpLevel) -> dict[str, Any]:
        n = self._next()
        address = f"198.51.{(n >> 8) & 255}.{n & 255}"
        when = self.stamp()
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": when,
            "modified": when,
            "created_by_ref": self.producer,
            "name": f"DDoS source {address}",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '{address}']",
            "pattern_type": "stix",
            "valid_from": when,
            "object_marking_refs": [level.marking_id],
        }

    def malware(self, level: tlp.TlpLevel) -> dict[str, Any]:
        when = self.stamp()
        return {
            "type": "malware",
            "spec_version": "2.1",
            "id": f"malware--{uuid.uuid4()}",
            "created": when,
            "modified": when,
            "created_by_ref": self.producer,
            "name": f"BlackEnergy build {self._next()}",
            "malware_types": ["bot", "ddos"],
            "is_family": False,
            "object_marking_refs": [level.marking_id],
        }

    def address(self, level: tlp.TlpLevel) -> dict[str, Any]:
        n = self._next()
        value = f"203.0.{(n >> 8) & 255}.{n & 255}"
        return {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": value_sco_id("ipv4-addr", value),
            "value": value,
            "object_marking_refs": [level.marking_id],
        }

    def relationship(self, source: str, target: str, level: tlp.TlpLevel) -> dict[str, Any]:
        when = self.stamp()
        return {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{uuid.uuid4()}",
            "created": when,
            "modified": when,
            "relationship_type": "indicates",
            "source_ref": source,
            "target_ref": target,
            "object_marking_refs": [level.marking_id],
        }

    def campaign(self, campaign_id: str, version: int, level: tlp.TlpLevel) -> dict[str, Any]:
        return {
            "type": "campaign",
            "spec_version": "2.1",
            "id": campaign_id,
            "created": "2009-01-18T00:00:00.000Z",
            "modified": self.stamp(),
            "created_by_ref": self.producer,
            "name": "January 2009 DDoS against Kyrgyz ISPs",
            "description": f"Situation report {version}",
            "first_seen": "2009-01-18T00:00:00Z",
            "object_marking_refs": [level.marking_id],
        }

    def mix(self, count: int, levels: tuple[tlp.TlpLevel, ...] = LEVELS) -> list[dict[str, Any]]:
        """`count` objects of several types, their TLP levels taking turns."""
        objects: list[dict[str, Any]] = []
        for n in range(count):
            level = levels[n % len(levels)]
            kind = n % 10
            if kind < 5:
                objects.append(self.indicator(level))
            elif kind < 7:
                objects.append(self.address(level))
            elif kind < 8:
                objects.append(self.malware(level))
            else:
                earlier = [o for o in objects if o["type"] == "indicator"]
                target = earlier[0]["id"] if earlier else f"malware--{uuid.uuid4()}"
                objects.append(self.relationship(f"indicator--{uuid.uuid4()}", target, level))
        return objects


def rank(obj: Mapping[str, Any]) -> int:
    """The TLP rank steppe gives an object: its strictest marking (unmarked: GREEN)."""
    if obj["type"] == "marking-definition":
        return 0
    ranks = [RANK[m] for m in obj.get("object_marking_refs", []) if m in RANK]
    return max(ranks) if ranks else tlp.GREEN.rank


def latest(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each object's latest version, where it stands in the order they were added."""
    last = {obj["id"]: obj for obj in objects}
    return [obj for obj in objects if last[obj["id"]] is obj]


def visible(objects: list[dict[str, Any]], clearance: tlp.TlpLevel) -> list[dict[str, Any]]:
    return [obj for obj in latest(objects) if rank(obj) <= clearance.rank]


# ---------------------------------------------------------------------------
# The running server, and how an operator sets it up
# ---------------------------------------------------------------------------


@dataclass
class Partner:
    name: str
    key: str

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.name}:{self.key}".encode()).decode()


@dataclass
class Served:
    server: RunningServer
    data_dir: Path
    collections: dict[str, str] = field(default_factory=dict)  # title -> id
    partners: dict[str, Partner] = field(default_factory=dict)
    shared: list[dict[str, Any]] = field(default_factory=list)  # every version, as added

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def root_url(self) -> str:
        return f"{self.url}/taxii2/steppe/"

    def collection_url(self, title: str) -> str:
        return f"{self.root_url}collections/{self.collections[title]}/"

    def cli(self, *args: str) -> str:
        port = int(self.url.rsplit(":", 1)[1])
        done = subprocess.run(
            [sys.executable, "-m", "steppe.cli", *args],
            env=steppe_env(self.data_dir, port, STEPPE_ADMIN_KEY=ADMIN_KEY),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def add_collection(self, title: str) -> str:
        printed = self.cli("collection", "add", title)
        collection_id = printed.split()[0]
        self.collections[title] = collection_id
        return collection_id

    def add_partner_with_cli(self, name: str, level: str, *rights: str) -> Partner:
        printed = self.cli("partner", "add", name, "--tlp", level, *rights)
        key = re.search(r"key \(shown once\): (\S+)", printed)
        assert key, printed
        self.partners[name] = Partner(name, key.group(1))
        return self.partners[name]

    def add_partner_with_api(
        self, name: str, level: str, read: Sequence[str], write: Sequence[str] = ()
    ) -> Partner:
        status, created = self.server.json(
            "POST",
            "/api/v1/admin/partners",
            ADMIN_KEY,
            body=json.dumps(
                {"name": name, "tlp": level, "read": list(read), "write": list(write)}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 201, created
        self.partners[name] = Partner(name, created["key"])
        return self.partners[name]

    def post(self, title: str, objects: list[dict[str, Any]], key: str = ADMIN_KEY) -> None:
        """Add objects as their producer does: envelopes of up to 100, each stored at once."""
        for start in range(0, len(objects), 100):
            batch = objects[start : start + 100]
            status, _, body = self.server.call(
                "POST",
                f"/taxii2/steppe/collections/{self.collections[title]}/objects/",
                key,
                body=json.dumps({"objects": batch}).encode(),
                headers={"Content-Type": TAXII, "Accept": TAXII},
            )
            resource = json.loads(body)
            assert status == 202 and resource["status"] == "complete", resource
            assert resource["success_count"] == len(batch), resource

    def everything(self, title: str) -> list[dict[str, Any]]:
        """Every version in a collection, in date_added order, as the admin reads it."""
        return self.admin_listing(title, "objects/")

    def date_added(self, title: str) -> list[str]:
        """The date_added of every version in a collection, in order."""
        return [r["date_added"] for r in self.admin_listing(title, "manifest/")]

    def admin_listing(self, title: str, rest: str) -> list[dict[str, Any]]:
        url = f"{self.collection_url(title)}{rest}"
        headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Accept": TAXII}
        query = {"match[version]": "all"}
        listed: list[dict[str, Any]] = []
        while True:
            body = get(url, headers, query).body
            listed += body.get("objects", [])
            if not body.get("more"):
                return listed
            query = {"next": body["next"]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("served") / "data"
    # Envelopes of more than 100 objects are queued and finished by the worker:
    # their status is pending first, and clients poll it.
    with steppe_serve(
        data,
        STEPPE_ADMIN_KEY=ADMIN_KEY,
        STEPPE_TAXII_SYNC_OBJECTS="100",
        STEPPE_TAXII_PART_OBJECTS="40",
    ) as server:
        served = Served(server, data)
        for title in (SHARED, DROP_BOX, WORKBENCH):
            served.add_collection(title)
        feed = Feed(block=1)
        markings = [level.marking_definition() for level in LEVELS]
        campaign_id = f"campaign--{uuid.uuid4()}"
        shared = [*markings, feed.campaign(campaign_id, 1, tlp.GREEN)]
        shared += feed.mix(150)
        shared.append(feed.campaign(campaign_id, 2, tlp.GREEN))
        shared += feed.mix(150)
        shared.append(feed.campaign(campaign_id, 3, tlp.GREEN))
        served.post(SHARED, shared)
        # An analyst's report of the same attack, converted by steppe (GREEN).
        report = {**example(), "tlp": "green", "collection": SHARED}
        status, submitted = server.json(
            "POST",
            "/api/v1/observations",
            ADMIN_KEY,
            body=json.dumps(report).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 201 and submitted["status"] == "complete", submitted
        served.shared = served.everything(SHARED)
        assert len(served.shared) > len(shared)
        yield served


def get(url: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None) -> Reply:
    """One GET, as a plain HTTP client sends it."""
    full = url + (f"?{urlencode(params)}" if params else "")
    try:
        with urlopen(Request(full, headers=dict(headers)), timeout=60) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except HTTPError as error:
        return Reply(error.code, dict(error.headers.items()), error.read())


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def ids(objects: list[dict[str, Any]]) -> list[str]:
    return [obj["id"] for obj in objects]


# ---------------------------------------------------------------------------
# taxii2-client, the OASIS TAXII 2.1 client library
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partners(served: Served) -> dict[str, Partner]:
    """A GREEN partner made with `steppe partner add`; an AMBER one with the admin API."""
    served.add_partner_with_cli(
        "kg-isp-soc", "green", "--read", SHARED, "--write", DROP_BOX, WORKBENCH
    )
    served.add_partner_with_api(
        "kz-cert", "amber", read=[SHARED, DROP_BOX, WORKBENCH], write=[WORKBENCH]
    )
    return served.partners


def client_collection(served: Served, partner: Partner, title: str) -> v21.Collection:
    server = v21.Server(f"{served.url}/taxii2/", user=partner.name, password=partner.key)
    (collection,) = [c for c in server.default.collections if c.title == title]
    return collection


def test_taxii2_client_discovers_the_server_api_root_and_collections(served, partners):
    green = partners["kg-isp-soc"]
    server = v21.Server(f"{served.url}/taxii2/", user=green.name, password=green.key)
    assert server.title
    assert [root.url for root in server.api_roots] == [served.root_url]
    root = server.default
    assert root.url == served.root_url
    assert root.versions == [TAXII]
    assert root.max_content_length > 1_000_000
    listed = {c.title: c for c in root.collections}
    # Its own collections only, with its own rights.
    assert set(listed) == {SHARED, DROP_BOX, WORKBENCH}
    assert (listed[SHARED].can_read, listed[SHARED].can_write) == (True, False)
    assert (listed[DROP_BOX].can_read, listed[DROP_BOX].can_write) == (False, True)
    for title, collection in listed.items():
        assert collection.id == served.collections[title]
        assert uuid.UUID(collection.id).version == 4
        assert collection.media_types == ["application/stix+json;version=2.1"]
    clear = served.add_partner_with_api("kg-public", "clear", read=[DROP_BOX])
    only = v21.Server(f"{served.url}/taxii2/", user=clear.name, password=clear.key)
    assert [c.title for c in only.default.collections] == [DROP_BOX]


def test_taxii2_client_pages_with_added_after_without_missing_or_repeating(served, partners):
    amber = partners["kz-cert"]
    collection = client_collection(served, amber, SHARED)
    # Start after the first 40 versions, as a client that already has them.
    start = served.shared[39]
    manifest = [
        record
        for page in v21.as_pages(collection.get_manifest, per_request=1000, version="all")
        for record in page.get("objects", [])
    ]
    added_after = manifest[39]["date_added"]
    assert manifest[39]["id"] == start["id"]
    received = [
        obj
        for page in v21.as_pages(collection.get_objects, per_request=37, added_after=added_after)
        for obj in page.get("objects", [])
    ]
    expected = [
        obj
        for obj in visible(served.shared, tlp.AMBER)
        if served.shared.index(obj) > 39  # latest versions added after the start
    ]
    assert len(received) > 250
    assert received == expected
    assert len(set(ids(received))) == len(received)
    # The same pages in date_added order, as the manifest with the same filter says.
    records = [
        record
        for page in v21.as_pages(collection.get_manifest, per_request=37, added_after=added_after)
        for record in page.get("objects", [])
    ]
    assert ids(records) == ids(received)
    stamps = [parse_micros(r["date_added"]) for r in records]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps[0] > parse_micros(added_after)


def test_taxii2_client_adds_objects_and_polls_the_status_until_complete(served, partners):
    amber = partners["kz-cert"]
    collection = client_collection(served, amber, WORKBENCH)
    sent = Feed(block=2).mix(130)
    status = collection.add_objects({"objects": sent}, wait_for_completion=False)
    assert status.status == "pending"  # more than 100 objects: queued for the worker
    assert (status.total_count, status.pending_count) == (130, 130)
    status.wait_until_final(poll_interval=0.2, timeout=60)
    assert status.status == "complete"
    assert (status.success_count, status.failure_count, status.pending_count) == (130, 0, 0)
    assert {s["id"] for s in status.successes} == set(ids(sent))
    # What was added reads back as it was sent.
    one = sent[0]
    assert collection.get_object(one["id"])["objects"] == [one]
    assert collection.object_versions(one["id"])["versions"] == [one["modified"]]
    manifest = [
        record
        for page in v21.as_pages(collection.get_manifest, per_request=50)
        for record in page.get("objects", [])
    ]
    # The worker stores the parts of a queued envelope side by side, so their
    # objects need not be added in the envelope's order: each is there once.
    assert sorted(ids(manifest)) == sorted(ids(sent))
    stamps = [parse_micros(r["date_added"]) for r in manifest]
    assert stamps == sorted(stamps)
    assert all(r["media_type"] == "application/stix+json;version=2.1" for r in manifest)


# ---------------------------------------------------------------------------
# stix2's TAXII data store
# ---------------------------------------------------------------------------


def _instant_or_value(name: str, value: object) -> object:
    if name in ("created", "modified", "valid_from", "valid_until") and isinstance(value, str):
        return parse_micros(value)
    return value


def test_stix2_collection_source_queries_gets_and_lists_versions(served, partners):
    green = partners["kg-isp-soc"]
    source = stix2.TAXIICollectionSource(client_collection(served, green, SHARED))
    wanted = [obj for obj in visible(served.shared, tlp.GREEN) if obj["type"] == "indicator"]
    found = source.query([Filter("type", "=", "indicator")])
    assert sorted(str(o.id) for o in found) == sorted(ids(wanted))
    assert all(isinstance(o, stix2.v21.Indicator) for o in found)
    assert not [o for o in found if rank(json.loads(o.serialize())) > tlp.GREEN.rank]
    one = wanted[0]
    got = json.loads(source.get(one["id"]).serialize())
    # stix2 adds its defaults (pattern_version), and writes a timestamp without its trailing zeros
    # (…904710Z comes back as …90471Z): compare timestamps as instants.
    assert {name: _instant_or_value(name, got[name]) for name in one} == {
        name: _instant_or_value(name, value) for name, value in one.items()
    }
    campaign = next(obj for obj in served.shared if obj["type"] == "campaign")
    versions = source.all_versions(campaign["id"])
    assert [str(v.description) for v in versions] == [f"Situation report {n}" for n in (1, 2, 3)]
    amber = next(obj for obj in served.shared if rank(obj) == tlp.AMBER.rank)
    assert source.get(amber["id"]) is None  # above its clearance: not there for it


def test_stix2_collection_store_adds_then_gets(served, partners):
    amber = partners["kz-cert"]
    store = stix2.TAXIICollectionStore(client_collection(served, amber, WORKBENCH))
    indicator = stix2.v21.Indicator(
        name="DDoS source 198.51.100.201",
        pattern="[ipv4-addr:value = '198.51.100.201']",
        pattern_type="stix",
        indicator_types=["malicious-activity"],
        object_marking_refs=[tlp.AMBER.marking_id],
    )
    store.add(indicator)
    assert store.get(indicator.id) == indicator
    assert [str(o.id) for o in store.query([Filter("id", "=", indicator.id)])] == [indicator.id]


# ---------------------------------------------------------------------------
# The done-when scenario
# ---------------------------------------------------------------------------


def test_a_green_partner_pulls_what_its_clearance_allows_and_shares_its_own(served, partners):
    """A partner keyed with `steppe partner add` (GREEN, read on a CLEAR/GREEN/AMBER collection)."""
    green = partners["kg-isp-soc"]
    collection = client_collection(served, green, SHARED)
    pages = list(v21.as_pages(collection.get_objects, per_request=25))
    received = [obj for page in pages for obj in page.get("objects", [])]
    assert len(pages) > 8 and all(len(p["objects"]) <= 25 for p in pages)
    assert received == visible(served.shared, tlp.GREEN)
    levels = {rank(obj) for obj in received}
    assert levels == {tlp.CLEAR.rank, tlp.GREEN.rank}
    hidden = [obj for obj in latest(served.shared) if rank(obj) == tlp.AMBER.rank]
    assert len(hidden) > 90 and not set(ids(hidden)) & set(ids(received))

    # It shares its own objects, which another partner pulls.
    own = Feed(block=3).mix(30, levels=(tlp.GREEN,))
    drop_box = client_collection(served, green, DROP_BOX)
    status = drop_box.add_objects({"objects": own}, wait_for_completion=True, timeout=30)
    assert (status.status, status.success_count) == ("complete", 30)
    refused = get(f"{served.collection_url(DROP_BOX)}objects/", {"Authorization": green.basic})
    assert refused.status == 403  # it may add to the drop box, not read it
    kz = client_collection(served, partners["kz-cert"], DROP_BOX)
    pulled = [
        obj for page in v21.as_pages(kz.get_objects, per_request=7) for obj in page["objects"]
    ]
    assert pulled == own


# ---------------------------------------------------------------------------
# What SIEMs and TIPs send
# ---------------------------------------------------------------------------


def poll_window(served: Served, title: str, count: int, block: int) -> list[dict[str, Any]]:
    """A fresh feed collection for one product, with `count` objects in it."""
    served.add_collection(title)
    objects = [level.marking_definition() for level in LEVELS] + Feed(block).mix(count)
    served.post(title, objects)
    return objects


def test_microsoft_sentinel_taxii_connector(served):
    """Microsoft Sentinel's "Threat intelligence - TAXII" data connector.

    Microsoft's documentation (Connect Microsoft Sentinel to STIX/TAXII threat
    intelligence feeds) has the administrator enter a friendly name, the API
    root URL, the collection ID, a username and a password, which indicators
    to import first ("at most one day old", ...) and a polling frequency.
    The connector then reads that collection's objects with HTTP Basic
    authentication and `Accept: application/taxii+json;version=2.1`: objects
    added after the start of the look-back window on the first poll, after
    the last one it received on the next, following `next` through the
    pages (at the server's page size: it sends no limit). It imports the
    indicators. The collection ID must be a UUIDv4.
    """
    objects = poll_window(served, "Sentinel feed", 1150, block=4)
    siem = served.add_partner_with_api("sentinel-soc", "amber", read=["Sentinel feed"])
    api_root = served.root_url
    collection_id = served.collections["Sentinel feed"]
    assert str(uuid.UUID(collection_id, version=4)) == collection_id
    headers = {"Authorization": siem.basic, "Accept": TAXII}
    objects_url = f"{api_root}collections/{collection_id}/objects/"

    def poll(added_after: str) -> tuple[list[dict[str, Any]], int, str | None]:
        received: list[dict[str, Any]] = []
        query, pages, last = {"added_after": added_after}, 0, None
        while True:
            reply = get(objects_url, headers, query)
            assert reply.status == 200, reply.raw
            assert reply.header("Content-Type") == TAXII
            body, pages = reply.body, pages + 1
            received += body.get("objects", [])
            last = reply.header("X-TAXII-Date-Added-Last")
            if not body.get("more"):
                assert "next" not in body
                return received, pages, last
            assert body["next"]
            query = {"added_after": added_after, "next": body["next"]}

    assert get(api_root, headers).body["versions"] == [TAXII]
    collection = get(f"{api_root}collections/{collection_id}/", headers)
    assert collection.status == 200 and collection.body["can_read"] is True
    one_day_ago = format_taxii(now_micros() - 24 * 3600 * 1_000_000)
    first, pages, last = poll(one_day_ago)
    assert (first, pages) == (visible(objects, tlp.AMBER), 2)  # 1,000 and the rest
    indicators = [obj for obj in first if obj["type"] == "indicator"]
    assert len(indicators) == 575
    assert all(stix2.parse(obj).pattern_type == "stix" for obj in indicators)
    # The next poll asks for what was added since the last one: the new objects only.
    later = Feed(block=5).mix(12)
    served.post("Sentinel feed", later)
    second, _, last_again = poll(last)
    assert second == later
    nothing, _, kept = poll(last_again)
    assert nothing == [] and kept == last_again  # an empty poll keeps the place


def test_elastic_custom_threat_intelligence_taxii_input(served):
    """Elastic's Custom Threat Intelligence integration (ti_custom) in TAXII 2.1 mode.

    Its documentation asks for the URL of the collection's objects
    (https://{base_url}/{api-root}/collections/{id}/objects/), an API key
    (sent as `Authorization: Bearer <key>`) or Basic credentials, the Accept
    header, an initial interval and a limit. Its CEL program sends
    `added_after` (now minus the initial interval, RFC 3339 in whole seconds)
    with `limit`; then, as long as a response carries a non-empty `next`, that
    `next` with `limit` and nothing else; it keeps the last response's
    X-TAXII-Date-Added-Last as its cursor and starts the next interval with
    added_after = the cursor. It decides whether to go on from `next`, not
    from `more`, so the two must agree. It reads `body.objects` with no
    default: a poll that finds nothing new gets `{}` (TAXII 2.1 section 3.7:
    objects is optional), which its program does not expect.
    """
    objects = poll_window(served, "Elastic feed", 420, block=6)
    elastic = served.add_partner_with_api("elastic-siem", "green", read=["Elastic feed"])
    url = served.collection_url("Elastic feed") + "objects/"
    headers = {"Authorization": f"Bearer {elastic.key}", "Accept": TAXII}
    initial = datetime.now(UTC) - timedelta(hours=24)

    def interval(added_after: str) -> tuple[list[dict[str, Any]], int, str | None]:
        events: list[dict[str, Any]] = []
        reply = get(url.rstrip("/") + "/", headers, {"added_after": added_after, "limit": "100"})
        requests = 1
        while True:
            assert reply.status == 200, reply.raw
            body = reply.body
            events += body.get("objects", [])
            cursor = reply.header("X-TAXII-Date-Added-Last")
            assert bool(body.get("next")) == bool(body.get("more"))
            if not body.get("next"):
                return events, requests, cursor
            reply = get(url, headers, {"next": body["next"], "limit": "100"})
            requests += 1

    events, requests, cursor = interval(initial.strftime("%Y-%m-%dT%H:%M:%SZ"))
    expected = visible(objects, tlp.GREEN)
    assert events == expected and requests == -(-len(expected) // 100)
    added = dict(
        zip(ids(served.everything("Elastic feed")), served.date_added("Elastic feed"), strict=True)
    )
    assert cursor == added[expected[-1]["id"]]  # the last object it may read
    later = Feed(block=7).mix(9)
    served.post("Elastic feed", later)
    more_events, requests, cursor_after = interval(cursor)
    assert (more_events, requests) == (visible(later, tlp.GREEN), 1)
    empty = get(url, headers, {"added_after": cursor_after, "limit": "100"})
    assert empty.status == 200 and empty.body == {}
    assert empty.header("X-TAXII-Date-Added-Last") == cursor_after  # the cursor stands


def test_cortex_xsoar_taxii2_feed(served):
    """Cortex XSOAR's "TAXII 2 Feed" integration (its TAXII2ApiModule, on taxii2-client).

    Its documentation asks for the discovery service URL, a username and
    password (the username `_api_token_key` sends the password as
    `Authorization: Token <key>`), the collection's name, the object types to
    fetch, an initial fetch interval and a page size (100 by default). It
    first asks discovery with the TAXII 2.0 media type and, on a 406, again
    as TAXII 2.1; takes the server's default API root; lists the collections
    and picks the one whose title is the configured name; then pages the
    objects with `added_after` and `match[type]` (adding relationship when it
    fetches several types), repeating them with `next`. The next fetch's
    added_after is the newest `modified` among the objects it parsed.
    """
    objects = poll_window(served, "XSOAR feed", 260, block=8)
    xsoar = served.add_partner_with_api("cortex-xsoar", "amber", read=["XSOAR feed"])
    discovery = f"{served.url}/taxii2/"
    auth = TokenAuth(key=xsoar.key)
    with pytest.raises(RequestsHTTPError) as taxii20:
        v20.Server(discovery, auth=auth).api_roots  # noqa: B018 (the request is the point)
    assert "406 Client Error" in str(taxii20.value)
    assert taxii20.value.response.headers["Content-Type"] == TAXII
    server = v21.Server(discovery, auth=auth)
    (collection,) = [c for c in server.default.collections if c.title == "XSOAR feed"]
    types = ["indicator", "malware", "relationship"]
    first_fetch = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def fetch(added_after: str) -> list[dict[str, Any]]:
        return [
            obj
            for page in v21.as_pages(
                collection.get_objects, per_request=100, added_after=added_after, type=types
            )
            for obj in page.get("objects", [])
        ]

    fetched = fetch(first_fetch)
    assert fetched == [obj for obj in visible(objects, tlp.AMBER) if obj["type"] in types]
    newest_modified = max(
        obj["modified"] for obj in fetched if obj["type"] in ("indicator", "malware")
    )
    later = Feed(block=9).mix(20)
    served.post("XSOAR feed", later)
    again = fetch(newest_modified)
    # `modified` is the producer's clock, not the server's: everything added
    # after that instant comes again (XSOAR de-duplicates), and nothing added
    # since the last fetch is missed.
    added = dict(
        zip(ids(served.everything("XSOAR feed")), served.date_added("XSOAR feed"), strict=True)
    )
    assert again == [
        obj
        for obj in visible(objects + later, tlp.AMBER)
        if obj["type"] in types and parse_micros(added[obj["id"]]) > parse_micros(newest_modified)
    ]
    assert {obj["id"] for obj in later if obj["type"] in types} <= set(ids(again))
