"""The audit trail of TAXII requests.

Times are spread over several UTC days before now: the AWS adapter keeps one
partition per day and walks them backwards, so these tests cross its day
boundaries in both directions.
"""

from __future__ import annotations

from steppe.stix.timestamps import now_micros
from steppe.store.port import AuditRecord

COLLECTION = "7d1b3c0e-5c8a-4b7e-9a51-0f2e4d6c8b10"
HOUR = 3_600_000_000
DAY = 24 * HOUR
# Midnight (UTC) five days ago: every test's records lie between it and now.
START = (now_micros() // DAY - 5) * DAY


def record(time: int, partner: str | None = "kg-cert", **fields) -> AuditRecord:
    return AuditRecord(
        time=time,
        request_id=fields.pop("request_id", f"req-{time}"),
        partner=partner,
        method=fields.pop("method", "GET"),
        path=fields.pop("path", f"/taxii2/steppe/collections/{COLLECTION}/objects/"),
        status=fields.pop("status", 200),
        **fields,
    )


def times(records: list[AuditRecord]) -> list[int]:
    return [r.time for r in records]


def test_round_trip_of_every_field(store):
    full = record(
        START + 10 * HOUR,
        collection_id=COLLECTION,
        objects=250,
        detail="match[type]=indicator&added_after=2009-01-18T00:00:00.000000Z",
        method="POST",
        status=202,
    )
    anonymous = record(START + 11 * HOUR, partner=None, path="/taxii2/", status=401, detail="")
    store.append_audit(full)
    store.append_audit(anonymous)
    assert store.list_audit() == [anonymous, full]


def test_newest_first_across_days_with_since_until_and_limit(store):
    # Three records a day on days 0..4 (6:00, 12:00, 18:00), appended out of order.
    spread = [START + day * DAY + hour * HOUR for day in range(5) for hour in (6, 12, 18)]
    for time in spread[::2] + spread[1::2]:
        store.append_audit(record(time))
    newest_first = sorted(spread, reverse=True)
    assert times(store.list_audit()) == newest_first
    assert times(store.list_audit(limit=4)) == newest_first[:4]
    assert times(store.list_audit(limit=1)) == newest_first[:1]
    # since is inclusive, until exclusive; both may fall inside a day.
    since, until = START + 1 * DAY + 12 * HOUR, START + 3 * DAY + 12 * HOUR
    inside = [t for t in newest_first if since <= t < until]
    assert inside[0] == START + 3 * DAY + 6 * HOUR and inside[-1] == since
    assert times(store.list_audit(since=since, until=until)) == inside
    assert times(store.list_audit(since=since, until=until, limit=3)) == inside[:3]
    assert times(store.list_audit(until=until, limit=2)) == inside[:2]
    assert times(store.list_audit(since=since)) == [t for t in newest_first if t >= since]
    # Whole days, and ranges that hold nothing.
    assert times(store.list_audit(since=START + 2 * DAY, until=START + 3 * DAY)) == [
        START + 2 * DAY + h * HOUR for h in (18, 12, 6)
    ]
    assert store.list_audit(since=START + 2 * DAY + 19 * HOUR, until=START + 3 * DAY) == []
    assert store.list_audit(until=START) == []
    assert store.list_audit(since=until, until=since) == []
    assert store.list_audit(limit=0) == []


def test_partner_filter(store):
    partners = ["kg-cert", "kz-cert", None, "kg-cert", "siem-bishkek"]
    for i in range(20):
        store.append_audit(record(START + i * 5 * HOUR, partner=partners[i % len(partners)]))
    mine = [START + i * 5 * HOUR for i in range(20) if partners[i % len(partners)] == "kg-cert"]
    newest = sorted(mine, reverse=True)
    assert times(store.list_audit(partner="kg-cert")) == newest
    assert times(store.list_audit(partner="kg-cert", limit=3)) == newest[:3]
    since, until = START + 1 * DAY, START + 3 * DAY
    assert times(store.list_audit(partner="kg-cert", since=since, until=until)) == [
        t for t in newest if since <= t < until
    ]
    theirs = store.list_audit(partner="kz-cert", since=START)
    assert len(theirs) == 4 and {r.partner for r in theirs} == {"kz-cert"}
    assert store.list_audit(partner="nobody", since=START) == []


def test_many_records_are_read_a_page_at_a_time(store):
    spread = [START + i * 23 * 60_000_000 for i in range(300)]  # every 23 minutes: 4.8 days
    for time in spread:
        store.append_audit(record(time, partner="kg-cert" if time % 3 else "kz-cert"))
    newest = sorted(spread, reverse=True)
    page = store.list_audit(limit=50)
    assert times(page) == newest[:50]
    following = store.list_audit(until=page[-1].time, limit=50)
    assert times(following) == newest[50:100]
    assert times(store.list_audit(limit=1_000)) == newest
    kz = [t for t in newest if not t % 3]
    assert times(store.list_audit(partner="kz-cert", limit=50)) == kz[:50]
