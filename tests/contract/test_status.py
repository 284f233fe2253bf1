"""TAXII status resources and their parts."""

from __future__ import annotations

import uuid

import pytest

from steppe.errors import Conflict, NotFound
from steppe.stix.timestamps import now_micros
from steppe.store.port import StatusPart, StatusRecord
from steppe.store.port.statuses import summarise

COLLECTION = "7d1b3c0e-5c8a-4b7e-9a51-0f2e4d6c8b10"
DAY = 86_400_000_000


def status(expires_in: int = DAY, **fields) -> StatusRecord:
    created = fields.pop("created", now_micros())
    return StatusRecord(
        id=fields.pop("id", str(uuid.uuid4())),
        owner=fields.pop("owner", "kg-cert"),
        collection_id=COLLECTION,
        created=created,
        total=fields.pop("total", 3),
        expires=created + expires_in,
        **fields,
    )


def indicator(n: int) -> str:
    return f"indicator--{uuid.UUID(int=n, version=4)}"


def test_round_trip_with_meta(store):
    record = status(
        total=2_500,
        meta={"request": "POST /taxii2/steppe/collections/x/objects/", "batches": 3, "tlp": None},
    )
    store.create_status(record)
    assert store.get_status(record.id) == record
    assert store.get_status(str(uuid.uuid4())) is None
    assert store.status_parts(record.id) == []
    assert store.status_part_numbers(record.id) == frozenset()


def test_creating_an_existing_id_conflicts(store):
    record = status()
    store.create_status(record)
    with pytest.raises(Conflict):
        store.create_status(status(id=record.id, owner="someone-else", total=1))
    assert store.get_status(record.id) == record


def test_an_expired_status_is_gone(store):
    expired = status(expires_in=-1, created=now_micros() - 2 * DAY)
    store.create_status(expired)
    assert store.get_status(expired.id) is None
    assert store.status_parts(expired.id) == []
    assert store.status_part_numbers(expired.id) == frozenset()
    with pytest.raises(NotFound):
        store.record_status_part(expired.id, StatusPart(0, successes=((indicator(1), None, None),)))
    # A live one next to it is untouched (the embedded store purges on create).
    live = status()
    store.create_status(live)
    assert store.get_status(live.id) == live
    assert store.get_status(expired.id) is None


def test_parts_are_recorded_once_and_listed_by_number(store):
    record = status(total=4)
    store.create_status(record)
    v1 = "2009-01-18T06:00:00.000Z"
    second = StatusPart(
        part=1,
        successes=((indicator(3), v1, None),),
        failures=((indicator(4), v1, "the pattern is not valid STIX patterning"),),
    )
    first = StatusPart(
        part=0,
        successes=((indicator(1), v1, None), (indicator(2), None, "already stored")),
    )
    empty = StatusPart(part=2)
    assert store.record_status_part(record.id, second) is True
    assert store.record_status_part(record.id, first) is True
    assert store.record_status_part(record.id, empty) is True
    # A retried batch records nothing: the first outcome stands.
    retried = StatusPart(part=1, failures=((indicator(3), v1, "retried"),))
    assert store.record_status_part(record.id, retried) is False
    assert store.status_parts(record.id) == [first, second, empty]
    assert store.status_part_numbers(record.id) == {0, 1, 2}


def test_parts_of_one_status_do_not_touch_another(store):
    one, other = status(), status()
    store.create_status(one)
    store.create_status(other)
    part = StatusPart(0, successes=((indicator(1), None, None),))
    store.record_status_part(one.id, part)
    assert store.status_parts(other.id) == []
    assert store.record_status_part(other.id, StatusPart(0)) is True
    assert store.status_parts(one.id) == [part]
    assert store.status_parts(other.id) == [StatusPart(0)]
    assert store.status_part_numbers(other.id) == {0}


def test_an_unknown_status_is_not_found(store):
    with pytest.raises(NotFound):
        store.record_status_part(str(uuid.uuid4()), StatusPart(0))
    assert store.status_parts(str(uuid.uuid4())) == []


def test_a_part_holds_a_thousand_successes_and_a_thousand_failures(store):
    record = status(total=2_000)
    store.create_status(record)
    version = "2009-01-18T06:00:00.123456Z"
    reason = "the object is marked TLP:RED, above what this collection accepts; "
    part = StatusPart(
        part=7,
        successes=tuple((indicator(i), version, None) for i in range(1_000)),
        failures=tuple(
            (indicator(1_000 + i), version, reason + f"object {i} of the envelope")
            for i in range(1_000)
        ),
    )
    assert store.record_status_part(record.id, part) is True
    assert store.status_parts(record.id) == [part]
    assert store.status_part_numbers(record.id) == {7}


def test_a_summary_counts_every_outcome_and_shows_the_first_in_part_order(store):
    record = status(total=9)
    store.create_status(record)
    v1 = "2009-01-18T06:00:00.000Z"
    parts = [
        StatusPart(2, successes=tuple((indicator(20 + i), v1, None) for i in range(3)),
                   failures=((indicator(29), None, "refused"),)),
        StatusPart(0, successes=((indicator(1), v1, None), (indicator(2), v1, "already stored"))),
        StatusPart(1, failures=((indicator(10), v1, "TLP"), (indicator(11), None, "TLP"))),
    ]  # fmt: skip
    for part in parts:
        store.record_status_part(record.id, part)
    summary = store.status_summary(record.id, 3)
    assert (summary.success_count, summary.failure_count) == (5, 3)
    assert summary.successes == (
        (indicator(1), v1, None),
        (indicator(2), v1, "already stored"),
        (indicator(20), v1, None),
    )
    assert summary.failures == (
        (indicator(10), v1, "TLP"),
        (indicator(11), None, "TLP"),
        (indicator(29), None, "refused"),
    )
    assert store.status_summary(record.id, 100) == summarise(store.status_parts(record.id), 100)
    assert store.status_summary(record.id, 0).successes == ()
    empty = store.status_summary(str(uuid.uuid4()), 3)
    assert (empty.success_count, empty.failure_count, empty.successes) == (0, 0, ())
