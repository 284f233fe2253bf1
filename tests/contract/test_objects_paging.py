"""Paging: after / added_after across many pages, limit, max_bytes, more, last_position."""

from __future__ import annotations

import json

import pytest

from steppe.store.port import ALL_VERSIONS, ObjectQuery

from .stix import indicator, ipv4, stamp

TOTAL = 160


@pytest.fixture
def filled(store, collection):
    """TOTAL versions written in a few calls: indicators (some with two versions) and SCOs."""
    written = []
    for call in range(4):
        batch = []
        for n in range(TOTAL // 4):
            k = call * (TOTAL // 4) + n
            if k % 3 == 0:
                batch.append(ipv4(f"10.{call}.{n // 256}.{n % 256}"))
            else:
                batch.append(indicator(modified=stamp(k)))
        outcomes = store.put_objects(collection, batch)
        written.extend(zip(batch, outcomes, strict=True))
    return written


def all_pages(store, collection, query_args, *, resume):
    """Every page of a query, continuing with `after` or with `added_after`."""
    records, pages = [], 0
    page = store.list_objects(collection, ObjectQuery(**query_args))
    while True:
        pages += 1
        records.extend(page.records)
        if not page.more:
            return records, pages
        assert page.records, "a page with more=True is never empty"
        assert page.last_position >= page.records[-1].date_added
        if resume == "after":
            mark = {"after": page.last_position}
        else:
            mark = {"added_after": page.records[-1].date_added}
        page = store.list_objects(collection, ObjectQuery(**query_args, **mark))
        assert pages < 10_000


@pytest.mark.parametrize("resume", ["after", "added_after"])
def test_paging_sees_every_version_once(store, collection, filled, resume):
    records, pages = all_pages(
        store, collection, {"versions": ALL_VERSIONS, "limit": 7}, resume=resume
    )
    assert pages == -(-TOTAL // 7)
    assert [(r.id, r.version) for r in records] == [
        (o.id, o.version) for _, o in sorted(filled, key=lambda pair: pair[1].date_added)
    ]
    assert len({r.date_added for r in records}) == TOTAL


@pytest.mark.parametrize("resume", ["after", "added_after"])
def test_paging_with_a_filter_that_skips_rows(store, collection, filled, resume):
    records, _ = all_pages(
        store,
        collection,
        {"types": frozenset({"ipv4-addr"}), "limit": 9, "with_body": False},
        resume=resume,
    )
    expected = [
        o.id for v, o in sorted(filled, key=lambda p: p[1].date_added) if v.type == "ipv4-addr"
    ]
    assert [r.id for r in records] == expected
    assert all(r.type == "ipv4-addr" for r in records)


def test_limit_and_an_exact_more(store, collection, filled):
    full = store.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS, limit=TOTAL))
    assert (len(full.records), full.more) == (TOTAL, False)
    short = store.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS, limit=TOTAL - 1))
    assert (len(short.records), short.more) == (TOTAL - 1, True)
    rest = store.list_objects(
        collection, ObjectQuery(versions=ALL_VERSIONS, limit=5, after=short.last_position)
    )
    assert (len(rest.records), rest.more) == (1, False)
    assert rest.records[0].date_added == full.records[-1].date_added
    one = store.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS, limit=1))
    assert (len(one.records), one.more) == (1, True)


def test_the_later_of_after_and_added_after_wins(store, collection, filled):
    dates = [o.date_added for _, o in filled]
    early, late = sorted(dates)[10], sorted(dates)[100]
    for query in (
        ObjectQuery(versions=ALL_VERSIONS, limit=1_000, added_after=early, after=late),
        ObjectQuery(versions=ALL_VERSIONS, limit=1_000, added_after=late, after=early),
    ):
        page = store.list_objects(collection, query)
        assert [r.date_added for r in page.records] == sorted(d for d in dates if d > late)


def test_added_after_is_strict(store, collection, filled):
    dates = sorted(o.date_added for _, o in filled)
    page = store.list_objects(
        collection, ObjectQuery(versions=ALL_VERSIONS, added_after=dates[5], limit=1)
    )
    assert page.records[0].date_added == dates[6]
    nothing = store.list_objects(
        collection, ObjectQuery(versions=ALL_VERSIONS, added_after=dates[-1])
    )
    assert (nothing.records, nothing.more) == ([], False)


def test_max_bytes_bounds_a_page_but_never_empties_it(store, collection):
    versions = [indicator(modified=stamp(i)) for i in range(6)]
    store.put_objects(collection, versions)
    sizes = [len(v.body) for v in versions]
    # Smaller than any body: one record per page, and more says whether others remain.
    tiny = store.list_objects(collection, ObjectQuery(max_bytes=1))
    assert (len(tiny.records), tiny.more) == (1, True)
    # Exactly the first three bodies.
    three = store.list_objects(collection, ObjectQuery(max_bytes=sum(sizes[:3])))
    assert (len(three.records), three.more) == (3, True)
    assert sum(len(r.body) for r in three.records) == sum(sizes[:3])
    # One byte short of three bodies: two.
    two = store.list_objects(collection, ObjectQuery(max_bytes=sum(sizes[:3]) - 1))
    assert (len(two.records), two.more) == (2, True)
    # Exactly everything: no more.
    whole = store.list_objects(collection, ObjectQuery(max_bytes=sum(sizes)))
    assert (len(whole.records), whole.more) == (6, False)
    # limit and max_bytes together: whichever stops first.
    both = store.list_objects(collection, ObjectQuery(max_bytes=sum(sizes), limit=4))
    assert (len(both.records), both.more) == (4, True)
    # A manifest has no bodies: max_bytes does not bound it.
    manifest = store.list_objects(collection, ObjectQuery(max_bytes=1, with_body=False))
    assert (len(manifest.records), manifest.more) == (6, False)
    # Paging by bytes visits everything once.
    seen, after = [], None
    while True:
        page = store.list_objects(
            collection, ObjectQuery(max_bytes=sizes[0] + sizes[1], after=after)
        )
        seen.extend(r.id for r in page.records)
        if not page.more:
            break
        after = page.last_position
    assert seen == [v.id for v in versions]


def test_last_position_resumes_after_rows_a_filter_skipped(store, collection):
    store.put_objects(collection, [indicator(modified=stamp(i)) for i in range(5)])
    page = store.list_objects(collection, ObjectQuery(types=frozenset({"ipv4-addr"})))
    assert (page.records, page.more) == ([], False)
    # Rows were examined; whatever position comes back, resuming from it finds the new row.
    address = ipv4("85.255.112.9")
    [written] = store.put_objects(collection, [address])
    resumed = store.list_objects(
        collection, ObjectQuery(types=frozenset({"ipv4-addr"}), after=page.last_position)
    )
    assert [r.date_added for r in resumed.records] == [written.date_added]


def test_empty_collection_has_no_position(store, collection):
    page = store.list_objects(collection, ObjectQuery())
    assert (page.records, page.more, page.last_position) == ([], False, None)


@pytest.mark.parametrize(
    "args",
    [
        {"limit": 7},
        {"limit": 1},
        {"limit": 1000},
        {"limit": 9, "max_bytes": 2_000},
        {"limit": 9, "max_bytes": 1},
        {"limit": 5, "types": frozenset({"indicator"})},
    ],
)
def test_joined_pages_hand_over_the_same_bodies_joined_by_commas(store, collection, filled, args):
    """A joined page is the plain page in one piece: its bodies comma-joined in date_added order."""
    common = {"versions": ALL_VERSIONS, **args}
    plain = store.list_objects(collection, ObjectQuery(**common))
    page = store.list_objects(collection, ObjectQuery(**common, joined=True))
    assert page.records == [] and plain.joined is None
    joined = page.joined
    assert joined.bodies == b",".join(r.body for r in plain.records)
    assert joined.count == len(plain.records)
    assert (joined.first_added, joined.last_added) == (
        plain.records[0].date_added,
        plain.records[-1].date_added,
    )
    assert (page.more, page.last_position) == (plain.more, plain.last_position)
    # embedded in an envelope, the joined bodies are the objects again
    assert json.loads(b"[" + joined.bodies + b"]") == [json.loads(r.body) for r in plain.records]


def test_a_joined_page_of_nothing(store, collection, filled):
    last = store.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS, limit=1000))
    page = store.list_objects(
        collection, ObjectQuery(after=last.last_position, joined=True, versions=ALL_VERSIONS)
    )
    assert page.joined.count == 0 and page.joined.bodies == b"" and page.more is False
    assert page.joined.first_added is None and page.joined.last_added is None
