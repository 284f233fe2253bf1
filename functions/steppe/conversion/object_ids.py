"""The ids steppe gives the objects it derives from a submission.

Ids are deterministic: SCOs per the STIX specification, every other object
from the producer and what it is about, so the same campaign, target or
indicator submitted again gets the same id (steppe.stix.versioning then merges
versions); observed-data and reports from (submission, part). Campaigns,
targets, intrusion sets, indicators, every relationship, and the observed-data
and reports are named within a scope: the collection and the report's TLP
level (`id_scope`), so the same name or pattern in another collection or at
another TLP is another object, and nothing merges what collections and TLP
levels keep apart. The scope is an HMAC under the installation's secret, so
nobody outside can compute the id steppe gives, say, a RED indicator for an
address, and probe for it. What is public keeps public ids anyone can derive:
the producer's identity, attack patterns, country locations, marking
definitions and SCOs.
"""

from __future__ import annotations

from collections.abc import Sequence

from steppe.stix.ids import derived_id, sco_id, secret_scope

# Preferred hash for a file's SCO id (STIX 2.1 section 2.9).
_ID_HASH_ORDER = ("MD5", "SHA-1", "SHA-256", "SHA-512")


def id_scope(collection_id: str, tlp_name: str, secret: bytes) -> str:
    """The scope within which a name or pattern names one object: one collection at one
    TLP level, in this installation (unguessable without its secret)."""
    return secret_scope(secret, "scope", collection_id, tlp_name)


def object_id(stix_type: str, *key: str) -> str:
    """The deterministic id of an object steppe derives, from what it is about.

    The type is part of the hashed key: ids.derived_id hashes the key alone, so
    a campaign and an intrusion set of the same name (or a submission part's
    report and observed-data) would otherwise share their UUID.
    """
    return derived_id(stix_type, stix_type, *key)


def name_key(name: str) -> str:
    """What makes two names the same campaign, target or intrusion set."""
    return " ".join(name.split()).casefold()


def file_sco_id(hashes: Sequence[tuple[str, str]]) -> str:
    """A file's SCO id: one hash contributes, MD5 first, then SHA-1, SHA-256, SHA-512."""
    by_name = dict(hashes)
    for name in _ID_HASH_ORDER:
        if name in by_name:
            return sco_id("file", {"hashes": {name: by_name[name]}})
    name, value = hashes[0]
    return sco_id("file", {"hashes": {name: value}})
