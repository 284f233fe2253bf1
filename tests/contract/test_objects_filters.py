"""list_objects filters: versions (first/last/all/exact), ids, types, spec_versions, TLP."""

from __future__ import annotations

import pytest

from steppe.stix import tlp
from steppe.store.port import ALL_VERSIONS, FIRST, LAST, ObjectQuery, VersionFilter

from .stix import campaign, indicator, ipv4, stamp, stix20_malware

V1, V2, V3 = stamp(1_000), stamp(2_000), stamp(3_000)


@pytest.fixture
def catalog(store, collection):
    """Three versions of a campaign and of an indicator, two SCOs and a STIX 2.0 object.

    The indicator's last version is RED while its earlier ones are GREEN.
    """
    ind = indicator(modified=V1)
    objects = {
        "campaign": [campaign(V1), campaign(V2), campaign(V3)],
        "indicator": [
            ind,
            indicator(ind.id, modified=V2, created=V1),
            indicator(ind.id, modified=V3, created=V1, level=tlp.RED),
        ],
        "scos": [ipv4("85.255.112.7"), ipv4("212.42.224.1", tlp.AMBER)],
        "stix20": [stix20_malware(V2)],
    }
    store.put_objects(collection, [v for group in objects.values() for v in group])
    return objects


def listed(store, collection, **query):
    page = store.list_objects(collection, ObjectQuery(limit=1_000, **query))
    assert not page.more
    dates = [r.date_added for r in page.records]
    assert dates == sorted(dates), "records come in date_added order"
    return {(r.id, r.version) for r in page.records}


def keys(*versions):
    return {(v.id, v.version) for v in versions}


def unversioned_key(store, collection, sco):
    [stored] = store.list_objects(collection, ObjectQuery(ids=frozenset({sco.id}))).records
    return (stored.id, stored.version)


def test_default_is_the_last_version_of_each_object(store, collection, catalog):
    c, i = catalog["campaign"], catalog["indicator"]
    expected = keys(c[2], i[2], catalog["stix20"][0]) | {
        unversioned_key(store, collection, sco) for sco in catalog["scos"]
    }
    assert listed(store, collection) == expected
    assert listed(store, collection, versions=LAST) == expected


def test_first_all_and_first_plus_last(store, collection, catalog):
    c, i = catalog["campaign"], catalog["indicator"]
    scos = {unversioned_key(store, collection, sco) for sco in catalog["scos"]}
    m = keys(catalog["stix20"][0])
    assert listed(store, collection, versions=FIRST) == keys(c[0], i[0]) | scos | m
    assert listed(store, collection, versions=ALL_VERSIONS) == keys(*c, *i) | scos | m
    both = VersionFilter(first=True, last=True)
    assert listed(store, collection, versions=both) == keys(c[0], c[2], i[0], i[2]) | scos | m


def test_exact_versions_alone_and_with_last_or_first(store, collection, catalog):
    c, i = catalog["campaign"], catalog["indicator"]
    ids = frozenset({c[0].id, i[0].id})
    exact = VersionFilter(exact=frozenset({V2}))
    assert listed(store, collection, ids=ids, versions=exact) == keys(c[1], i[1])
    two = VersionFilter(exact=frozenset({V1, V3}))
    assert listed(store, collection, ids=ids, versions=two) == keys(c[0], c[2], i[0], i[2])
    exact_or_last = VersionFilter(exact=frozenset({V1}), last=True)
    assert listed(store, collection, ids=ids, versions=exact_or_last) == keys(
        c[0], c[2], i[0], i[2]
    )
    exact_or_first = VersionFilter(exact=frozenset({V2}), first=True)
    assert listed(store, collection, ids=ids, versions=exact_or_first) == keys(
        c[0], c[1], i[0], i[1]
    )
    missing = VersionFilter(exact=frozenset({stamp(1_001)}))
    assert listed(store, collection, versions=missing) == set()


def test_ids_combine_with_or_and_with_other_filters_with_and(store, collection, catalog):
    c, i = catalog["campaign"], catalog["indicator"]
    assert listed(store, collection, ids=frozenset({c[0].id})) == keys(c[2])
    assert listed(store, collection, ids=frozenset({c[0].id, i[0].id})) == keys(c[2], i[2])
    unknown = "indicator--4d1f1a51-0000-4000-8000-000000000000"
    assert listed(store, collection, ids=frozenset({unknown})) == set()
    assert listed(store, collection, ids=frozenset({c[0].id, unknown})) == keys(c[2])
    # ids AND types: the campaign is not an indicator.
    assert listed(
        store, collection, ids=frozenset({c[0].id, i[0].id}), types=frozenset({"indicator"})
    ) == keys(i[2])


def test_versions_of_one_id(store, collection, catalog):
    c = catalog["campaign"]
    page = store.list_objects(
        collection, ObjectQuery(ids=frozenset({c[0].id}), versions=ALL_VERSIONS)
    )
    assert [r.version for r in page.records] == [V1, V2, V3]
    assert all(r.body is not None for r in page.records)


def test_types(store, collection, catalog):
    i = catalog["indicator"]
    assert listed(store, collection, types=frozenset({"indicator"})) == keys(i[2])
    scos = {unversioned_key(store, collection, sco) for sco in catalog["scos"]}
    assert listed(store, collection, types=frozenset({"ipv4-addr"})) == scos
    assert listed(store, collection, types=frozenset({"indicator", "ipv4-addr"})) == (
        keys(i[2]) | scos
    )
    assert listed(store, collection, types=frozenset({"indicator"}), versions=ALL_VERSIONS) == keys(
        *i
    )
    assert listed(store, collection, types=frozenset({"x-unknown"})) == set()


def test_spec_versions_as_stored(store, collection, catalog):
    m = catalog["stix20"][0]
    assert listed(store, collection, spec_versions=frozenset({"2.0"})) == keys(m)
    in_21 = listed(store, collection, spec_versions=frozenset({"2.1"}))
    assert (m.id, m.version) not in in_21
    assert len(in_21) == 4
    assert listed(store, collection, spec_versions=frozenset({"2.0", "2.1"})) == listed(
        store, collection
    )
    assert listed(store, collection, spec_versions=frozenset({"2.2"})) == set()


def test_max_tlp(store, collection, catalog):
    c, i = catalog["campaign"], catalog["indicator"]
    clear, amber = catalog["scos"]
    clear_key = unversioned_key(store, collection, clear)
    amber_key = unversioned_key(store, collection, amber)
    m = keys(catalog["stix20"][0])
    everything = ALL_VERSIONS
    assert listed(store, collection, versions=everything, max_tlp=tlp.CLEAR.rank) == (
        {clear_key} | m
    )
    assert listed(store, collection, versions=everything, max_tlp=tlp.GREEN.rank) == (
        {clear_key} | m | keys(i[0], i[1])
    )
    assert listed(store, collection, versions=everything, max_tlp=tlp.AMBER.rank) == (
        {clear_key, amber_key} | m | keys(*c, i[0], i[1])
    )
    assert listed(store, collection, versions=everything, max_tlp=tlp.RED.rank) == listed(
        store, collection, versions=everything
    )


def test_first_and_last_are_judged_before_the_other_filters(store, collection, catalog):
    """The indicator's last version is RED: a GREEN-cleared reader gets no 'last' of it,
    not its previous version."""
    c, i = catalog["campaign"], catalog["indicator"]
    green = listed(store, collection, types=frozenset({"indicator"}), max_tlp=tlp.GREEN.rank)
    assert green == set()
    amber_last = listed(store, collection, max_tlp=tlp.AMBER.rank)
    assert keys(c[2]) <= amber_last
    assert not keys(*i) & amber_last
    # first: the indicator's first version is GREEN, so a GREEN reader gets it.
    assert listed(
        store,
        collection,
        types=frozenset({"indicator"}),
        versions=FIRST,
        max_tlp=tlp.GREEN.rank,
    ) == keys(i[0])
    # An exact version that is neither first nor last passes the other filters on its own.
    assert listed(
        store,
        collection,
        ids=frozenset({i[0].id}),
        versions=VersionFilter(exact=frozenset({V2}), last=True),
        max_tlp=tlp.GREEN.rank,
    ) == keys(i[1])


def test_all_filters_together(store, collection, catalog):
    c, i = catalog["campaign"], catalog["indicator"]
    result = listed(
        store,
        collection,
        ids=frozenset({c[0].id, i[0].id}),
        types=frozenset({"campaign", "indicator"}),
        spec_versions=frozenset({"2.1"}),
        versions=VersionFilter(first=True, exact=frozenset({V2})),
        max_tlp=tlp.GREEN.rank,
    )
    assert result == keys(i[0], i[1])


def test_manifest_reads_leave_bodies_out(store, collection, catalog):
    with_bodies = store.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS)).records
    manifest = store.list_objects(
        collection, ObjectQuery(versions=ALL_VERSIONS, with_body=False)
    ).records
    assert all(r.body is None for r in manifest)
    assert all(r.body is not None for r in with_bodies)
    strip = [(r.id, r.type, r.version, r.spec_version, r.tlp, r.date_added) for r in with_bodies]
    assert strip == [
        (r.id, r.type, r.version, r.spec_version, r.tlp, r.date_added) for r in manifest
    ]
