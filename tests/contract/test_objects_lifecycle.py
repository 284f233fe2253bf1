"""The object lifecycle: valid_until and revoked per version, ObjectQuery.active_at, active_only.

The reads judge at AT, thirty days after the January 2009 attacks: an
indicator whose valid_until is at or before AT has expired, one whose
valid_until lies after AT is still active, one without valid_until never
expires. The versions are built as writers build them (the lifecycle read
from the body by steppe.stix.validity).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import replace

import orjson
import pytest

from steppe.stix import tlp
from steppe.stix.timestamps import format_stix
from steppe.stix.validity import lifecycle_of
from steppe.store.port import (
    ALL_VERSIONS,
    FIRST,
    LAST,
    Collection,
    ObjectQuery,
    ObjectVersion,
    VersionFilter,
)

from .adapters import aws_store
from .stix import DAY, campaign, indicator, ipv4, new_id

HOUR = 3_600_000_000
AT = DAY + 30 * 24 * HOUR
V1, V2, V3 = DAY + HOUR, DAY + 2 * HOUR, DAY + 3 * HOUR


def lived(
    oid: str | None = None,
    *,
    modified: int = V1,
    valid_until: int | None = None,
    revoked: bool = False,
    level: tlp.TlpLevel = tlp.GREEN,
    address: str = "85.255.112.7",
) -> ObjectVersion:
    """An indicator version with this lifecycle in its body, and read from it."""
    base = indicator(oid, modified=modified, created=V1, level=level, address=address)
    body = orjson.loads(base.body)
    if valid_until is not None:
        body["valid_until"] = format_stix(valid_until)
    if revoked:
        body["revoked"] = True
    until, is_revoked = lifecycle_of(body)
    return base._replace(body=orjson.dumps(body), valid_until=until, revoked=is_revoked)


def revoked_campaign(modified: int) -> ObjectVersion:
    version = campaign(modified)
    body = orjson.loads(version.body) | {"revoked": True}
    return version._replace(body=orjson.dumps(body), revoked=True)


def listed(store, collection, **query) -> set[tuple[str, int]]:
    page = store.list_objects(collection, ObjectQuery(limit=1_000, **query))
    assert not page.more
    dates = [r.date_added for r in page.records]
    assert dates == sorted(dates), "records come in date_added order"
    return {(r.id, r.version) for r in page.records}


def keys(*versions: ObjectVersion) -> set[tuple[str, int]]:
    return {(v.id, v.version) for v in versions}


@pytest.fixture
def shelf(store, collection):
    """Indicators at every point of their lifecycle, a revoked campaign and an SCO.

    lasting: valid until after AT; expired: valid until before AT; at_the_edge:
    valid until exactly AT; timeless: no valid_until; revoked: active, then
    revoked (two versions); renewed: expired, then valid until after AT;
    withdrawn: valid until after AT, then cut short to before AT.
    """
    renewed, withdrawn, revoked_id = new_id("indicator"), new_id("indicator"), new_id("indicator")
    versions = {
        "lasting": [lived(valid_until=AT + HOUR, address="85.255.112.1")],
        "expired": [lived(valid_until=AT - HOUR, address="85.255.112.2")],
        "at_the_edge": [lived(valid_until=AT, address="85.255.112.3")],
        "timeless": [lived(address="85.255.112.4")],
        "revoked": [
            lived(revoked_id, valid_until=AT + HOUR, address="85.255.112.5"),
            lived(
                revoked_id, modified=V2, valid_until=AT + HOUR, revoked=True, address="85.255.112.5"
            ),
        ],
        "renewed": [
            lived(renewed, valid_until=AT - HOUR, address="85.255.112.6"),
            lived(renewed, modified=V2, valid_until=AT + 24 * HOUR, address="85.255.112.6"),
        ],
        "withdrawn": [
            lived(withdrawn, valid_until=AT + HOUR, address="85.255.112.7"),
            lived(withdrawn, modified=V2, valid_until=AT - HOUR, address="85.255.112.7"),
        ],
        "campaign": [campaign(V1), revoked_campaign(V2)],
        "sco": [ipv4("85.255.112.8")],
    }
    # One call per version group, so that first/last change across calls too.
    for group in versions.values():
        for version in group:
            store.put_objects(collection, [version])
    [sco] = store.list_objects(
        collection, ObjectQuery(ids=frozenset({versions["sco"][0].id}))
    ).records
    versions["sco"] = [versions["sco"][0]._replace(version=sco.version)]
    return versions


def test_without_active_at_every_version_is_served(store, collection, shelf):
    everything = keys(*(v for group in shelf.values() for v in group))
    assert listed(store, collection, versions=ALL_VERSIONS) == everything
    assert listed(store, collection) == keys(*(group[-1] for group in shelf.values()))


def test_revoked_and_expired_last_versions_are_not_served(store, collection, shelf):
    """With LAST (the default), an object whose last version is revoked or expired is not served."""
    served = listed(store, collection, active_at=AT)
    assert served == keys(
        shelf["lasting"][0], shelf["timeless"][0], shelf["renewed"][1], shelf["sco"][0]
    )
    assert listed(store, collection, versions=LAST, active_at=AT) == served
    # Before the first indicator expired, only the revocations are left out.
    early = listed(store, collection, active_at=AT - 2 * HOUR)
    assert early == served | keys(
        shelf["expired"][0], shelf["at_the_edge"][0], shelf["withdrawn"][1]
    )
    # Long after, only what never expires.
    late = listed(store, collection, active_at=AT + 48 * HOUR)
    assert late == keys(shelf["timeless"][0], shelf["sco"][0])


def test_the_filter_is_judged_on_the_versions_the_query_selects(store, collection, shelf):
    revoked, renewed, withdrawn = shelf["revoked"], shelf["renewed"], shelf["withdrawn"]
    every = listed(store, collection, versions=ALL_VERSIONS, active_at=AT)
    assert every == keys(
        shelf["lasting"][0],
        shelf["timeless"][0],
        revoked[0],
        renewed[1],
        withdrawn[0],
        shelf["campaign"][0],
        shelf["sco"][0],
    )
    first = listed(store, collection, versions=FIRST, active_at=AT)
    assert first == keys(
        shelf["lasting"][0],
        shelf["timeless"][0],
        revoked[0],
        withdrawn[0],
        shelf["campaign"][0],
        shelf["sco"][0],
    )
    exact = VersionFilter(exact=frozenset({V2}))
    assert listed(store, collection, versions=exact, active_at=AT) == keys(renewed[1])


def test_the_filter_applies_on_every_read_path(store, collection, shelf):
    """By ids (the objects' own versions), by few types (one walk per type) and by many."""
    ids = frozenset(group[0].id for group in shelf.values())
    served = listed(store, collection, active_at=AT)
    assert listed(store, collection, ids=ids, active_at=AT) == served
    one = frozenset({shelf["revoked"][0].id})
    assert listed(store, collection, ids=one, active_at=AT) == set()
    assert listed(store, collection, ids=one, versions=ALL_VERSIONS, active_at=AT) == keys(
        shelf["revoked"][0]
    )
    indicators = {k for k in served if k[0].startswith("indicator--")}
    assert listed(store, collection, types=frozenset({"indicator"}), active_at=AT) == indicators
    few = frozenset({"indicator", "campaign", "ipv4-addr"})
    assert listed(store, collection, types=few, active_at=AT) == served
    many = frozenset({*few, *(f"x-kind-{n}" for n in range(20))})
    assert listed(store, collection, types=many, active_at=AT) == served


def test_the_filter_combines_with_the_tlp_filter(store, collection):
    red = lived(valid_until=AT + HOUR, level=tlp.RED, address="85.255.112.10")
    green = lived(valid_until=AT + HOUR, address="85.255.112.11")
    old_green = lived(valid_until=AT - HOUR, address="85.255.112.12")
    store.put_objects(collection, [red, green, old_green])
    assert listed(store, collection, max_tlp=tlp.AMBER.rank, active_at=AT) == keys(green)
    assert listed(store, collection, max_tlp=tlp.RED.rank, active_at=AT) == keys(red, green)


def test_manifests_filter_the_same_way(store, collection, shelf):
    page = store.list_objects(collection, ObjectQuery(with_body=False, active_at=AT))
    assert {(r.id, r.version) for r in page.records} == listed(store, collection, active_at=AT)
    assert all(r.body is None for r in page.records)


def test_deleting_a_revocation_serves_the_version_before_it(store, collection, shelf):
    """First/last move with deletes, and the lifecycle of the versions that remain goes along."""
    revoked, renewed = shelf["revoked"], shelf["renewed"]
    assert store.delete_object(collection, revoked[0].id, VersionFilter(last=True)) == 1
    assert store.delete_object(collection, renewed[0].id, VersionFilter(last=True)) == 1
    served = listed(store, collection, active_at=AT)
    assert keys(revoked[0]) <= served
    assert not keys(*renewed) & served
    assert not listed(store, collection, ids=frozenset({renewed[0].id}), active_at=AT)


def test_writing_a_version_again_keeps_its_lifecycle(store, collection):
    """A duplicate (id, version) is a no-op, whatever lifecycle the new copy claims."""
    original = lived(valid_until=AT - HOUR, address="85.255.112.13")
    store.put_objects(collection, [original])
    [again] = store.put_objects(collection, [original._replace(valid_until=None)])
    assert again.outcome == "duplicate"
    assert listed(store, collection, active_at=AT) == set()


# -- paging across filtered rows ------------------------------------------------

TOTAL = 90


@pytest.fixture
def stream(store, collection):
    """TOTAL versions in a few calls; two of every three are expired or revoked."""
    written = []
    for call in range(3):
        batch = []
        for n in range(TOTAL // 3):
            k = call * (TOTAL // 3) + n
            address = f"10.{call}.0.{n}"
            if k % 3 == 0:
                batch.append(lived(valid_until=AT + HOUR, address=address))
            elif k % 3 == 1:
                batch.append(lived(valid_until=AT - HOUR, address=address))
            else:
                batch.append(lived(revoked=True, address=address))
        outcomes = store.put_objects(collection, batch)
        written.extend(zip(batch, outcomes, strict=True))
    return [(v, out) for v, out in written if v.valid_until == AT + HOUR]


@pytest.mark.parametrize("resume", ["after", "added_after"])
@pytest.mark.parametrize("with_body", [True, False])
def test_paging_sees_every_active_version_once_and_no_other(
    store, collection, stream, resume, with_body
):
    common = {"limit": 4, "active_at": AT, "with_body": with_body}
    records, pages = [], 0
    page = store.list_objects(collection, ObjectQuery(**common))
    while True:
        pages += 1
        records.extend(page.records)
        if not page.more:
            break
        assert page.records, "a page with more=True is never empty"
        assert page.last_position >= page.records[-1].date_added
        mark = (
            {"after": page.last_position}
            if resume == "after"
            else {"added_after": page.records[-1].date_added}
        )
        page = store.list_objects(collection, ObjectQuery(**common, **mark))
        assert pages < 1_000
    assert [(r.id, r.date_added) for r in records] == [(v.id, out.date_added) for v, out in stream]
    assert pages == -(-len(stream) // 4)


def test_more_is_exact_across_filtered_rows(store, collection, stream):
    active = len(stream)
    whole = store.list_objects(collection, ObjectQuery(limit=active, active_at=AT))
    assert (len(whole.records), whole.more) == (active, False)
    short = store.list_objects(collection, ObjectQuery(limit=active - 1, active_at=AT))
    assert (len(short.records), short.more) == (active - 1, True)
    rest = store.list_objects(
        collection, ObjectQuery(limit=active, active_at=AT, after=short.last_position)
    )
    assert [(r.id, r.date_added) for r in rest.records] == [
        (stream[-1][0].id, stream[-1][1].date_added)
    ]
    assert rest.more is False


def test_a_page_of_only_inactive_rows_still_moves_the_position(store, collection):
    store.put_objects(
        collection,
        [lived(valid_until=AT - HOUR, address=f"10.9.0.{n}") for n in range(6)]
        + [lived(revoked=True, address=f"10.9.1.{n}") for n in range(6)],
    )
    page = store.list_objects(collection, ObjectQuery(active_at=AT))
    assert (page.records, page.more) == ([], False)
    assert page.last_position is not None
    fresh = lived(valid_until=AT + HOUR, address="10.9.2.1")
    [written] = store.put_objects(collection, [fresh])
    resumed = store.list_objects(collection, ObjectQuery(active_at=AT, after=page.last_position))
    assert [r.date_added for r in resumed.records] == [written.date_added]


@pytest.mark.parametrize(
    "args",
    [
        {"limit": 4},
        {"limit": 1},
        {"limit": 1_000},
        {"limit": 9, "max_bytes": 2_000},
        {"limit": 9, "max_bytes": 1},
        {"limit": 5, "types": frozenset({"indicator"})},
        {"limit": 5, "versions": ALL_VERSIONS},
    ],
)
def test_joined_pages_filter_like_plain_pages(store, collection, stream, args):
    common = {"active_at": AT, **args}
    plain = store.list_objects(collection, ObjectQuery(**common))
    page = store.list_objects(collection, ObjectQuery(**common, joined=True))
    joined = page.joined
    assert joined.bodies == b",".join(r.body for r in plain.records)
    assert joined.count == len(plain.records) > 0
    assert (joined.first_added, joined.last_added) == (
        plain.records[0].date_added,
        plain.records[-1].date_added,
    )
    assert (page.more, page.last_position) == (plain.more, plain.last_position)
    served = json.loads(b"[" + joined.bodies + b"]")
    assert all(not obj.get("revoked") and obj["valid_until"] > format_stix(AT) for obj in served)


def test_joined_pages_walk_the_active_versions(store, collection, stream):
    seen, after = [], None
    while True:
        page = store.list_objects(
            collection, ObjectQuery(limit=7, active_at=AT, joined=True, after=after)
        )
        seen.extend(obj["id"] for obj in json.loads(b"[" + page.joined.bodies + b"]"))
        if not page.more:
            break
        after = page.last_position
    assert seen == [v.id for v, _ in stream]


# -- collections that serve only active objects ------------------------------------


def test_active_only_is_kept_through_every_read_and_update(store):
    siem = Collection(
        id=str(uuid.uuid4()), api_root="steppe", title="SIEM feed", created=1, active_only=True
    )
    plain = Collection(id=str(uuid.uuid4()), api_root="steppe", title="Full feed", created=2)
    store.create_collection(siem)
    store.create_collection(plain)
    assert store.get_collection(siem.id) == siem
    assert store.get_collection(plain.id).active_only is False
    assert store.find_collection_by_title("steppe", "SIEM feed").active_only is True
    assert [(c.id, c.active_only) for c in store.list_collections("steppe")] == [
        (siem.id, True),
        (plain.id, False),
    ]
    store.update_collection(replace(siem, active_only=False))
    store.update_collection(replace(plain, active_only=True, title="Full feed, active"))
    assert store.get_collection(siem.id).active_only is False
    assert store.find_collection_by_title("steppe", "Full feed, active").active_only is True
    assert [(c.id, c.active_only) for c in store.list_collections("steppe")] == [
        (siem.id, False),
        (plain.id, True),
    ]


# -- data stored before the lifecycle existed ------------------------------------------


def test_an_embedded_file_from_before_the_lifecycle_serves_its_objects(tmp_path):
    """A schema-3 file migrates: rows never expire and are not revoked; collections serve all."""
    from steppe.store.sqlite import SqliteStore
    from steppe.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION

    collection_id = str(uuid.uuid4())
    conn = sqlite3.connect(tmp_path / "steppe.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for statement in (s for migration in MIGRATIONS[:3] for s in migration):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO collections (id, api_root, title, description, alias, media_types, "
        "created, is_default, unmarked_tlp) VALUES (?, 'steppe', 'DDoS', '', NULL, ?, 7, 0, 1)",
        (collection_id, '["application/stix+json;version=2.1"]'),
    )
    old = lived(valid_until=AT - HOUR)
    conn.execute("INSERT INTO object_collections (cid, collection) VALUES (1, ?)", (collection_id,))
    conn.execute(
        "INSERT INTO objects (date_added, cid, id_key, id, version, type, spec_version, tlp, "
        "is_first, is_last, unversioned, body) VALUES (?, 1, 5, ?, ?, 'indicator', '2.1', 1, "
        "1, 1, 0, ?)",
        (DAY, old.id, old.version, old.body),
    )
    conn.close()

    store = SqliteStore(tmp_path)
    try:
        assert store.database.connection().execute("PRAGMA user_version").fetchone()[0] == (
            SCHEMA_VERSION
        )
        assert store.get_collection(collection_id).active_only is False
        # Stored before its lifecycle was recorded: it counts as never expiring.
        assert listed(store, collection_id, active_at=AT) == keys(old)
        store.update_collection(replace(store.get_collection(collection_id), active_only=True))
        assert store.get_collection(collection_id).active_only is True
        fresh = lived(valid_until=AT - HOUR, address="85.255.112.99")
        store.put_objects(collection_id, [fresh])
        assert listed(store, collection_id, active_at=AT) == keys(old)
        assert listed(store, collection_id) == keys(old, fresh)
    finally:
        store.close()


def test_dynamodb_items_from_before_the_lifecycle_read_as_serving_everything(tmp_path):
    """Collection items written before issue 4 have no active_only: they serve every object."""
    from steppe.store.aws import table_keys as aws_keys

    with aws_store(tmp_path) as store:
        collection = Collection(str(uuid.uuid4()), "steppe", "SIEM feed", active_only=True)
        store.create_collection(collection)
        for pk, sk in (
            (aws_keys.coll(collection.id), aws_keys.COLLECTION_SK),
            (aws_keys.root_collections("steppe"), aws_keys.root_collection_sk(0, collection.id)),
        ):
            store.table.client.update_item(
                TableName=store.table.name,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression="REMOVE active_only",
                ConditionExpression="attribute_exists(active_only)",
            )
        assert store.get_collection(collection.id) == replace(collection, active_only=False)
        assert store.list_collections("steppe") == [replace(collection, active_only=False)]
        assert store.find_collection_by_title("steppe", "SIEM feed").active_only is False
