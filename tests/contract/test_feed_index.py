"""The feed index: entries per collection, selected by index for feeds, decay and purging."""

from __future__ import annotations

import threading
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from steppe.store.port import FeedIndexEntry, FeedSelection, Generation

HOUR = 3_600_000_000
NOW = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in µs
TYPES = ("ipv4-addr", "domain-name", "url")


def _collection() -> str:
    return str(uuid.uuid4())


def _entry(
    collection_id: str,
    number: int,
    *,
    type: str = "ipv4-addr",
    score: int = 50,
    tlp: int = 1,
    expires_at: int = NOW + HOUR,
    retired_at: int | None = None,
    detail: bytes = b'{"confidence": 80, "source": "CERT-KG"}',
) -> FeedIndexEntry:
    value = f"198.51.100.{number % 256}"
    return FeedIndexEntry(
        collection_id=collection_id,
        indicator_id=f"indicator--{uuid.UUID(int=number)}",
        type=type,
        value=value,
        key=f"{type}:{value}",
        tlp=tlp,
        score=score,
        scored_at=NOW - HOUR,
        base=80,
        last_seen=NOW - 2 * HOUR,
        lifetime_us=30 * 24 * HOUR,
        decay_speed=0.3,
        threshold=20,
        expires_at=expires_at,
        retired_at=retired_at,
        detail=detail,
    )


def _everything(*collections: str, min_score: int = 0, max_tlp: int = 3) -> FeedSelection:
    return FeedSelection(
        collections=frozenset(collections),
        types=frozenset(TYPES),
        max_tlp=max_tlp,
        min_score=min_score,
    )


def _ids(entries: list[FeedIndexEntry]) -> list[str]:
    return [entry.indicator_id for entry in entries]


# -- put, replace, get -----------------------------------------------------------------------


def test_entries_round_trip_and_absent_ones_are_absent(store):
    c = _collection()
    first, second = _entry(c, 1, score=70), _entry(c, 2, type="url", detail=b"")
    store.put_feed_entries([first, second])
    ids = [first.indicator_id, second.indicator_id, _entry(c, 3).indicator_id]
    assert sorted(store.get_feed_entries(c, ids)) == sorted([first, second])
    assert store.get_feed_entries(_collection(), ids) == []
    assert store.get_feed_entries(c, []) == []


def test_a_put_replaces_the_entry_and_every_listing_of_it(store):
    c = _collection()
    store.put_feed_entries([_entry(c, 1, score=90), _entry(c, 2, score=60)])
    changed = _entry(c, 1, type="domain-name", score=40, tlp=2, expires_at=NOW + 5 * HOUR)
    store.put_feed_entries([changed])
    assert store.get_feed_entries(c, [changed.indicator_id]) == [changed]
    selected = store.select_feed_entries(_everything(c), NOW, 10)
    assert selected == [_entry(c, 2, score=60), changed]
    assert store.due_feed_entries(NOW + 2 * HOUR, 10) == [_entry(c, 2, score=60)]


def test_an_entry_moves_between_active_and_retired(store):
    c = _collection()
    active = _entry(c, 1, score=80)
    retired = active._replace(retired_at=NOW - HOUR)
    store.put_feed_entries([active])
    store.put_feed_entries([retired])
    assert store.select_feed_entries(_everything(c), NOW, 10) == []
    assert store.due_feed_entries(NOW + 2 * HOUR, 10) == []
    assert store.active_feed_entries(None, 10) == []
    assert store.retired_feed_entries(_everything(c), 0, 10) == [retired]
    store.put_feed_entries([active])
    assert store.select_feed_entries(_everything(c), NOW, 10) == [active]
    assert store.retired_feed_entries(_everything(c), 0, 10) == []
    assert store.purge_feed_entries(NOW + HOUR, 10) == 0


def test_the_last_of_one_entry_in_a_call_wins(store):
    c = _collection()
    store.put_feed_entries([_entry(c, 1, score=10), _entry(c, 1, score=95)])
    assert store.select_feed_entries(_everything(c), NOW, 10) == [_entry(c, 1, score=95)]


def test_concurrent_replacements_of_one_entry_leave_it_listed_once(store):
    c = _collection()
    store.put_feed_entries([_entry(c, 1)])
    errors: list[BaseException] = []

    def replace_it(writer: int) -> None:
        try:
            for round_ in range(4):
                score = writer * 10 + round_
                retired = NOW - HOUR if (writer + round_) % 3 == 0 else None
                store.put_feed_entries(
                    [_entry(c, 1, type=TYPES[writer % 3], score=score, retired_at=retired)]
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replace_it, args=(w,)) for w in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    [final] = store.get_feed_entries(c, [_entry(c, 1).indicator_id])
    listed = store.select_feed_entries(_everything(c), NOW, 10)
    listed += store.retired_feed_entries(_everything(c), 0, 10)
    assert listed == [final]
    due = store.due_feed_entries(NOW + 2 * HOUR, 10)
    assert due == ([] if final.retired_at is not None else [final])


# -- select ------------------------------------------------------------------------------------


def test_select_orders_by_score_then_indicator_id(store):
    c = _collection()
    entries = [
        _entry(c, 5, score=60),
        _entry(c, 3, score=90),
        _entry(c, 4, score=60),
        _entry(c, 1, score=0),
        _entry(c, 2, score=100),
    ]
    store.put_feed_entries(entries)
    selected = store.select_feed_entries(_everything(c), NOW, 10)
    assert [(e.score, e.indicator_id) for e in selected] == [
        (100, _entry(c, 2).indicator_id),
        (90, _entry(c, 3).indicator_id),
        (60, _entry(c, 4).indicator_id),
        (60, _entry(c, 5).indicator_id),
        (0, _entry(c, 1).indicator_id),
    ]


def test_select_filters_by_collection_type_tlp_score_expiry_and_retirement(store):
    c, other = _collection(), _collection()
    kept = _entry(c, 1, score=50, tlp=2, expires_at=NOW + 1)
    store.put_feed_entries(
        [
            kept,
            _entry(other, 2),
            _entry(c, 3, type="file"),
            _entry(c, 4, tlp=3),
            _entry(c, 5, score=49),
            _entry(c, 6, expires_at=NOW),
            _entry(c, 7, expires_at=NOW - HOUR),
            _entry(c, 8, retired_at=NOW - HOUR),
        ]
    )
    selection = FeedSelection(
        collections=frozenset({c}), types=frozenset(TYPES), max_tlp=2, min_score=50
    )
    assert store.select_feed_entries(selection, NOW, 100) == [kept]
    only_urls = FeedSelection(collections=frozenset({c}), types=frozenset({"url"}), max_tlp=3)
    assert store.select_feed_entries(only_urls, NOW, 100) == []
    assert store.select_feed_entries(_everything(), NOW, 100) == []


def test_select_merges_collections_and_types_and_stops_at_the_limit(store):
    a, bee, cee = _collection(), _collection(), _collection()
    entries = [
        _entry(collection, number, type=TYPES[number % 3], score=(number * 37) % 101)
        for number, collection in enumerate([a, bee, cee] * 12, start=1)
    ]
    store.put_feed_entries(entries)
    expected = sorted(entries, key=lambda e: (-e.score, e.indicator_id))
    assert store.select_feed_entries(_everything(a, bee, cee), NOW, 1000) == expected
    assert store.select_feed_entries(_everything(a, bee, cee), NOW, 7) == expected[:7]
    assert store.select_feed_entries(_everything(a, bee, cee), NOW, 0) == []
    two = [e for e in expected if e.collection_id != cee and e.type != "url"]
    selection = FeedSelection(
        collections=frozenset({a, bee}), types=frozenset({"ipv4-addr", "domain-name"}), max_tlp=3
    )
    assert store.select_feed_entries(selection, NOW, 5) == two[:5]


def test_one_indicator_in_two_collections_is_two_entries(store):
    a, bee = _collection(), _collection()
    store.put_feed_entries([_entry(a, 1, score=70), _entry(bee, 1, score=30)])
    selected = store.select_feed_entries(_everything(a, bee), NOW, 10)
    assert [(e.collection_id, e.score) for e in selected] == [(a, 70), (bee, 30)]


# -- retired -----------------------------------------------------------------------------------


def test_retired_entries_newest_first_since_an_instant_within_clearance(store):
    c, other = _collection(), _collection()
    entries = [
        _entry(c, 1, retired_at=NOW - 3 * HOUR),
        _entry(c, 2, retired_at=NOW - HOUR, score=5),
        _entry(c, 3, retired_at=NOW - HOUR, type="url"),
        _entry(c, 4, retired_at=NOW - 2 * HOUR, tlp=3),
        _entry(c, 5, retired_at=NOW - 5 * HOUR),
        _entry(other, 6, retired_at=NOW - HOUR),
        _entry(c, 7),
    ]
    store.put_feed_entries(entries)
    selection = _everything(c, max_tlp=2, min_score=50)
    assert _ids(store.retired_feed_entries(selection, NOW - 3 * HOUR, 10)) == _ids(
        [entries[1], entries[2], entries[0]]
    )
    assert _ids(store.retired_feed_entries(selection, NOW - 3 * HOUR, 2)) == _ids(entries[1:3])
    assert store.retired_feed_entries(selection, NOW, 10) == []
    assert len(store.retired_feed_entries(_everything(c, other), 0, 10)) == 6


# -- due ---------------------------------------------------------------------------------------


def test_due_entries_soonest_first_excluding_retired_ones(store):
    a, bee = _collection(), _collection()
    entries = [
        _entry(a, 1, expires_at=NOW - 2 * HOUR),
        _entry(bee, 2, expires_at=NOW),
        _entry(a, 3, expires_at=NOW + 1),
        _entry(bee, 4, expires_at=NOW - 5 * HOUR),
        _entry(a, 5, expires_at=NOW - 3 * HOUR, retired_at=NOW - 4 * HOUR),
        _entry(bee, 6, expires_at=NOW - HOUR),
    ]
    store.put_feed_entries(entries)
    due = [entries[3], entries[0], entries[5], entries[1]]
    assert store.due_feed_entries(NOW, 10) == due
    assert store.due_feed_entries(NOW, 2) == due[:2]
    assert store.due_feed_entries(NOW - 6 * HOUR, 10) == []


# -- active walk -------------------------------------------------------------------------------


def test_active_entries_page_over_every_entry_not_retired_exactly_once(store):
    collections = sorted(_collection() for _ in range(3))
    entries = [
        _entry(collection, number, retired_at=NOW if number % 4 == 0 else None)
        for number, collection in enumerate(collections * 5, start=1)
    ]
    entries.append(_entry(_collection(), 99, retired_at=NOW))  # a collection with only retired
    store.put_feed_entries(entries)
    expected = sorted(
        (e for e in entries if e.retired_at is None),
        key=lambda e: (e.collection_id, e.indicator_id),
    )
    walked: list[FeedIndexEntry] = []
    after = None
    while page := store.active_feed_entries(after, 4):
        assert len(page) <= 4
        walked.extend(page)
        after = (page[-1].collection_id, page[-1].indicator_id)
    assert walked == expected
    assert store.active_feed_entries(None, 0) == []


# -- generations -------------------------------------------------------------------------------


def test_a_generation_moves_once_per_call_per_collection(store):
    a, bee, never = _collection(), _collection(), _collection()
    assert store.feed_generations([a, never]) == {a: Generation(0, 0), never: Generation(0, 0)}
    store.put_feed_entries([_entry(a, 1), _entry(a, 2), _entry(bee, 3)])
    first = store.feed_generations([a, bee, never])
    assert first[a].counter == first[bee].counter == 1
    assert first[a].changed_at > 0
    assert first[never] == Generation(0, 0)
    store.put_feed_entries([_entry(a, 1, score=99)])
    store.put_feed_entries([])
    second = store.feed_generations([a, bee])
    assert second[a].counter == 2
    assert second[a].changed_at > first[a].changed_at
    assert second[bee] == first[bee]


# -- purge -------------------------------------------------------------------------------------


def test_purge_forgets_entries_retired_before_the_instant_up_to_the_limit(store):
    a, bee = _collection(), _collection()
    old = [
        _entry(a, 1, retired_at=NOW - 3 * HOUR),
        _entry(bee, 2, retired_at=NOW - 2 * HOUR),
        _entry(a, 3, retired_at=NOW - 4 * HOUR),
    ]
    recent = _entry(a, 4, retired_at=NOW)
    active = _entry(bee, 5, expires_at=NOW - 9 * HOUR)
    store.put_feed_entries([*old, recent, active])
    assert store.purge_feed_entries(NOW - 2 * HOUR, 10) == 2  # strictly before
    assert store.purge_feed_entries(NOW, 1) == 1
    assert store.purge_feed_entries(NOW, 10) == 0
    left = store.get_feed_entries(a, [e.indicator_id for e in [*old, recent]])
    left += store.get_feed_entries(bee, [old[1].indicator_id, active.indicator_id])
    assert sorted(left) == sorted([recent, active])
    assert store.retired_feed_entries(_everything(a, bee), 0, 10) == [recent]
    assert store.due_feed_entries(NOW, 10) == [active]


# -- property: select is filter, sort and cut ---------------------------------------------------

_entries = st.lists(
    st.tuples(
        st.integers(0, 2),  # collection
        st.integers(0, 9),  # indicator
        st.sampled_from(TYPES),
        st.integers(0, 100),  # score
        st.integers(0, 3),  # tlp
        st.integers(-2, 2),  # expiry, hours from now
        st.booleans(),  # retired
    ),
    max_size=24,
)
_selections = st.tuples(
    st.sets(st.integers(0, 3), min_size=1),
    st.sets(st.sampled_from(TYPES), min_size=1),
    st.integers(0, 3),
    st.integers(0, 100),
    st.integers(1, 30),
)


@settings(max_examples=25)
@given(entries=_entries, split=st.integers(0, 24), selection=_selections)
def test_select_is_the_model_filter_sort_and_cut(store, entries, split, selection):
    collections = [_collection() for _ in range(4)]
    made = [
        _entry(
            collections[c],
            c * 100 + i,
            type=t,
            score=score,
            tlp=tlp,
            expires_at=NOW + hours * HOUR,
            retired_at=NOW - HOUR if retired else None,
        )
        for c, i, t, score, tlp, hours, retired in entries
    ]
    store.put_feed_entries(made[:split])
    store.put_feed_entries(made[split:])
    wanted, types, max_tlp, min_score, limit = selection
    chosen = FeedSelection(
        collections=frozenset(collections[c] for c in wanted),
        types=frozenset(types),
        max_tlp=max_tlp,
        min_score=min_score,
    )
    current = {(e.collection_id, e.indicator_id): e for e in made}.values()
    model = sorted(
        (
            e
            for e in current
            if e.collection_id in chosen.collections
            and e.type in chosen.types
            and e.retired_at is None
            and e.tlp <= max_tlp
            and e.score >= min_score
            and e.expires_at > NOW
        ),
        key=lambda e: (-e.score, e.indicator_id),
    )[:limit]
    assert store.select_feed_entries(chosen, NOW, limit) == model
