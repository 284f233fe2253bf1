"""Reading an object's lifecycle (steppe.stix.validity)."""

from __future__ import annotations

import pytest

from steppe.stix.timestamps import parse_micros
from steppe.stix.validity import is_active, lifecycle_of, valid_until_of

# The January 2009 DDoS against Kyrgyz ISPs, and the spring its indicators expire.
DAY = parse_micros("2009-01-18T00:00:00Z")
SPRING = parse_micros("2009-03-01T00:00:00Z")


def indicator(**changes: object) -> dict[str, object]:
    obj: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--3c1f8f52-4a1e-4a55-9b39-1f4c2d6e8a01",
        "created": "2009-01-18T00:00:00.000Z",
        "modified": "2009-01-18T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '85.255.112.7']",
        "pattern_type": "stix",
        "valid_from": "2009-01-18T00:00:00.000Z",
        "valid_until": "2009-03-01T00:00:00.000Z",
    }
    obj.update(changes)
    return {key: value for key, value in obj.items() if value is not None}


def test_an_indicator_gives_its_valid_until_in_microseconds():
    assert lifecycle_of(indicator()) == (SPRING, False)
    precise = indicator(valid_until="2009-03-01T00:00:00.123456789Z")
    assert lifecycle_of(precise) == (SPRING + 123_456, False)


def test_an_object_without_valid_until_never_expires():
    assert lifecycle_of(indicator(valid_until=None)) == (None, False)
    sco = {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "85.255.112.7"}
    assert lifecycle_of(sco) == (None, False)


def test_revoked_counts_only_when_it_is_true():
    assert lifecycle_of(indicator(revoked=True)) == (SPRING, True)
    assert lifecycle_of(indicator(revoked=False)) == (SPRING, False)
    assert lifecycle_of(indicator(revoked="true")) == (SPRING, False)
    assert lifecycle_of(indicator(revoked=1)) == (SPRING, False)
    campaign = {"type": "campaign", "id": "campaign--1", "name": "DDoS", "revoked": True}
    assert lifecycle_of(campaign) == (None, True)


@pytest.mark.parametrize(
    "bad",
    [
        "2009-03-01",  # no time
        "2009-03-01T00:00:00+01:00",  # not UTC with Z
        "2009-02-30T00:00:00Z",  # no such day
        "soon",
        "",
        20090301,
        ["2009-03-01T00:00:00Z"],
        {"at": "2009-03-01T00:00:00Z"},
    ],
)
def test_a_malformed_valid_until_counts_as_absent(bad):
    assert valid_until_of(indicator(valid_until=bad)) is None
    assert lifecycle_of(indicator(valid_until=bad, revoked=True)) == (None, True)


def test_active_means_not_revoked_and_not_yet_past_valid_until():
    assert is_active(SPRING, False, DAY)
    assert is_active(None, False, DAY)
    # valid_until is the first instant at which the indicator is no longer valid.
    assert not is_active(SPRING, False, SPRING)
    assert is_active(SPRING, False, SPRING - 1)
    assert not is_active(SPRING, False, SPRING + 1)
    assert not is_active(None, True, DAY)
    assert not is_active(SPRING, True, DAY)
