"""put_objects: outcomes, date_added, duplicates, unversioned objects, verbatim bodies."""

from __future__ import annotations

from steppe.stix import tlp
from steppe.stix.timestamps import now_micros
from steppe.store.port import ALL_VERSIONS, ObjectQuery, ObjectVersion, VersionFilter

from .conftest import new_collection
from .stix import campaign, indicator, ipv4, stamp


def everything(store, collection_id, **filters):
    return store.list_objects(
        collection_id, ObjectQuery(versions=ALL_VERSIONS, limit=10_000, **filters)
    ).records


def test_first_version_is_created_and_later_ones_updated(store, collection):
    v1 = indicator(modified=stamp(0))
    v2 = indicator(v1.id, modified=stamp(1_000), created=stamp(0))
    [first] = store.put_objects(collection, [v1])
    [second] = store.put_objects(collection, [v2])
    assert (first.id, first.version, first.outcome) == (v1.id, v1.version, "created")
    assert (second.id, second.version, second.outcome) == (v1.id, v2.version, "updated")
    assert store.count_objects(collection) == 2


def test_outcomes_follow_input_order_within_one_call(store, collection):
    a = indicator(modified=stamp(5))
    b = ipv4("85.255.112.7")
    a2 = indicator(a.id, modified=stamp(6), created=stamp(5))
    outcomes = store.put_objects(collection, [a, b, a2])
    assert [(o.id, o.outcome) for o in outcomes] == [
        (a.id, "created"),
        (b.id, "created"),
        (a.id, "updated"),
    ]


def test_date_added_is_set_by_the_store_distinct_and_increasing(store, collection):
    before = now_micros()
    batch = [indicator(modified=stamp(i)) for i in range(50)]
    first_call = store.put_objects(collection, batch)
    second_call = store.put_objects(collection, [indicator(modified=stamp(i)) for i in range(50)])
    first_added = [o.date_added for o in first_call]
    second_added = [o.date_added for o in second_call]
    assert all(isinstance(added, int) for added in first_added + second_added)
    assert len(set(first_added + second_added)) == 100
    assert min(first_added) >= before
    # A later call's versions all come after an earlier call's.
    assert min(second_added) > max(first_added)
    stored = everything(store, collection)
    assert [r.date_added for r in stored] == sorted(first_added + second_added)


def test_versions_keep_microsecond_precision(store, collection):
    oid = indicator().id
    versions = [stamp(1), stamp(2), stamp(3)]
    outcomes = store.put_objects(
        collection, [indicator(oid, modified=v, created=stamp(1)) for v in versions]
    )
    assert [o.version for o in outcomes] == versions
    assert [o.outcome for o in outcomes] == ["created", "updated", "updated"]
    exact = store.list_objects(
        collection, ObjectQuery(versions=VersionFilter(exact=frozenset({stamp(2)})))
    )
    assert [r.version for r in exact.records] == [stamp(2)]


def test_a_duplicate_is_a_no_op_reporting_the_stored_date_added(store, collection):
    original = indicator(modified=stamp(0))
    [created] = store.put_objects(collection, [original])
    # Same id and version, another body: still the same version, nothing changes.
    rewritten = ObjectVersion(
        original.id, "indicator", original.version, "2.1", tlp.RED.rank, b'{"changed": true}'
    )
    [again] = store.put_objects(collection, [rewritten])
    assert again.outcome == "duplicate"
    assert (again.version, again.date_added) == (created.version, created.date_added)
    [stored] = everything(store, collection)
    assert stored.body == original.body
    assert stored.tlp == tlp.GREEN.rank
    assert store.count_objects(collection) == 1


def test_a_version_repeated_within_one_call_is_stored_once(store, collection):
    v = indicator(modified=stamp(0))
    outcomes = store.put_objects(collection, [v, v, v])
    assert [o.outcome for o in outcomes] == ["created", "duplicate", "duplicate"]
    assert len({o.date_added for o in outcomes}) == 1
    assert store.count_objects(collection) == 1


def test_a_retried_batch_changes_nothing(store, collection):
    batch = [indicator(modified=stamp(i)) for i in range(20)] + [
        ipv4(f"10.0.0.{i}") for i in range(5)
    ]
    first = store.put_objects(collection, batch)
    before = everything(store, collection)
    retry = store.put_objects(collection, batch)
    assert all(o.outcome == "duplicate" for o in retry)
    assert [(o.version, o.date_added) for o in retry] == [(o.version, o.date_added) for o in first]
    assert everything(store, collection) == before


def test_unversioned_object_takes_its_first_date_added_as_version(store, collection):
    address = ipv4("212.42.224.1")
    [first] = store.put_objects(collection, [address])
    assert first.outcome == "created"
    assert first.version == first.date_added
    # Any later unversioned write of that id is a duplicate, whatever its body.
    changed = ObjectVersion(address.id, "ipv4-addr", None, "2.1", 0, b'{"other": 1}')
    [later] = store.put_objects(collection, [changed])
    assert later.outcome == "duplicate"
    assert (later.version, later.date_added) == (first.version, first.date_added)
    [stored] = everything(store, collection)
    assert (stored.version, stored.date_added, stored.body) == (
        first.version,
        first.date_added,
        address.body,
    )


def test_unversioned_object_repeated_within_one_call(store, collection):
    address = ipv4("212.42.224.2")
    outcomes = store.put_objects(collection, [address, address])
    assert [o.outcome for o in outcomes] == ["created", "duplicate"]
    assert outcomes[0].version == outcomes[1].version == outcomes[0].date_added
    assert store.count_objects(collection) == 1


def test_an_older_version_written_later_is_stored_and_becomes_first(store, collection):
    newest = campaign(stamp(3_000))
    middle = campaign(stamp(2_000))
    oldest = campaign(stamp(1_000))
    store.put_objects(collection, [newest])
    [m] = store.put_objects(collection, [middle])
    [o] = store.put_objects(collection, [oldest])
    assert (m.outcome, o.outcome) == ("updated", "updated")
    first = store.list_objects(collection, ObjectQuery(versions=VersionFilter(first=True)))
    last = store.list_objects(collection, ObjectQuery(versions=VersionFilter(last=True)))
    assert [r.version for r in first.records] == [stamp(1_000)]
    assert [r.version for r in last.records] == [stamp(3_000)]
    # Versions of one id in a single call, out of order.
    other = indicator(modified=stamp(50))
    store.put_objects(
        collection,
        [
            other,
            indicator(other.id, modified=stamp(10), created=stamp(10)),
            indicator(other.id, modified=stamp(30), created=stamp(10)),
        ],
    )
    ends = store.list_objects(
        collection,
        ObjectQuery(ids=frozenset({other.id}), versions=VersionFilter(first=True, last=True)),
    )
    assert sorted(r.version for r in ends.records) == [stamp(10), stamp(50)]


def test_bodies_come_back_byte_for_byte(store, collection):
    # Whitespace, key order and escapes a re-encoder would change.
    body = (
        b'{ "type":"indicator" ,"spec_version":"2.1","id":"indicator--0c2f0f4a-8cf4-4b4a-9b1e-'
        b'0b8e1f2a3c4d","created":"2009-01-18T00:00:00.000Z","modified":"2009-01-18T00:00:00.000Z",'
        b'"name":"\\u0411\\u0438\\u0448\\u043a\\u0435\\u043a  \xd0\x91\xd0\xb8\xd1\x88\xd0\xba\xd0'
        b'\xb5\xd0\xba","pattern":"[domain-name:value = \'gov.kg\']","pattern_type":"stix",'
        b'"valid_from":"2009-01-18T00:00:00Z"}\n'
    )
    version = ObjectVersion(
        "indicator--0c2f0f4a-8cf4-4b4a-9b1e-0b8e1f2a3c4d", "indicator", stamp(0), "2.1", 0, body
    )
    store.put_objects(collection, [version])
    [stored] = everything(store, collection)
    assert stored.body == body
    assert (stored.id, stored.type, stored.spec_version, stored.tlp) == (
        version.id,
        "indicator",
        "2.1",
        0,
    )


def test_collections_are_independent(store, collection):
    other = new_collection(store, "Georgia 2008")
    shared = indicator(modified=stamp(0))
    [here] = store.put_objects(collection, [shared])
    [there] = store.put_objects(other, [shared])
    assert here.outcome == there.outcome == "created"
    store.put_objects(other, [indicator(modified=stamp(1))])
    assert store.count_objects(collection) == 1
    assert store.count_objects(other) == 2
    assert [r.id for r in everything(store, collection)] == [shared.id]


def test_empty_batch_and_unknown_collection(store, collection):
    assert store.put_objects(collection, []) == []
    assert store.count_objects(collection) == 0
    assert store.count_objects("00000000-0000-4000-8000-000000000000") == 0
    page = store.list_objects("00000000-0000-4000-8000-000000000000", ObjectQuery())
    assert (page.records, page.more, page.last_position) == ([], False, None)
