"""The leak oracle's world: built through the public HTTP API, then read by every caller.

A world is a few collections, callers (partners and analysts) with random rights
and TLP clearances, analyst reports and partner TAXII envelopes at every TLP
level that share values, campaign names and /24 networks across collections
and levels, malware families and samples (TAXII envelopes whose campaign `uses`
a family, shared by name and by one sample hash across posts), false-positive
declarations and a revocation. Every fact of it is a
recognisable token, and the oracle knows each token's occurrences: the
(collection, TLP rank) pairs it was put in.

The "may see" model is written here, independently of steppe: an occurrence is
visible to a caller iff the caller may read its collection and is cleared for
its TLP; a token is visible iff one of its occurrences is (collection titles and
ids: iff the caller may read or write the collection). A caller also knows what
it wrote itself and what it sent in the request. Anything else found in a
response body or header is a leak.

Public facts are not tokens: TLP marking definitions, ATT&CK attack patterns,
countries, autonomous systems, the organisation's identity, partner names.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from support.app import App, Reply

TAXII = "application/taxii+json;version=2.1"
ACCEPT = {"Accept": TAXII}
LEVELS = ("clear", "green", "amber", "amber+strict", "red")  # rank = index
# The OASIS TLP 2.0 marking definitions (fixed ids, public).
MARKING_IDS = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": 0,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": 1,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": 2,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": 3,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": 4,
}
MARKING_OF = {rank: marking for marking, rank in MARKING_IDS.items()}
# Objects built from public facts only: never secrets, whoever holds them.
PUBLIC_TYPES = ("marking-definition", "attack-pattern", "location", "autonomous-system")
NETWORKS = ("192.0.2", "198.51.100", "203.0.113")  # RFC 5737: one /24 each
SHARED_VALUES = 5  # four shared addresses (one per network, round robin) and a domain
CAMPAIGN_NAMES = 3
# Random worlds draw from fewer, so that posts in different places share them often.
DRAWN_SHARED = (0, 1, 2, 4)
DRAWN_CAMPAIGNS = 2
ASNS = (64500, 64501)
TOOL_FAMILIES = 2
OCCURRENCE = "occurrence"
ACCESS = "access"  # collection titles and ids: visible to whoever may read or write it

Occurrence = tuple[str, int]  # (collection id, TLP rank)


# -- the world, as Hypothesis draws it -------------------------------------------------


@dataclass(frozen=True)
class CallerSpec:
    role: str  # "partner" or "analyst"
    clearance: int
    read: frozenset[int]
    write: frozenset[int]


@dataclass(frozen=True)
class PostSpec:
    """An analyst report (taxii=False) or a partner's TAXII envelope (taxii=True)."""

    taxii: bool
    collection: int
    tlp: int
    campaign: int
    shared: tuple[int, ...]  # indices into the shared values
    unique: int  # addresses only this post carries
    network: int  # the /24 its own addresses come from
    author: int  # index of the caller who writes it (the admin if it may not)
    victim: bool  # a target address (a victim: an observable, no indicator)
    # The malware family a TAXII envelope's campaign `uses` (-1: none), with a sample
    # every envelope of that family shares and one of its own (issue 12: shared tooling).
    tool: int = -1


@dataclass(frozen=True)
class WorldSpec:
    collections: int
    callers: tuple[CallerSpec, ...]
    posts: tuple[PostSpec, ...]
    false_positives: tuple[int, ...]  # indices into every value of the world
    revoke: int | None  # index of an analyst report whose submission the admin revokes
    hostile: bool  # a partner posts a campaign under the id of one it may not see


@st.composite
def worlds(draw: st.DrawFn) -> WorldSpec:
    collections = draw(st.integers(2, 3))
    subsets = st.frozensets(st.integers(0, collections - 1), max_size=collections)
    callers = draw(
        st.lists(
            st.builds(
                CallerSpec,
                role=st.sampled_from(["partner", "analyst"]),
                clearance=st.integers(0, 4),
                read=subsets,
                write=subsets,
            ),
            min_size=2,
            max_size=4,
        )
    )
    posts = draw(
        st.lists(
            st.builds(
                PostSpec,
                taxii=st.booleans(),
                collection=st.integers(0, collections - 1),
                tlp=st.integers(0, 4),
                campaign=st.integers(0, DRAWN_CAMPAIGNS - 1),
                shared=st.lists(
                    st.sampled_from(DRAWN_SHARED), min_size=1, max_size=2, unique=True
                ).map(tuple),
                unique=st.integers(1, 2),
                network=st.integers(0, len(NETWORKS) - 1),
                author=st.integers(0, len(callers) - 1),
                victim=st.booleans(),
                tool=st.integers(-1, TOOL_FAMILIES - 1),
            ),
            min_size=3,
            max_size=6,
        )
    )
    false_positives = tuple(draw(st.lists(st.integers(0, 30), max_size=2, unique=True)))
    revoke = draw(st.none() | st.integers(0, len(posts) - 1))
    return WorldSpec(
        collections, tuple(callers), tuple(posts), false_positives, revoke, draw(st.booleans())
    )


# -- tokens ------------------------------------------------------------------------------


@dataclass
class Token:
    text: str
    kind: str  # what it is, for people: "target name", "campaign id", ...
    where: str  # which post or entity it belongs to
    occurrences: set[Occurrence] = field(default_factory=set)
    known_to: set[str] = field(default_factory=set)  # callers who wrote it themselves
    rule: str = OCCURRENCE
    pattern: re.Pattern[bytes] | None = None

    def __post_init__(self) -> None:
        escaped = re.escape(self.text.encode())
        if re.fullmatch(r"[0-9.]+(/[0-9]+)?", self.text):
            # An address must not match inside a longer one (192.0.2.1 in 192.0.2.17).
            escaped = rb"(?<![0-9])" + escaped + rb"(?![0-9])"
        self.pattern = re.compile(escaped, re.IGNORECASE)


@dataclass(frozen=True)
class Viewer:
    """What the model needs to know of a caller."""

    name: str
    role: str
    clearance: int
    read: frozenset[str]
    write: frozenset[str]

    def sees(self, token: Token) -> bool:
        if self.name in token.known_to:
            return True
        if token.rule == ACCESS:
            return any(c in self.read or c in self.write for c, _ in token.occurrences)
        return any(c in self.read and rank <= self.clearance for c, rank in token.occurrences)


@dataclass(frozen=True)
class Finding:
    token: Token
    where: str  # "body" or "header <name>"
    context: str

    def describe(self) -> str:
        occurrences = ", ".join(f"{c[:8]}/{LEVELS[r]}" for c, r in sorted(self.token.occurrences))
        return (
            f"{self.token.kind} {self.token.text!r} of {self.token.where} "
            f"(occurs in {occurrences or 'nothing'}) in the {self.where}: ...{self.context}..."
        )


def find_hidden(headers: Mapping[str, str], body: bytes, hidden: Iterable[Token]) -> list[Finding]:
    """Every hidden token found in a response: its raw body bytes and its header values."""
    findings = []
    parts = [("body", body)] + [
        (f"header {name}", f"{name}: {value}".encode()) for name, value in headers.items()
    ]
    for token in hidden:
        assert token.pattern is not None
        for where, data in parts:
            match = token.pattern.search(data)
            if match:
                start, end = max(0, match.start() - 80), match.end() + 80
                context = data[start:end].decode("utf-8", "replace")
                findings.append(Finding(token, where, context))
    return findings


# -- building the world through the API ---------------------------------------------------


def marker(*parts: object) -> str:
    """A recognisable secret: 'zq' is never hex, so no id or hash contains one."""
    return "zq" + hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


class Dates:
    """Unique timestamps (2010-2012): no two share a second of the day, so that a date
    the server derives (valid_until = valid_from + 30 days) never equals another token."""

    def __init__(self) -> None:
        self.count = 0

    def next(self, after: datetime | None = None) -> datetime:
        self.count += 1
        seconds = (self.count * 7919 + 3601) % 86400
        day = datetime(2010, 1, 1, tzinfo=UTC) + timedelta(days=(self.count * 37) % 700)
        if after is not None:
            day = after.replace(hour=0, minute=0, second=0) + timedelta(days=2)
        return day + timedelta(seconds=seconds)


def stix_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def date_token(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Built:
    """The world as built: who is who, and every token with its occurrences."""

    spec: WorldSpec
    collections: list[str]
    viewers: list[Viewer]
    keys: dict[str, str]  # caller name -> key
    tokens: list[Token] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # every observable value, to look up
    networks: list[str] = field(default_factory=list)
    submissions: dict[str, str] = field(default_factory=dict)  # id -> submitter
    statuses: dict[str, str] = field(default_factory=dict)  # id -> poster
    campaign_ids: dict[str, set[Occurrence]] = field(default_factory=dict)
    object_ids: dict[str, set[str]] = field(default_factory=dict)  # id -> its collections
    hostile_ids: dict[str, str] = field(default_factory=dict)  # reused campaign id -> poster
    log: list[str] = field(default_factory=list)  # what was done, for the failure message

    def token(self, text: str, kind: str, where: str, *occ: Occurrence, **kw: Any) -> Token:
        found = next((t for t in self.tokens if t.text == text), None)
        if found is None:
            found = Token(text, kind, where, **kw)
            self.tokens.append(found)
        found.occurrences.update(occ)
        return found

    def describe(self) -> str:
        lines = ["collections:"]
        lines += [f"  c{i}: {cid}" for i, cid in enumerate(self.collections)]
        lines.append("callers:")
        for v in self.viewers:
            lines.append(
                f"  {v.name}: {v.role}, cleared {LEVELS[v.clearance]}, "
                f"read {sorted(self.cname(c) for c in v.read)}, "
                f"write {sorted(self.cname(c) for c in v.write)}"
            )
        lines.append("what was done:")
        lines += [f"  {entry}" for entry in self.log]
        return "\n".join(lines)

    def places(self, occurrences: Iterable[Occurrence]) -> str:
        return ", ".join(sorted(f"{self.cname(c)}/{LEVELS[r]}" for c, r in occurrences))

    def cname(self, collection_id: str) -> str:
        if collection_id in self.collections:
            return f"c{self.collections.index(collection_id)}"
        return collection_id[:8]


def _ok(reply: Reply, *expected: int) -> Reply:
    assert reply.status in expected, (reply.status, reply.body[:2000])
    return reply


def build(app: App, spec: WorldSpec) -> Built:
    """Create the world through the admin API, the analyst API and TAXII; run the worker."""
    root = app.settings.api_root
    collections = []
    built_tokens: list[tuple[str, int]] = []
    for i in range(spec.collections):
        title = f"Exchange {marker('collection', i)}"
        reply = _ok(
            app.request("POST", "/api/v1/admin/collections", json_body={"title": title}), 201
        )
        collections.append(reply.json()["id"])
        built_tokens.append((title.split()[-1], i))
    viewers, keys, identities = [], {}, {}
    for i, caller in enumerate(spec.callers):
        name = f"caller{i}"
        body = {
            "name": name,
            "role": caller.role,
            "tlp": LEVELS[caller.clearance],
            "read": [collections[c] for c in sorted(caller.read)],
            "write": [collections[c] for c in sorted(caller.write)],
        }
        reply = _ok(app.request("POST", "/api/v1/admin/partners", json_body=body), 201)
        keys[name] = reply.json()["key"]
        identities[name] = reply.json()["identity"]
        viewers.append(
            Viewer(
                name,
                caller.role,
                caller.clearance,
                frozenset(collections[c] for c in caller.read),
                frozenset(collections[c] for c in caller.write),
            )
        )
    world = Built(spec, collections, viewers, keys)
    for text, i in built_tokens:
        world.token(text, "collection title", f"c{i}", (collections[i], 0), rule=ACCESS)
        world.token(collections[i], "collection id", f"c{i}", (collections[i], 0), rule=ACCESS)
    admin = _ok(app.request("GET", "/api/v1/admin/partners"), 200).json()["partners"]
    org_identity = next(p["identity"] for p in admin if p["role"] == "admin")

    campaigns = [f"Operation {marker('campaign', i)}" for i in range(CAMPAIGN_NAMES)]
    shared = [f"{NETWORKS[i % len(NETWORKS)]}.{200 + i}" for i in range(SHARED_VALUES - 1)] + [
        f"{marker('shared-domain')}.example"
    ]
    next_host = dict.fromkeys(NETWORKS, 11)
    dates = Dates()
    report_ids: dict[int, str] = {}

    def address(network: int) -> str:
        prefix = NETWORKS[network]
        next_host[prefix] += 1
        return f"{prefix}.{next_host[prefix]}"

    for n, post in enumerate(spec.posts):
        cid = collections[post.collection]
        occ = (cid, post.tlp)
        author = viewers[post.author]
        kind = "envelope" if post.taxii else "report"
        may_author = cid in author.write and (post.taxii or author.role == "analyst")
        writer = author.name if may_author else "admin"
        key = keys[writer] if may_author else True
        own = {writer} if may_author else set()
        where = f"{kind} #{n} (c{post.collection}, {LEVELS[post.tlp]}, by {writer})"

        def tok(
            text: str, what: str, occ: Occurrence = occ, where: str = where, own: set = own
        ) -> str:
            world.token(text, what, where, occ).known_to.update(own)
            return text

        campaign = campaigns[post.campaign]
        tok(campaign.split()[-1], "campaign name")
        addresses = [address(post.network) for _ in range(post.unique)]
        values = [shared[i] for i in post.shared] + addresses
        for value in values:
            tok(value, "value")
            prefix = value.rsplit(".", 1)[0]
            if prefix in NETWORKS:
                tok(f"{prefix}.0/24", "network")
        victim = address(post.network) if post.victim else None
        if victim:
            tok(victim, "victim address")
            tok(f"{victim.rsplit('.', 1)[0]}.0/24", "network")
        first = dates.next()
        last = dates.next(after=first)
        tok(date_token(first), "first_seen")
        tok(date_token(last), "last_seen")
        for value in values + ([victim] if victim else []):
            if value not in world.values:
                world.values.append(value)
        if post.taxii and post.tool >= 0:
            family = f"Family {tok(marker('family', post.tool), 'malware family name')}"
            samples = [tok(sample_hash("family", post.tool), "sample hash")]
            samples.append(tok(sample_hash("post", n), "sample hash"))
            tooling = (family, samples)
            for value in [f"malware:{family}", *samples]:
                if value not in world.values:
                    world.values.append(value)
        else:
            tooling = None
        if post.taxii:
            status_id = _post_envelope(
                app,
                root,
                cid,
                key,
                post,
                campaign,
                values,
                first,
                last,
                dates,
                tok,
                identities.get(writer, org_identity),
                n,
                tooling,
            )
            tok(status_id, "status id")
            world.statuses[status_id] = writer
            world.log.append(f"{where}: TAXII POST, status {status_id}, values {values}")
        else:
            submission_id = _submit(
                app, cid, key, post, campaign, values, victim, first, last, tok, n
            )
            tok(submission_id, "submission id")
            world.submissions[submission_id] = writer
            report_ids[n] = submission_id
            world.log.append(
                f"{where}: submission {submission_id}, values {values}, victim {victim}"
            )
    # One run of the worker: it correlates the posts in the order they came.
    app.drain()

    if spec.hostile:
        _hostile_post(app, world, identities, dates)

    all_values = list(world.values)
    for index in spec.false_positives:
        value = all_values[index % len(all_values)]
        reason = f"Sinkhole {marker('false-positive', index)}"
        _ok(
            app.request(
                "POST", "/api/v1/false-positives", json_body={"value": value, "reason": reason}
            ),
            200,
            201,
        )
        occurrences = set().union(*(t.occurrences for t in world.tokens if t.text == value))
        world.token(
            reason.split()[-1], "false-positive reason", f"the entry for {value}", *occurrences
        )
        world.log.append(f"admin declared {value} a false positive: {reason}")
    if spec.revoke is not None and spec.revoke in report_ids:
        submission_id = report_ids[spec.revoke]
        post = spec.posts[spec.revoke]
        reason = f"Retracted {marker('revocation', spec.revoke)}"
        _ok(
            app.request(
                "POST",
                f"/api/v1/submissions/{submission_id}/revoke",
                json_body={"reason": reason},
            ),
            200,
            202,
        )
        world.token(
            reason.split()[-1],
            "revocation reason",
            f"submission {submission_id}",
            (collections[post.collection], post.tlp),
        ).known_to.add(world.submissions[submission_id])
        world.log.append(f"admin revoked submission {submission_id}: {reason}")
    app.drain()
    assert app.dead_letters() == [], app.dead_letters()
    world.networks = sorted({t.text for t in world.tokens if t.kind == "network"})
    _read_admin_view(app, world, org_identity)
    return world


def sample_hash(*parts: object) -> str:
    """A made-up SHA-256 (a token: 64 hex digits no id or date contains)."""
    return hashlib.sha256(repr(("sample", *parts)).encode()).hexdigest()


def _tooling_objects(
    common: dict[str, Any],
    marking: list[str],
    campaign_id: str,
    oid: Callable[..., str],
    tooling: tuple[str, list[str]],
) -> list[dict[str, Any]]:
    """The family the campaign `uses`, and its samples: indicators that `indicates` it."""
    family, samples = tooling
    malware_id = oid("malware", "family")
    objects: list[dict[str, Any]] = [
        {
            **common,
            "type": "malware",
            "id": malware_id,
            "name": family,
            "is_family": True,
            "malware_types": ["bot"],
            "object_marking_refs": marking,
        },
        {
            **common,
            "type": "relationship",
            "id": oid("relationship", "uses"),
            "relationship_type": "uses",
            "source_ref": campaign_id,
            "target_ref": malware_id,
            "object_marking_refs": marking,
        },
    ]
    for sha256 in samples:
        indicator_id = oid("indicator", sha256)
        objects += [
            {
                **common,
                "type": "indicator",
                "id": indicator_id,
                "name": "Bot sample",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[file:hashes.'SHA-256' = '{sha256}']",
                "pattern_type": "stix",
                "valid_from": common["created"],
                "object_marking_refs": marking,
            },
            {
                **common,
                "type": "relationship",
                "id": oid("relationship", "sample", sha256),
                "relationship_type": "indicates",
                "source_ref": indicator_id,
                "target_ref": malware_id,
                "object_marking_refs": marking,
            },
        ]
    return objects


def _submit(
    app: App,
    cid: str,
    key: str | bool,
    post: PostSpec,
    campaign: str,
    values: list[str],
    victim: str | None,
    first: datetime,
    last: datetime,
    tok: Callable[..., str],
    n: int,
) -> str:
    observables: list[dict[str, Any]] = []
    for value in values:
        if value.endswith(".example"):
            observables.append({"type": "domain-name", "value": value, "role": "c2"})
        else:
            asn = ASNS[NETWORKS.index(value.rsplit(".", 1)[0]) % len(ASNS)]
            observables.append({"type": "ipv4-addr", "value": value, "role": "source", "asn": asn})
    if victim:
        observables.append({"type": "ipv4-addr", "value": victim, "role": "target"})
    report = {
        "collection": cid,
        "tlp": LEVELS[post.tlp],
        "title": f"Report {tok(marker('title', n), 'report title')}",
        "source": {
            "name": f"Source {tok(marker('source', n), 'source name')}",
            "url": f"https://{tok(marker('source-url', n), 'source url')}.example/post",
        },
        "attack": {
            "kind": "ddos",
            "first_seen": stix_time(first),
            "last_seen": stix_time(last),
            "description": f"Attack {tok(marker('attack', n), 'attack description')}",
        },
        "campaign": {
            "name": campaign,
            "description": f"Campaign {tok(marker('campaign-text', n), 'campaign description')}",
            "objective": f"Objective {tok(marker('objective', n), 'campaign objective')}",
        },
        "targets": [
            {
                "name": f"Target {tok(marker('target', n), 'target name')}",
                "kind": "organization",
                "country": "KG",
                "description": f"Victim {tok(marker('target-text', n), 'target description')}",
            }
        ],
        "attribution": {"name": f"Actor {tok(marker('actor', n), 'attribution name')}"},
        "observables": observables,
    }
    reply = _ok(app.submit(report, key=key), 201, 202)
    return str(reply.json()["id"])


def _post_envelope(
    app: App,
    root: str,
    cid: str,
    key: str | bool,
    post: PostSpec,
    campaign: str,
    values: list[str],
    first: datetime,
    last: datetime,
    dates: Dates,
    tok: Callable[..., str],
    identity: str,
    n: int,
    tooling: tuple[str, list[str]] | None = None,
) -> str:
    stamp = stix_time(dates.next())
    tok(stamp[:19], "envelope timestamp")
    marking = [MARKING_OF[post.tlp]]

    def oid(stix_type: str, *what: object) -> str:
        digest = hashlib.sha256(repr((n, what)).encode()).hexdigest()[:32]
        made = f"{stix_type}--{uuid.UUID(digest, version=4)}"
        tok(made.split("--")[1], f"{stix_type} id")
        return made

    common = {
        "spec_version": "2.1",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": identity,
    }
    campaign_id = oid("campaign")
    objects: list[dict[str, Any]] = [
        {
            **common,
            "type": "campaign",
            "id": campaign_id,
            "name": campaign,
            "description": f"Campaign {tok(marker('envelope-text', n), 'campaign description')}",
            "first_seen": stix_time(first),
            "last_seen": stix_time(last),
            "object_marking_refs": marking,
        }
    ]
    target_id = oid("identity", "target")
    objects.append(
        {
            **common,
            "type": "identity",
            "id": target_id,
            "name": f"Target {tok(marker('envelope-target', n), 'target name')}",
            "identity_class": "organization",
            "object_marking_refs": marking,
        }
    )
    objects.append(
        {
            **common,
            "type": "relationship",
            "id": oid("relationship", "targets"),
            "relationship_type": "targets",
            "source_ref": campaign_id,
            "target_ref": target_id,
            "object_marking_refs": marking,
        }
    )
    for value in values:
        stix_type = "domain-name" if value.endswith(".example") else "ipv4-addr"
        indicator_id = oid("indicator", value)
        objects.append(
            {
                **common,
                "type": "indicator",
                "id": indicator_id,
                "name": f"Flood source {value}",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[{stix_type}:value = '{value}']",
                "pattern_type": "stix",
                "valid_from": stix_time(first),
                "object_marking_refs": marking,
            }
        )
        objects.append(
            {
                **common,
                "type": "relationship",
                "id": oid("relationship", "indicates", value),
                "relationship_type": "indicates",
                "source_ref": indicator_id,
                "target_ref": campaign_id,
                "object_marking_refs": marking,
            }
        )
    if tooling is not None:
        objects += _tooling_objects(common, marking, campaign_id, oid, tooling)
    reply = _ok(
        app.request(
            "POST",
            f"/taxii2/{root}/collections/{cid}/objects/",
            body=json.dumps({"objects": objects}),
            headers=ACCEPT,
            content_type=TAXII,
            key=key,
        ),
        202,
    )
    status = reply.json()
    assert status.get("failure_count", 0) == 0, status
    return str(status["id"])


def _hostile_post(app: App, world: Built, identities: dict[str, str], dates: Dates) -> None:
    """Finding 2: a partner posts a campaign under the id of one it may not see."""
    _collect_campaign_ids(app, world)
    for viewer in world.viewers:
        if not viewer.write:
            continue
        hidden = sorted(
            cid
            for cid, occurrences in world.campaign_ids.items()
            if not any(c in viewer.read and r <= viewer.clearance for c, r in occurrences)
        )
        if not hidden:
            continue
        target = sorted(viewer.write)[0]
        stamp = stix_time(dates.next())
        campaign = {
            "type": "campaign",
            "spec_version": "2.1",
            "id": hidden[0],
            "created_by_ref": identities[viewer.name],
            "created": stamp,
            "modified": stamp,
            "name": f"Decoy {marker('decoy', viewer.name)}",
            "object_marking_refs": [MARKING_OF[1]],
        }
        reply = app.request(
            "POST",
            f"/taxii2/{app.settings.api_root}/collections/{target}/objects/",
            body=json.dumps({"objects": [campaign]}),
            headers=ACCEPT,
            content_type=TAXII,
            key=world.keys[viewer.name],
        )
        assert reply.status < 500, reply.body
        where = f"{viewer.name}'s hostile post"
        world.token(marker("decoy", viewer.name), "decoy name", where, (target, 1)).known_to.add(
            viewer.name
        )
        if reply.status == 202 and "id" in reply.json():
            status_id = reply.json()["id"]
            world.token(status_id, "status id", where, (target, 1)).known_to.add(viewer.name)
            world.statuses[status_id] = viewer.name
        world.log.append(
            f"{viewer.name} posted a GREEN campaign with the hidden id {hidden[0]} into "
            f"{world.cname(target)}: {reply.status}"
        )
        world.hostile_ids[hidden[0]] = viewer.name
        app.drain()
        return
    world.log.append("no hostile post: no writer has a campaign it may not see")


def _collect_campaign_ids(app: App, world: Built) -> None:
    for cid in world.collections:
        for obj in _all_versions(app, cid, True):
            if obj.get("type") == "campaign":
                world.campaign_ids.setdefault(obj["id"], set()).add((cid, _rank(obj)))


def _rank(obj: Mapping[str, Any]) -> int:
    if obj.get("type") == "marking-definition":
        return 0
    ranks = [MARKING_IDS[m] for m in obj.get("object_marking_refs", []) if m in MARKING_IDS]
    return max(ranks) if ranks else 1  # collections are created with unmarked_tlp green


def _all_versions(app: App, cid: str, key: str | bool) -> list[dict[str, Any]]:
    path = f"/taxii2/{app.settings.api_root}/collections/{cid}/objects/"
    objects: list[dict[str, Any]] = []
    query: dict[str, str] = {"match[version]": "all", "limit": "500"}
    while True:
        reply = _ok(app.request("GET", path, headers=ACCEPT, query=query, key=key), 200)
        page = reply.json()
        objects += page.get("objects", [])
        if not page.get("more"):
            return objects
        query = {"next": page["next"], "limit": "500"}


def _read_admin_view(app: App, world: Built, org_identity: str) -> None:
    """Ids: where the server itself stores each object (as the admin reads it over TAXII)."""
    world.campaign_ids.clear()
    for cid in world.collections:
        for obj in _all_versions(app, cid, True):
            object_id, rank = obj["id"], _rank(obj)
            if obj["type"] == "campaign":
                world.campaign_ids.setdefault(object_id, set()).add((cid, rank))
            if obj["type"] in PUBLIC_TYPES or object_id == org_identity:
                continue
            world.token(
                object_id.split("--")[1], f"{obj['type']} id", "the stored objects", (cid, rank)
            )
            world.object_ids.setdefault(object_id, set()).add(cid)
    listed = _ok(app.request("GET", "/api/v1/campaigns", query={"limit": "1000"}), 200).json()
    for record in listed["campaigns"]:
        if record["id"] not in world.campaign_ids:
            rank = LEVELS.index(record["tlp"])
            world.campaign_ids[record["id"]] = {(record["collection"], rank)}
            world.token(
                record["id"].split("--")[1],
                "campaign id",
                "the campaign index",
                (record["collection"], rank),
            )
    # What each writer produced is its own: the ids its submissions and envelopes created.
    for submission_id, submitter in world.submissions.items():
        if submitter == "admin":
            continue
        resource = _ok(app.request("GET", f"/api/v1/submissions/{submission_id}"), 200).json()
        for ids in (resource.get("objects") or {}).values():
            for object_id in ids:
                for token in world.tokens:
                    if token.text == object_id.split("--")[-1]:
                        token.known_to.add(submitter)
    for campaign_id, poster in world.hostile_ids.items():
        for token in world.tokens:
            if token.text == campaign_id.split("--")[1]:
                token.known_to.add(poster)


# -- reading the world as each caller -------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How much each caller asks beyond the listings (moto costs ten times sqlite)."""

    objects: int = 4  # object ids per collection asked for (object, versions)
    lookups: int = 4  # values asked one by one (the bulk lookup asks them all)
    details: tuple[str, ...] = ("summary", "full")  # bulk lookup forms


FULL = Budget()
LIGHT = Budget(objects=2, lookups=2, details=("full",))


@dataclass(frozen=True)
class Leak:
    caller: str
    endpoint: str
    what: str

    def __str__(self) -> str:
        return f"{self.caller} <- {self.endpoint}: {self.what}"


class Prober:
    """Every read endpoint, as one caller; collects what it may not see."""

    def __init__(self, app: App, world: Built, viewer: Viewer, budget: Budget = FULL) -> None:
        self.budget = budget
        self.app = app
        self.world = world
        self.viewer = viewer
        self.key = world.keys[viewer.name]
        self.hidden = [t for t in world.tokens if not viewer.sees(t)]
        self.leaks: list[Leak] = []

    def get(
        self,
        path: str,
        query: Mapping[str, str] | None = None,
        *,
        taxii: bool = False,
        json_body: Any = None,
        label: str | None = None,
    ) -> Reply:
        method = "GET" if json_body is None else "POST"
        reply = self.app.request(
            method,
            path,
            query=query,
            json_body=json_body,
            headers=ACCEPT if taxii else None,
            key=self.key,
        )
        endpoint = label or f"{method} {path}" + (f"?{dict(query)}" if query else "")
        sent = f"{path} {json.dumps(query or {})} {json.dumps(json_body)}".encode()
        self.check(endpoint, reply.status, reply.headers, reply.body, sent)
        if reply.status >= 500:
            self.leaks.append(Leak(self.viewer.name, endpoint, f"answered {reply.status}"))
        return reply

    def check(
        self, endpoint: str, status: int, headers: Mapping[str, str], body: bytes, sent: bytes
    ) -> None:
        hidden = [t for t in self.hidden if not (t.pattern and t.pattern.search(sent))]
        for finding in find_hidden(headers, body, hidden):
            self.leaks.append(Leak(self.viewer.name, f"{endpoint} [{status}]", finding.describe()))

    def paged(self, path: str, query: dict[str, str]) -> None:
        for _ in range(50):
            reply = self.get(path, query, taxii=True)
            if reply.status != 200:
                return
            page = reply.json()
            if not page.get("more") or not page.get("next"):
                return
            query = {"next": page["next"], "limit": query.get("limit", "100")}

    def run(self) -> list[Leak]:
        self.taxii()
        self.analyst_api()
        return self.leaks

    def taxii(self) -> None:
        root = self.app.settings.api_root
        base = f"/taxii2/{root}"
        self.get("/taxii2/", taxii=True)
        self.get(f"{base}/", taxii=True)
        self.get(f"{base}/collections/", taxii=True)
        for cid in [*self.world.collections, self.app.default_collection]:
            self.get(f"{base}/collections/{cid}/", taxii=True)
            objects = f"{base}/collections/{cid}/objects/"
            self.paged(objects, {"limit": "100"})
            self.paged(objects, {"limit": "100", "match[version]": "all"})
            self.paged(f"{base}/collections/{cid}/manifest/", {"limit": "100"})
            for object_id in self._sample(cid):
                self.get(f"{objects}{object_id}/", taxii=True)
                self.get(f"{objects}{object_id}/versions/", taxii=True)
        for status_id in self.world.statuses:
            self.get(f"{base}/status/{status_id}/", taxii=True)

    def _sample(self, cid: str) -> list[str]:
        """Object ids of the collection worth asking for: hidden ones and correlation's first."""
        hidden_ids = {t.text for t in self.hidden}
        ids = sorted(i for i, where in self.world.object_ids.items() if cid in where)
        ranked = sorted(
            ids,
            key=lambda i: (
                i.split("--")[1] not in hidden_ids,
                i.split("--")[0] not in ("relationship", "sighting", "campaign", "note"),
                i,
            ),
        )
        return ranked[: self.budget.objects]

    def analyst_api(self) -> None:
        lookups = self.world.values + self.world.networks
        # The bulk lookup below answers every value as GET does; GET asks about a few,
        # those the caller may not see first.
        hidden = {t.text for t in self.hidden}
        for value in sorted(lookups, key=lambda v: (v not in hidden, lookups.index(v)))[
            : self.budget.lookups
        ]:
            self.get("/api/v1/observables", {"value": value})
        for detail in self.budget.details:
            label = f"POST /api/v1/observables/lookup ({detail})"
            reply = self.get(
                "/api/v1/observables/lookup",
                json_body={"values": lookups, "detail": detail},
                label=label,
            )
            if reply.status == 200:
                # Each answer may name its own value, not the others the request asked about.
                for value, result in zip(lookups, reply.json()["results"], strict=True):
                    self.check(
                        f"{label}, the answer for {value}",
                        200,
                        {},
                        json.dumps(result).encode(),
                        value.encode(),
                    )
        # The same values pasted as free text (as sent: what it sends it knows).
        text = "\n".join(lookups)
        self.get(
            "/api/v1/observables/lookup",
            json_body={"text": text, "detail": self.budget.details[-1]},
            label="POST /api/v1/observables/lookup (text)",
        )
        self.get("/api/v1/campaigns", {"limit": "1000"})
        for campaign_id, occurrences in sorted(self.world.campaign_ids.items()):
            reply = self.get(f"/api/v1/campaigns/{campaign_id}")
            if not self.may_see_campaign(campaign_id) and reply.status != 404:
                self.leaks.append(
                    Leak(
                        self.viewer.name,
                        f"GET /api/v1/campaigns/{campaign_id}",
                        f"a campaign it may not see answered {reply.status}, not 404 "
                        f"(occurs in {self.world.places(occurrences)})",
                    )
                )
        self.campaign_graph()
        self.get("/api/v1/false-positives")
        self.get("/api/v1/submissions", {"limit": "500"})
        for submission_id in self.world.submissions:
            self.get(f"/api/v1/submissions/{submission_id}")

    def may_see_campaign(self, campaign_id: str) -> bool:
        occurrences = self.world.campaign_ids.get(campaign_id, set())
        return (
            any(c in self.viewer.read and rank <= self.viewer.clearance for c, rank in occurrences)
            or self.world.hostile_ids.get(campaign_id) == self.viewer.name
        )

    def campaign_graph(self) -> None:
        """The graph: no node the caller may not see, no edge resting on evidence it may not.

        Its body is checked for hidden tokens like every answer; beyond that, every node
        must be a campaign the model lets the caller see, every edge must join two returned
        nodes, and every value, network, sample or family an edge names must be one the
        caller sees an occurrence of.
        """
        for query in ({}, {"strength": "network,asn", "limit": "5000"}):
            endpoint = "GET /api/v1/campaigns/graph" + (f"?{query}" if query else "")
            reply = self.get("/api/v1/campaigns/graph", query)
            if reply.status != 200:
                self.leaks.append(Leak(self.viewer.name, endpoint, f"answered {reply.status}"))
                continue
            self.check_graph(endpoint, reply.json())

    def check_graph(self, endpoint: str, answer: Mapping[str, Any]) -> None:
        """What the model says of one graph answer (see campaign_graph)."""
        nodes = {node["id"] for node in answer["nodes"]}
        for campaign_id in sorted(nodes):
            if not self.may_see_campaign(campaign_id):
                places = self.world.places(self.world.campaign_ids.get(campaign_id, set()))
                self.leaks.append(
                    Leak(
                        self.viewer.name,
                        endpoint,
                        f"a node for campaign {campaign_id} it may not see "
                        f"(occurs in {places or 'nothing known'})",
                    )
                )
        for edge in answer["edges"]:
            named = f"edge {edge['source']} -{edge['strength']}- {edge['target']}"
            if edge["source"] not in nodes or edge["target"] not in nodes:
                self.leaks.append(
                    Leak(self.viewer.name, endpoint, f"{named} to a campaign not shown")
                )
            for item in edge["shared"]:
                hidden = [
                    t
                    for t in self.world.tokens
                    if t.pattern and t.pattern.search(item.encode()) and not self.viewer.sees(t)
                ]
                for token in hidden:
                    self.leaks.append(
                        Leak(
                            self.viewer.name,
                            endpoint,
                            f"{named} rests on {token.kind} {token.text!r} "
                            f"(occurs in {self.world.places(token.occurrences)})",
                        )
                    )


def probe(app: App, world: Built, budget: Budget = FULL) -> list[Leak]:
    """Every leak, for every caller of the world."""
    leaks: list[Leak] = []
    for viewer in world.viewers:
        leaks += Prober(app, world, viewer, budget).run()
    return leaks


def report(world: Built, leaks: list[Leak], limit: int = 40) -> str:
    """The failure message: the world, what leaked where in short, then each leak."""
    kinds: dict[tuple[str, str], int] = {}
    for leak in leaks:
        endpoint = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", leak.endpoint.split("?")[0])
        endpoint = re.sub(r", the answer for .*", "", endpoint)
        key = (endpoint, leak.what.split(" '")[0])
        kinds[key] = kinds.get(key, 0) + 1
    lines = [f"{len(leaks)} leak(s) in this world:", world.describe(), "what leaked, where:"]
    lines += [f"  {n:3d} x {what} <- {endpoint}" for (endpoint, what), n in sorted(kinds.items())]
    lines.append("the leaks:")
    lines += [f"  {leak}" for leak in leaks[:limit]]
    if len(leaks) > limit:
        lines.append(f"  ... and {len(leaks) - limit} more")
    return "\n".join(lines)
