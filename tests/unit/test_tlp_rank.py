"""The one TLP rank rule (steppe.stix.tlp.rank_of_object), on the cases its copies disagreed on.

Before, three places ranked objects: the write path (rank_of_object), correlation's
batch reader (the strictest marking, else the batch's default, for any object) and
the TAXII test world (marking definitions always CLEAR, others by their markings).
They disagreed on marking definitions only; every one now asks rank_of_object.
"""

from __future__ import annotations

from typing import Any

import pytest

from steppe.correlate.extract import read_batch
from steppe.stix import tlp

STATEMENT_ID = "marking-definition--3c4e6b1a-2d7f-4e8a-9b0c-1d2e3f4a5b6c"
CAMPAIGN_ID = "campaign--5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e"
INDICATOR_ID = "indicator--6e7f8091-a2b3-4c4d-9e5f-6a7b8c9d0e1f"


def statement(*markings: tlp.TlpLevel) -> dict[str, Any]:
    """A marking definition that is not one of TLP's (a copyright statement)."""
    obj: dict[str, Any] = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": STATEMENT_ID,
        "created": "2009-01-18T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2009 CERT-KG"},
    }
    if markings:
        obj["object_marking_refs"] = [level.marking_id for level in markings]
    return obj


@pytest.mark.parametrize("unmarked", [level.rank for level in tlp.LEVELS])
@pytest.mark.parametrize("level", tlp.LEVELS, ids=lambda level: level.name)
def test_a_tlp_marking_definition_is_clear_whatever_the_default(level: tlp.TlpLevel, unmarked):
    # The batch reader used to rank it at the batch's default (AMBER for an AMBER collection).
    assert tlp.rank_of_object(level.marking_definition(), unmarked) == tlp.CLEAR.rank


def test_a_tlp_marking_definition_is_clear_even_when_it_carries_markings():
    # The batch reader used to rank it at its markings (here RED).
    marked = {**tlp.AMBER.marking_definition(), "object_marking_refs": [tlp.RED.marking_id]}
    assert tlp.rank_of_object(marked, tlp.GREEN.rank) == tlp.CLEAR.rank


def test_another_marking_definition_is_clear_unless_it_carries_markings():
    # Unmarked, the batch reader used to rank it at the batch's default.
    assert tlp.rank_of_object(statement(), tlp.AMBER.rank) == tlp.CLEAR.rank
    # Marked, the test world used to rank it CLEAR: it is at its strictest marking.
    assert tlp.rank_of_object(statement(tlp.GREEN, tlp.RED), tlp.CLEAR.rank) == tlp.RED.rank


@pytest.mark.parametrize(
    ("markings", "expected"),
    [
        (None, tlp.AMBER.rank),
        ([], tlp.AMBER.rank),
        ([tlp.GREEN.marking_id], tlp.GREEN.rank),
        ([tlp.GREEN.marking_id, tlp.RED.marking_id], tlp.RED.rank),
        ([STATEMENT_ID], tlp.AMBER.rank),  # no TLP marking among them: the default
        (["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"], tlp.RED.rank),  # TLP 1.0
    ],
)
def test_any_other_object_is_at_its_strictest_tlp_marking_else_the_default(markings, expected):
    campaign: dict[str, Any] = {"type": "campaign", "id": CAMPAIGN_ID, "name": "January 2009"}
    if markings is not None:
        campaign["object_marking_refs"] = markings
    assert tlp.rank_of_object(campaign, tlp.AMBER.rank) == expected


def test_correlation_ranks_a_batch_by_the_same_rule():
    campaign = {
        "type": "campaign",
        "spec_version": "2.1",
        "id": CAMPAIGN_ID,
        "name": "January 2009",
        "object_marking_refs": [tlp.GREEN.marking_id, tlp.RED.marking_id],
    }
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": INDICATOR_ID,
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2009-01-18T00:00:00Z",
    }
    batch = read_batch([campaign, indicator], tlp.AMBER.rank)
    assert batch.campaigns[CAMPAIGN_ID].tlp == tlp.rank_of_object(campaign, tlp.AMBER.rank)
    [occurrence] = batch.occurrences
    assert occurrence.tlp == tlp.rank_of_object(indicator, tlp.AMBER.rank) == tlp.AMBER.rank
