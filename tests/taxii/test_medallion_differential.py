"""steppe against medallion, the OASIS TAXII 2.1 reference server, on the same objects.

The same ~250 STIX 2.1 object versions (markings, an identity, a campaign in
four versions, indicators in up to three versions, malware, SCOs,
relationships, sightings, a report) are posted in the same order to medallion
(its Flask app in process, memory backend) and to steppe (in process, the
embedded shape), one object per POST on medallion so that each version gets
its own date_added. Then the same TAXII queries go to both, and the answers must hold
the same objects in the same order.

Normalised, because the servers cannot agree on them:
* paging: each side is followed to its end (medallion: the filters, limit and
  next again, as it requires; steppe: next and limit alone), and the
  concatenated results are compared;
* date_added: each server sets its own; the comparison is of order and
  content. An added_after is the date_added that server gave the same object;
* the version of an object without created/modified (an SCO) is its
  date_added on both servers: compared as "the date_added".

Where medallion departs from the specification, the test says so, follows
the specification, and asserts steppe's behaviour explicitly.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from medallion import application_instance, register_blueprints, set_config
from medallion.backends.memory_backend import MemoryBackend

from steppe.stix import tlp
from steppe.stix.ids import value_sco_id
from steppe.stix.timestamps import format_stix, parse_micros
from support.app import App, open_app

TAXII = "application/taxii+json;version=2.1"
DAY = parse_micros("2009-01-18T00:00:00Z")
HOUR = 3_600_000_000
ROOT = "trustgroup1"  # medallion's API root path segment
USER, PASSWORD = "cert-kg", "medallion-test-password"
BATCH = 25  # objects per POST to steppe (medallion gets one per POST)
LIMITS = (None, 13)  # one page (no limit), and many pages of 13
OBJECT_LIMITS = (None, 2)  # the versions of one object: one page, and pages of 2


# ---------------------------------------------------------------------------
# The objects: a realistic January 2009 corpus, several versions of some ids
# ---------------------------------------------------------------------------


def _id(stix_type: str, rng: random.Random) -> str:
    return f"{stix_type}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def _stamp(micros: int) -> str:
    return format_stix(micros)


@dataclass
class Corpus:
    """Every version, in the order both servers receive them."""

    versions: list[dict[str, Any]]
    campaign: str
    three_versions: str  # an indicator with three versions, received in order
    out_of_order: str  # an indicator whose second version arrives after its third
    sco: str


def build_corpus(seed: int = 2009) -> Corpus:
    rng = random.Random(seed)
    cert_kg = _id("identity", rng)
    campaign_id = _id("campaign", rng)
    intrusion_set = _id("intrusion-set", rng)
    greens, ambers = tlp.GREEN.marking_id, tlp.AMBER.marking_id
    lineages: list[list[dict[str, Any]]] = []  # each id's versions, oldest first

    def sdo(stix_type: str, oid: str, versions: int, **props: Any) -> list[dict[str, Any]]:
        base = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": oid,
            "created": _stamp(DAY),
            "created_by_ref": cert_kg,
        }
        return [
            {
                **base,
                "modified": _stamp(DAY + n * HOUR),
                **props,
                **({"confidence": 50 + 10 * n} if n else {}),
            }
            for n in range(versions)
        ]

    identity = sdo(
        "identity",
        cert_kg,
        2,
        name="CERT-KG",
        identity_class="organization",
        sectors=["telecommunications"],
    )
    for version in identity:
        del version["created_by_ref"]
    lineages.append(identity)
    lineages.append(
        sdo(
            "campaign",
            campaign_id,
            4,
            name="January 2009 DDoS against Kyrgyz ISPs",
            first_seen=_stamp(DAY),
            object_marking_refs=[greens],
        )
    )
    lineages.append(
        sdo(
            "intrusion-set",
            intrusion_set,
            1,
            name="Unattributed DDoS operators",
            object_marking_refs=[ambers],
        )
    )
    for technique, name in (("T1498", "Network Denial of Service"), ("T1583.005", "Botnet")):
        lineages.append(
            sdo(
                "attack-pattern",
                _id("attack-pattern", rng),
                1,
                name=name,
                external_references=[{"source_name": "mitre-attack", "external_id": technique}],
            )
        )
    malware_ids = []
    for n in range(10):
        oid = _id("malware", rng)
        malware_ids.append(oid)
        lineages.append(
            sdo(
                "malware",
                oid,
                2 if n % 3 == 0 else 1,
                name=f"BlackEnergy {n + 1}",
                malware_types=["bot", "ddos"],
                is_family=True,
                object_marking_refs=[greens if n % 2 else ambers],
            )
        )
    indicator_ids = []
    for n in range(100):
        oid = _id("indicator", rng)
        indicator_ids.append(oid)
        address = f"198.51.100.{n}" if n % 2 else f"203.0.113.{n}"
        pattern = (
            f"[ipv4-addr:value = '{address}']"
            if n % 5
            else f"[domain-name:value = 'c2-{n}.botnet.example.net']"
        )
        lineages.append(
            sdo(
                "indicator",
                oid,
                3 if n % 4 == 0 else 1,
                name=f"DDoS source {address}",
                indicator_types=["malicious-activity"],
                pattern=pattern,
                pattern_type="stix",
                valid_from=_stamp(DAY),
                **({"object_marking_refs": [greens if n % 3 else ambers]} if n % 7 else {}),
            )
        )
    sco_ids = []
    for n in range(25):
        address = f"198.51.100.{100 + n}"
        sco_ids.append(value_sco_id("ipv4-addr", address))
        lineages.append(
            [{"type": "ipv4-addr", "spec_version": "2.1", "id": sco_ids[-1], "value": address}]
        )
    for n in range(10):
        name = f"c2-{n}.botnet.example.net"
        lineages.append(
            [
                {
                    "type": "domain-name",
                    "spec_version": "2.1",
                    "id": value_sco_id("domain-name", name),
                    "value": name,
                }
            ]
        )
    for n in range(30):
        source = indicator_ids[n]
        lineages.append(
            sdo(
                "relationship",
                _id("relationship", rng),
                1,
                relationship_type="indicates",
                source_ref=source,
                target_ref=campaign_id if n % 2 else malware_ids[n % 10],
            )
        )
    for n in range(3):
        lineages.append(
            sdo(
                "sighting",
                _id("sighting", rng),
                1,
                sighting_of_ref=indicator_ids[n],
                where_sighted_refs=[cert_kg],
                count=40 + n,
            )
        )
    lineages.append(
        sdo(
            "report",
            _id("report", rng),
            2,
            name="DDoS against Kyrgyz ISPs, January 2009",
            published=_stamp(DAY + 20 * HOUR),
            report_types=["campaign"],
            object_refs=[campaign_id, intrusion_set, *indicator_ids[:5]],
        )
    )
    out_of_order = indicator_ids[4]  # three versions (4 % 4 == 0)

    # Arrival: each version gets a random moment; an id's versions take its
    # moments in order (a later version never arrives first), except for the
    # out-of-order indicator, whose second version comes last of all.
    events: list[tuple[float, dict[str, Any]]] = []
    for lineage in lineages:
        moments = sorted(rng.random() for _ in lineage)
        if lineage[0]["id"] == out_of_order:
            moments = [moments[0], 2.0, moments[1]]
        events += list(zip(moments, lineage, strict=True))
    events.sort(key=lambda event: event[0])
    markings = [tlp.GREEN.marking_definition(), tlp.AMBER.marking_definition()]
    versions = markings + [obj for _, obj in events]
    return Corpus(
        versions=versions,
        campaign=campaign_id,
        three_versions=indicator_ids[8],
        out_of_order=out_of_order,
        sco=sco_ids[0],
    )


CORPUS = build_corpus()


# ---------------------------------------------------------------------------
# The two servers, behind one interface
# ---------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    pages: list[dict[str, Any]]
    headers: list[dict[str, str]]

    def items(self, key: str) -> list[Any]:
        return [item for page in self.pages for item in page.get(key, [])]


class Server:
    name: str
    collection: str

    def get(self, path: str, params: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError

    def follow(self, path: str, params: Mapping[str, str], limit: int | None) -> Answer:
        raise NotImplementedError

    def collection_path(self, rest: str) -> str:
        raise NotImplementedError


class Medallion(Server):
    """medallion 3 in process: its Flask app over the memory backend."""

    name = "medallion"

    def __init__(self) -> None:
        set_config(application_instance, "users", {"users": {USER: PASSWORD}})
        set_config(application_instance, "taxii", {"taxii": {"max_page_size": 1000}})
        self.collection = str(uuid.uuid4())
        backend = MemoryBackend()
        backend.data = {
            "/discovery": {
                "title": "medallion",
                "api_roots": [f"http://localhost/{ROOT}/"],
                "default": f"http://localhost/{ROOT}/",
            },
            ROOT: {
                "information": {
                    "title": "CERT-KG sharing",
                    "versions": [TAXII],
                    "max_content_length": 10_000_000,
                },
                "status": [],
                "collections": [
                    {
                        "id": self.collection,
                        "title": "Kyrgyzstan DDoS 2009",
                        "can_read": True,
                        "can_write": True,
                        "media_types": ["application/stix+json;version=2.1"],
                        "objects": [],
                        "manifest": [],
                    }
                ],
            },
        }
        application_instance.medallion_backend = backend
        if "objects" not in application_instance.blueprints:  # once per process
            register_blueprints(application_instance)
        self.client = application_instance.test_client()
        credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {credentials}", "Accept": TAXII}

    def collection_path(self, rest: str) -> str:
        return f"/{ROOT}/collections/{self.collection}/{rest}"

    def load(self, versions: list[dict[str, Any]]) -> None:
        for obj in versions:
            reply = self.client.post(
                self.collection_path("objects/"),
                data=json.dumps({"objects": [obj]}),
                headers={**self.headers, "Content-Type": TAXII},
            )
            assert reply.status_code == 202 and reply.json["success_count"] == 1, reply.data

    def get(self, path: str, params: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
        query = f"?{urlencode(params)}" if params else ""
        reply = self.client.get(path + query, headers=self.headers)
        return reply.status_code, dict(reply.headers), reply.json

    def follow(self, path: str, params: Mapping[str, str], limit: int | None) -> Answer:
        # medallion keeps paging state in memory and wants the request's filters
        # and limit again with next (it fails with a 500 when limit is left out).
        first = [*params.items(), *([("limit", str(limit))] if limit else [])]
        status, headers, body = self.get(path, first)
        answer = Answer(status, [body] if status == 200 else [], [headers])
        while status == 200 and body.get("more"):
            status, headers, body = self.get(path, [*first, ("next", body["next"])])
            assert status == 200, body
            answer.pages.append(body)
            answer.headers.append(headers)
        return answer


class Steppe(Server):
    """steppe in process (tests/support/app.py): gateway, authorizer, TaxiiFunction."""

    name = "steppe"

    def __init__(self, app: App) -> None:
        self.app = app
        reply = app.request(
            "POST", "/api/v1/admin/collections", json_body={"title": "Kyrgyzstan DDoS 2009"}
        )
        assert reply.status == 201, reply.body
        self.collection = reply.json()["id"]

    def collection_path(self, rest: str) -> str:
        return f"/taxii2/{self.app.settings.api_root}/collections/{self.collection}/{rest}"

    def load(self, versions: list[dict[str, Any]]) -> None:
        for start in range(0, len(versions), BATCH):
            batch = versions[start : start + BATCH]
            reply = self.app.request(
                "POST",
                self.collection_path("objects/"),
                body=json.dumps({"objects": batch}),
                headers={"Accept": TAXII},
                content_type=TAXII,
            )
            assert reply.status == 202, reply.body
            assert reply.json()["success_count"] == len(batch), reply.body

    def get(self, path: str, params: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
        reply = self.app.request("GET", path, query=params, headers={"Accept": TAXII})
        assert reply.header("Content-Type") == TAXII
        return reply.status, reply.headers, reply.json()

    def follow(self, path: str, params: Mapping[str, str], limit: int | None) -> Answer:
        # As Elastic does: the filters once, then next and limit alone.
        status, headers, body = self.get(
            path, [*params.items(), *([("limit", str(limit))] if limit else [])]
        )
        answer = Answer(status, [body] if status == 200 else [], [headers])
        while status == 200 and body.get("more"):
            assert body["next"], "more: true without a next"
            status, headers, body = self.get(
                path, [("next", body["next"]), *([("limit", str(limit))] if limit else [])]
            )
            assert status == 200, body
            answer.pages.append(body)
            answer.headers.append(headers)
        return answer


@pytest.fixture(scope="module")
def medallion() -> Medallion:
    server = Medallion()
    server.load(CORPUS.versions)
    return server


@pytest.fixture(scope="module")
def steppe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Steppe]:
    # The embedded shape only: both adapters answer every query alike (the
    # contract suite), and moto reads a whole partition for every Query, which
    # makes these ~250-version listings cost it minutes.
    app = open_app(tmp_path_factory.mktemp("differential") / "data", "sqlite")
    try:
        server = Steppe(app)
        server.load(CORPUS.versions)
        yield server
    finally:
        app.close()


_medallion_answers: dict[tuple[str, tuple[tuple[str, str], ...], int | None], Answer] = {}


def medallion_answer(
    medallion: Medallion, rest: str, params: Mapping[str, str], limit: int | None
) -> Answer:
    """medallion's answers do not depend on the steppe shape: asked once per query."""
    key = (rest, tuple(sorted(params.items())), limit)
    if key not in _medallion_answers:
        _medallion_answers[key] = medallion.follow(medallion.collection_path(rest), params, limit)
    return _medallion_answers[key]


# ---------------------------------------------------------------------------
# Normalising
# ---------------------------------------------------------------------------


def manifest_record(record: Mapping[str, Any]) -> tuple[str, object, str]:
    """(id, version, media_type); a version equal to the date_added (SCOs) is 'date_added'."""
    version = parse_micros(record["version"])
    same = version == parse_micros(record["date_added"])
    return record["id"], "date_added" if same else version, record["media_type"]


def versions_of(server: Server, object_id: str, answer: Answer) -> list[object]:
    """A versions resource's versions; one equal to its date_added (an SCO's) is 'date_added'."""
    manifest = server.follow(
        server.collection_path("manifest/"), {"match[id]": object_id, "match[version]": "all"}, None
    )
    added = {parse_micros(r["date_added"]) for r in manifest.items("objects")}
    return [
        "date_added" if parse_micros(v) in added else parse_micros(v)
        for v in answer.items("versions")
    ]


def date_added_of(server: Server, object_id: str, version: int | None = None) -> str:
    """The date_added this server gave a version (the latest if none is named)."""
    answer = server.follow(
        server.collection_path("manifest/"),
        {"match[id]": object_id, "match[version]": "all"},
        None,
    )
    records = answer.items("objects")
    if version is not None:
        records = [r for r in records if parse_micros(r["version"]) == version]
    return records[-1]["date_added"]


def check_date_added_order(server: Server, answer: Answer, key: str = "objects") -> None:
    """Pages follow each other in date_added order, and the headers say where each lies."""
    stamps = []
    for page, headers in zip(answer.pages, answer.headers, strict=True):
        if page.get(key):
            stamps.append(parse_micros(headers["X-TAXII-Date-Added-First"]))
            stamps.append(parse_micros(headers["X-TAXII-Date-Added-Last"]))
    assert stamps == sorted(stamps), f"{server.name}: pages out of date_added order"


# ---------------------------------------------------------------------------
# The queries
# ---------------------------------------------------------------------------

EXACT = format_stix(DAY + HOUR)
LISTINGS: dict[str, dict[str, str]] = {
    "latest versions (default)": {},
    "all versions": {"match[version]": "all"},
    "first versions": {"match[version]": "first"},
    "first and last": {"match[version]": "first,last"},
    "one exact version": {"match[version]": EXACT},
    "first and an exact version": {"match[version]": f"first,{format_stix(DAY + 2 * HOUR)}"},
    "two types": {"match[type]": "indicator,malware"},
    "campaign, all versions": {"match[type]": "campaign", "match[version]": "all"},
    "three ids, all versions": {
        "match[id]": f"{CORPUS.campaign},{CORPUS.three_versions},{CORPUS.sco}",
        "match[version]": "all",
    },
    "spec version 2.1": {"match[spec_version]": "2.1"},
    "type, id and version together": {
        "match[type]": "indicator",
        "match[id]": f"{CORPUS.three_versions},{CORPUS.out_of_order},{CORPUS.campaign}",
        "match[version]": "first,last",
    },
}


@pytest.mark.parametrize("query", LISTINGS)
def test_objects_are_the_same_in_the_same_order(medallion, steppe, query):
    params = LISTINGS[query]
    for limit in LIMITS:
        theirs = medallion_answer(medallion, "objects/", params, limit)
        ours = steppe.follow(steppe.collection_path("objects/"), params, limit)
        assert theirs.status == ours.status == 200
        assert theirs.items("objects"), "the query selects nothing: it compares nothing"
        assert ours.items("objects") == theirs.items("objects"), limit
        check_date_added_order(steppe, ours)


@pytest.mark.parametrize(
    "query",
    [
        "latest versions (default)",
        "all versions",
        "first versions",
        "two types",
        "three ids, all versions",
    ],
)
def test_manifests_describe_the_same_versions_in_the_same_order(medallion, steppe, query):
    params = LISTINGS[query]
    for limit in LIMITS:
        theirs = medallion_answer(medallion, "manifest/", params, limit)
        ours = steppe.follow(steppe.collection_path("manifest/"), params, limit)
        assert theirs.status == ours.status == 200
        records = ours.items("objects")
        assert [manifest_record(r) for r in records] == [
            manifest_record(r) for r in theirs.items("objects")
        ], limit
        stamps = [parse_micros(r["date_added"]) for r in records]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        check_date_added_order(steppe, ours)


def test_both_servers_received_every_version_in_the_same_order(medallion, steppe):
    theirs = medallion_answer(medallion, "manifest/", {"match[version]": "all"}, None)
    ours = steppe.follow(steppe.collection_path("manifest/"), {"match[version]": "all"}, None)
    loaded = [(obj["id"], obj.get("modified", obj.get("created"))) for obj in CORPUS.versions]
    for answer in (theirs, ours):
        received = [(r["id"], r["version"]) for r in answer.items("objects")]
        assert [i for i, _ in received] == [i for i, _ in loaded]
        assert [
            parse_micros(v) for (_, v), (_, sent) in zip(received, loaded, strict=True) if sent
        ] == [parse_micros(sent) for _, sent in loaded if sent]


PIVOT = 150  # added_after = the date_added of the 150th version received, on each server


def added_after_pivot(server: Server) -> str:
    pivot = CORPUS.versions[PIVOT]
    return date_added_of(server, pivot["id"], _version(pivot))


def _version(obj: Mapping[str, Any]) -> int | None:
    stamp = obj.get("modified", obj.get("created"))
    return None if stamp is None else parse_micros(stamp)


def selected_after_pivot(keyword: str, *, among_all_versions: bool) -> list[dict[str, Any]]:
    """What match[version]=first|last with added_after = the pivot selects, in arrival order.

    among_all_versions: the specification's reading (the first or last version
    of the object, kept when it was added after the pivot); otherwise
    medallion's (the first or last of the versions added after the pivot).
    """
    arrived = list(enumerate(CORPUS.versions))
    chosen: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, obj in arrived if among_all_versions else arrived[PIVOT + 1 :]:
        held = chosen.get(obj["id"])
        if held is None:
            chosen[obj["id"]] = (index, obj)
            continue
        version, held_version = _version(obj) or 0, _version(held[1]) or 0
        if version < held_version if keyword == "first" else version > held_version:
            chosen[obj["id"]] = (index, obj)
    return [obj for index, obj in sorted(chosen.values(), key=lambda c: c[0]) if index > PIVOT]


@pytest.mark.parametrize("rest", ["objects/", "manifest/"])
@pytest.mark.parametrize(
    "params",
    [{"match[version]": "all"}, {"match[type]": "indicator,relationship", "match[version]": "all"}],
    ids=["all versions", "two types"],
)
def test_added_after_selects_the_same_versions(medallion, steppe, rest, params):
    theirs_after = {**params, "added_after": added_after_pivot(medallion)}
    ours_after = {**params, "added_after": added_after_pivot(steppe)}
    for limit in LIMITS:
        theirs = medallion_answer(medallion, rest, theirs_after, limit)
        ours = steppe.follow(steppe.collection_path(rest), ours_after, limit)
        assert ours.items("objects")
        if rest == "objects/":
            assert ours.items("objects") == theirs.items("objects"), limit
        else:
            assert [manifest_record(r) for r in ours.items("objects")] == [
                manifest_record(r) for r in theirs.items("objects")
            ], limit
        check_date_added_order(steppe, ours)


@pytest.mark.parametrize("keyword", ["first", "last"])
def test_added_after_with_first_or_last_follows_the_spec_not_medallion(medallion, steppe, keyword):
    """match[version]=first|last judged among all versions, then ANDed with added_after.

    TAXII 2.1 section 3.4.1: first and last select "the earliest" and "the
    latest version of an object"; section 3.4: the filters of a request are
    ANDed. So a version added after added_after is returned only if it is the
    object's first (or last) version. medallion applies match[version] to
    what added_after left: for an object with versions on both sides of
    added_after it returns the earliest (or latest) of the later ones, which
    is not the object's first (or last) version. Here that is every object
    whose versions straddle the pivot for first, and the out-of-order
    indicator (versions 1 and 3 before the pivot, version 2 last of all) for last.
    """
    params = {"match[version]": keyword}
    theirs = medallion_answer(
        medallion, "objects/", {**params, "added_after": added_after_pivot(medallion)}, None
    )
    ours = steppe.follow(
        steppe.collection_path("objects/"),
        {**params, "added_after": added_after_pivot(steppe)},
        None,
    )
    by_spec = selected_after_pivot(keyword, among_all_versions=True)
    by_medallion = selected_after_pivot(keyword, among_all_versions=False)
    assert by_spec != by_medallion, "the corpus must exercise the difference"
    assert ours.items("objects") == by_spec
    assert theirs.items("objects") == by_medallion
    if keyword == "last":
        stale = [o for o in by_medallion if o["id"] == CORPUS.out_of_order]
        assert [o["modified"] for o in stale] == [format_stix(DAY + HOUR)]
        assert CORPUS.out_of_order not in {o["id"] for o in ours.items("objects")}
        # Without added_after both agree that version 3 is the latest.
        one = steppe.follow(steppe.collection_path(f"objects/{CORPUS.out_of_order}/"), {}, None)
        assert [o["modified"] for o in one.items("objects")] == [format_stix(DAY + 2 * HOUR)]


@pytest.mark.parametrize("limit", OBJECT_LIMITS)
@pytest.mark.parametrize(
    "params",
    [{}, {"match[version]": "all"}, {"match[version]": "first"}, {"match[version]": EXACT}],
    ids=["latest", "all", "first", "exact"],
)
@pytest.mark.parametrize("which", ["campaign", "three_versions", "out_of_order", "sco"])
def test_an_object_by_id_is_the_same(medallion, steppe, which, params, limit):
    object_id = getattr(CORPUS, which)
    rest = f"objects/{object_id}/"
    theirs = medallion_answer(medallion, rest, params, limit)
    ours = steppe.follow(steppe.collection_path(rest), params, limit)
    assert ours.status == theirs.status == 200
    assert ours.items("objects") == theirs.items("objects")
    if params.get("match[version]") == EXACT and which == "sco":
        assert ours.pages == theirs.pages == [{}]  # an SCO has no such version: {} on both


@pytest.mark.parametrize("limit", OBJECT_LIMITS)
@pytest.mark.parametrize("params", [{}, {"match[spec_version]": "2.1"}], ids=["plain", "spec"])
@pytest.mark.parametrize("which", ["campaign", "three_versions", "out_of_order", "sco"])
def test_versions_are_the_same(medallion, steppe, which, params, limit):
    """The same versions. Their order differs, and steppe follows the specification.

    TAXII 2.1 section 3.3 sorts what every paged resource lists by date_added,
    ascending, and the versions resource (section 5.8) pages like the others.
    medallion sorts each page of versions by version, newest first. steppe
    lists them in the order they were added: asserted against its manifest.
    """
    object_id = getattr(CORPUS, which)
    rest = f"objects/{object_id}/versions/"
    theirs = medallion_answer(medallion, rest, params, limit)
    ours = steppe.follow(steppe.collection_path(rest), params, limit)
    assert ours.status == theirs.status == 200
    listed = [parse_micros(v) for v in ours.items("versions")]
    assert sorted(versions_of(steppe, object_id, ours)) == sorted(
        versions_of(medallion, object_id, theirs)
    )
    manifest = steppe.follow(
        steppe.collection_path("manifest/"), {"match[id]": object_id, "match[version]": "all"}, None
    )
    assert listed == [parse_micros(r["version"]) for r in manifest.items("objects")]
    if which == "out_of_order":
        assert listed == [DAY, DAY + 2 * HOUR, DAY + HOUR]  # as received, not as versioned
    check_date_added_order(steppe, ours, "versions")


def test_an_empty_result_is_an_empty_resource_on_both(medallion, steppe):
    last = CORPUS.versions[-1]
    after_everything = {"added_after": date_added_of(medallion, last["id"])}
    theirs = medallion_answer(medallion, "objects/", after_everything, None)
    ours = steppe.follow(
        steppe.collection_path("objects/"), {"added_after": date_added_of(steppe, last["id"])}, None
    )
    assert theirs.pages == ours.pages == [{}]


def test_an_unknown_object_is_404_on_both(medallion, steppe):
    missing = f"indicator--{uuid.uuid4()}"
    for rest in (f"objects/{missing}/", f"objects/{missing}/versions/"):
        assert medallion_answer(medallion, rest, {}, None).status == 404
        assert steppe.follow(steppe.collection_path(rest), {}, None).status == 404
