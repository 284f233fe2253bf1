"""What the TAXII tests share: STIX objects of the January 2009 DDoS, partners, collections.

The indicators name documentation addresses (RFC 5737: 198.51.100.0/24 and
203.0.113.0/24); the objects carry the OASIS TLP 2.0 marking definitions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from steppe.access.partners import add_partner
from steppe.stix import tlp
from steppe.stix.timestamps import format_stix, parse_micros
from steppe.stix.tlp import rank_of_object
from steppe.stix.versioning import version_of
from steppe.store.port import Collection, ObjectVersion, Store
from support.app import App, Reply

TAXII = "application/taxii+json;version=2.1"
ACCEPT = {"Accept": TAXII}
DAY = parse_micros("2009-01-18T00:00:00Z")
HOUR = 3_600_000_000
CERT_KG = "identity--5b2a9c0e-7d51-4a8e-9f53-0c2d8e6b1a47"
CAMPAIGN = "campaign--9d3c4d9e-6a47-4a8c-9f0e-2d5f1c1b7a10"


def stix_id(stix_type: str) -> str:
    return f"{stix_type}--{uuid.uuid4()}"


def identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": CERT_KG,
        "created": format_stix(DAY),
        "modified": format_stix(DAY),
        "name": "CERT-KG",
        "identity_class": "organization",
        "sectors": ["telecommunications"],
        "object_marking_refs": [tlp.GREEN.marking_id],
    }


def indicator(
    address: str,
    level: tlp.TlpLevel | None = tlp.GREEN,
    *,
    oid: str | None = None,
    modified: int = DAY,
    created: int = DAY,
    **extra: Any,
) -> dict[str, Any]:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid or stix_id("indicator"),
        "created": format_stix(created),
        "modified": format_stix(modified),
        "created_by_ref": CERT_KG,
        "name": f"DDoS source {address}",
        "description": "Source of the flood that took Kyrgyzstan's four ISPs offline.",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": format_stix(created),
        **extra,
    }
    if level is not None:
        obj["object_marking_refs"] = [level.marking_id]
    return obj


def campaign(modified: int, level: tlp.TlpLevel = tlp.GREEN) -> dict[str, Any]:
    return {
        "type": "campaign",
        "spec_version": "2.1",
        "id": CAMPAIGN,
        "created": format_stix(DAY),
        "modified": format_stix(modified),
        "created_by_ref": CERT_KG,
        "name": "January 2009 DDoS against Kyrgyz ISPs",
        "first_seen": format_stix(DAY),
        "object_marking_refs": [level.marking_id],
    }


def relationship(source: str, target: str, level: tlp.TlpLevel = tlp.GREEN) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": stix_id("relationship"),
        "created": format_stix(DAY),
        "modified": format_stix(DAY),
        "relationship_type": "indicates",
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": [level.marking_id],
    }


def ipv4(address: str) -> dict[str, Any]:
    return {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": f"ipv4-addr--{uuid.uuid5(uuid.NAMESPACE_URL, address)}",
        "value": address,
    }


def stix20_malware() -> dict[str, Any]:
    """A STIX 2.0 object (no spec_version property)."""
    return {
        "type": "malware",
        "id": stix_id("malware"),
        "created": format_stix(DAY),
        "modified": format_stix(DAY),
        "name": "BlackEnergy",
        "labels": ["bot"],
    }


def stored_version(obj: Mapping[str, Any], unmarked_tlp: int = tlp.GREEN.rank) -> ObjectVersion:
    """The version a writer hands the store for `obj` (steppe's rules for TAXII posts)."""
    rank = rank_of_object(obj, unmarked_tlp)
    spec = obj.get("spec_version", "2.0" if "created" in obj else "2.1")
    return ObjectVersion(obj["id"], obj["type"], version_of(obj), spec, rank, orjson.dumps(obj))


def store(app: App, collection_id: str, objects: Iterable[Mapping[str, Any]]) -> None:
    """Write objects straight to the store, one call each (one date_added each, in order)."""
    for obj in objects:
        app.services.store.put_objects(collection_id, [stored_version(obj)])


def new_collection(
    store_: Store, api_root: str, title: str, unmarked_tlp: int = tlp.GREEN.rank
) -> str:
    collection = Collection(
        id=str(uuid.uuid4()),
        api_root=api_root,
        title=title,
        description=f"{title} (tests)",
        created=DAY,
        unmarked_tlp=unmarked_tlp,
    )
    store_.create_collection(collection)
    return collection.id


@dataclass
class World:
    """An app with a shared collection, a private one and partners of every kind."""

    app: App
    root: str
    shared: str
    private: str
    keys: dict[str, str] = field(default_factory=dict)

    def partner(
        self,
        name: str,
        clearance: str,
        read: Iterable[str] = (),
        write: Iterable[str] = (),
        role: str = "partner",
    ) -> str:
        issued = add_partner(
            self.app.services.store,
            name,
            role,
            org_name=self.app.settings.org_name,
            clearance=clearance,
            can_read=read,
            can_write=write,
        )
        self.keys[name] = issued.key
        return issued.key

    def get(self, path: str, who: str = "admin", **kwargs: Any) -> Reply:
        return self.request("GET", path, who, **kwargs)

    def request(self, method: str, path: str, who: str = "admin", **kwargs: Any) -> Reply:
        headers = {**ACCEPT, **kwargs.pop("headers", {})}
        key = True if who == "admin" else self.keys[who]
        return self.app.request(method, path, headers=headers, key=key, **kwargs)

    def collection_path(self, collection_id: str | None = None, rest: str = "") -> str:
        return f"/taxii2/{self.root}/collections/{collection_id or self.shared}/{rest}"


def make_world(app: App) -> World:
    store_ = app.services.store
    root = app.settings.api_root
    world = World(
        app=app,
        root=root,
        shared=new_collection(store_, root, "Kyrgyzstan DDoS 2009"),
        private=new_collection(store_, root, "CERT-KG internal"),
    )
    world.partner("kg-green", "green", read=[world.shared])
    world.partner("kg-amber", "amber", read=[world.shared], write=[world.shared])
    world.partner("drop-box", "green", write=[world.shared])
    world.partner("kg-clear", "clear", read=[world.shared])
    return world


def objects_of(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 200, reply.body
    return reply.json().get("objects", [])


def ids_of(reply: Reply) -> list[str]:
    return [obj["id"] for obj in objects_of(reply)]


def pages(world: World, path: str, who: str = "admin", limit: int = 2, **query: str) -> list[Reply]:
    """Every page of a listing, following next with limit alone (as Elastic does)."""
    replies = [world.get(path, who, query={**query, "limit": str(limit)})]
    while replies[-1].json().get("more"):
        token = replies[-1].json()["next"]
        replies.append(world.get(path, who, query={"next": token, "limit": str(limit)}))
        assert len(replies) < 100, "the listing does not end"
    return replies


@dataclass
class Loaded:
    """The shared collection's content, in the order it was added."""

    world: World
    objects: list[dict[str, Any]]  # every stored version, in date_added order
    green_indicators: list[str]
    amber_indicators: list[str]
    mixed: str  # an indicator whose first version is GREEN and whose last is AMBER
    relationship: str
    sco: str
    stix20: str

    def visible_to(self, clearance: int) -> list[dict[str, Any]]:
        """The stored versions a partner with this clearance may receive, in order."""
        return [obj for obj in self.objects if stored_version(obj).tlp <= clearance]


def load_ddos(world: World) -> Loaded:
    """Markings, the campaign in three versions, GREEN and AMBER indicators in between."""
    greens = [indicator(f"198.51.100.{n}", tlp.GREEN) for n in (7, 8, 9)]
    ambers = [indicator(f"203.0.113.{n}", tlp.AMBER) for n in (21, 22, 23)]
    mixed_id = stix_id("indicator")
    mixed_v1 = indicator("198.51.100.66", tlp.GREEN, oid=mixed_id, modified=DAY)
    mixed_v2 = indicator(
        "198.51.100.66", tlp.AMBER, oid=mixed_id, modified=DAY + 24 * HOUR, confidence=85
    )
    link = relationship(greens[0]["id"], CAMPAIGN)
    sco = ipv4("198.51.100.7")
    old = stix20_malware()
    objects = [
        tlp.GREEN.marking_definition(),
        tlp.AMBER.marking_definition(),
        identity(),
        campaign(DAY + HOUR),
        greens[0],
        ambers[0],
        greens[1],
        ambers[1],
        campaign(DAY + 2 * HOUR),
        mixed_v1,
        greens[2],
        ambers[2],
        link,
        mixed_v2,
        campaign(DAY + 3 * HOUR),
        sco,
        old,
    ]
    store(world.app, world.shared, objects)
    return Loaded(
        world=world,
        objects=objects,
        green_indicators=[obj["id"] for obj in greens],
        amber_indicators=[obj["id"] for obj in ambers],
        mixed=mixed_id,
        relationship=link["id"],
        sco=sco["id"],
        stix20=old["id"],
    )
