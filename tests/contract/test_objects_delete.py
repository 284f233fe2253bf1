"""delete_object: which versions go, and first/last afterwards."""

from __future__ import annotations

from steppe.store.port import ALL_VERSIONS, FIRST, LAST, ObjectQuery, VersionFilter

from .stix import campaign, indicator, ipv4, stamp, stix20_malware

V1, V2, V3 = stamp(1_000), stamp(2_000), stamp(3_000)


def versions_of(store, collection, oid, versions=ALL_VERSIONS):
    page = store.list_objects(collection, ObjectQuery(ids=frozenset({oid}), versions=versions))
    return [r.version for r in page.records]


def three_campaign_versions(store, collection):
    store.put_objects(collection, [campaign(V1), campaign(V2), campaign(V3)])
    return campaign(V1).id


def test_delete_every_version(store, collection):
    oid = three_campaign_versions(store, collection)
    bystander = indicator(modified=V1)
    store.put_objects(collection, [bystander])
    assert store.delete_object(collection, oid) == 3
    assert versions_of(store, collection, oid) == []
    assert store.count_objects(collection) == 1
    assert versions_of(store, collection, bystander.id) == [V1]
    # Written again after deletion, it is new again.
    [again] = store.put_objects(collection, [campaign(V2)])
    assert again.outcome == "created"


def test_deleting_the_last_version_makes_the_previous_one_last(store, collection):
    oid = three_campaign_versions(store, collection)
    assert store.delete_object(collection, oid, LAST) == 1
    assert versions_of(store, collection, oid) == [V1, V2]
    assert versions_of(store, collection, oid, LAST) == [V2]
    assert versions_of(store, collection, oid, FIRST) == [V1]
    assert store.count_objects(collection) == 2


def test_deleting_the_first_version_makes_the_next_one_first(store, collection):
    oid = three_campaign_versions(store, collection)
    assert store.delete_object(collection, oid, FIRST) == 1
    assert versions_of(store, collection, oid, FIRST) == [V2]
    assert versions_of(store, collection, oid, LAST) == [V3]


def test_deleting_exact_versions(store, collection):
    oid = three_campaign_versions(store, collection)
    assert store.delete_object(collection, oid, VersionFilter(exact=frozenset({V2}))) == 1
    assert versions_of(store, collection, oid) == [V1, V3]
    assert store.delete_object(collection, oid, VersionFilter(exact=frozenset({V2}))) == 0
    # first + last of the two that remain: both go.
    assert store.delete_object(collection, oid, VersionFilter(first=True, last=True)) == 2
    assert versions_of(store, collection, oid) == []


def test_a_single_remaining_version_is_first_and_last(store, collection):
    oid = three_campaign_versions(store, collection)
    store.delete_object(collection, oid, VersionFilter(exact=frozenset({V1, V3})))
    assert versions_of(store, collection, oid, FIRST) == [V2]
    assert versions_of(store, collection, oid, LAST) == [V2]


def test_delete_with_spec_versions(store, collection):
    old = stix20_malware(V1)
    store.put_objects(collection, [old])
    assert store.delete_object(collection, old.id, spec_versions=frozenset({"2.1"})) == 0
    assert store.delete_object(collection, old.id, spec_versions=frozenset({"2.0"})) == 1
    assert versions_of(store, collection, old.id) == []


def test_delete_an_unversioned_object(store, collection):
    address = ipv4("85.255.112.7")
    store.put_objects(collection, [address])
    assert store.delete_object(collection, address.id) == 1
    [again] = store.put_objects(collection, [address])
    assert again.outcome == "created"


def test_deleting_what_is_not_there(store, collection):
    assert store.delete_object(collection, "indicator--3f1c9a44-0000-4000-8000-000000000001") == 0
    assert store.delete_object("00000000-0000-4000-8000-00000000dead", campaign(V1).id) == 0


def test_date_added_is_never_reused_after_a_delete(store, collection):
    [first] = store.put_objects(collection, [indicator(modified=V1)])
    store.delete_object(collection, first.id)
    [second] = store.put_objects(collection, [indicator(modified=V1)])
    assert second.date_added > first.date_added
