"""The STIX identities steppe writes as producers: the organisation running it, and each partner."""

from __future__ import annotations

from typing import Any

from steppe.stix import tlp
from steppe.stix.ids import derived_id
from steppe.stix.timestamps import format_stix


def org_identity_id(org_name: str) -> str:
    """The STIX identity of the organisation running steppe (the producer of submissions)."""
    return derived_id("identity", "organisation", org_name)


def org_identity(org_name: str, stamp: int) -> dict[str, Any]:
    """The organisation's identity object, for a collection that does not hold it yet."""
    text = format_stix(stamp)
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": org_identity_id(org_name),
        "created_by_ref": org_identity_id(org_name),
        "created": text,
        "modified": text,
        "name": org_name,
        "identity_class": "organization",
        "object_marking_refs": [tlp.CLEAR.marking_id],
    }


def partner_identity_id(partner_id: str) -> str:
    """The STIX identity steppe gives a partner's objects: derived from its stable id.

    Not from its name: a name deleted and created again would otherwise get the
    old partner's identity, and with it the right to add versions of the old
    partner's objects (a producer owns what carries its created_by_ref).
    """
    return derived_id("identity", "partner", partner_id)
