"""False-positive sighting tallies: one per value, counted atomically, what they keep bounded."""

from __future__ import annotations

import threading

from steppe.store.port.sighting_tallies import MAX_TALLY_NOTES, MAX_TALLY_ORGANISATIONS

from .adapters import reopened

KEY = "ipv4-addr:198.51.100.7"


def test_each_report_counts_once_and_keeps_who_and_why(store):
    assert store.get_sighting_tally(KEY) is None
    first = store.count_false_positive_sighting(KEY, "ISP One", "shared CDN")
    assert (first.count, first.organisations, first.notes) == (1, ("ISP One",), ("shared CDN",))
    store.count_false_positive_sighting(KEY, "ISP One", None)
    third = store.count_false_positive_sighting(KEY, "Bank", "a resolver")
    assert third.count == 3
    assert third.organisations == ("ISP One", "Bank")  # distinct, first first
    assert third.notes == ("shared CDN", "a resolver")
    assert store.get_sighting_tally(KEY) == third
    assert store.get_sighting_tally("ipv4-addr:198.51.100.8") is None


def test_what_a_tally_keeps_is_bounded(store):
    for n in range(MAX_TALLY_NOTES + 5):
        store.count_false_positive_sighting(KEY, f"org {n}", f"note {n}")
    tally = store.get_sighting_tally(KEY)
    assert tally is not None and tally.count == MAX_TALLY_NOTES + 5
    assert len(tally.organisations) == MAX_TALLY_ORGANISATIONS
    assert tally.notes == tuple(f"note {n}" for n in range(MAX_TALLY_NOTES))


def test_concurrent_reports_each_count(store):
    """Eight reporters, half through a second store (another process), report at once."""
    racers = 8
    gate = threading.Barrier(racers)

    def report(on, n: int) -> None:
        gate.wait()
        on.count_false_positive_sighting(KEY, f"org {n}", None)

    with reopened(store) as second:
        threads = [
            threading.Thread(target=report, args=(store if n % 2 else second, n))
            for n in range(racers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tally = second.get_sighting_tally(KEY)
    assert tally is not None and tally.count == racers
    assert sorted(tally.organisations) == sorted(f"org {n}" for n in range(racers))
