"""Partners and credentials."""

from __future__ import annotations

import uuid

import pytest

from steppe.errors import Conflict
from steppe.store.port import Partner, legacy_partner_id

FEED = "7d1b3c0e-5c8a-4b7e-9a51-0f2e4d6c8b10"
OTHER = "2a9c4e61-3b7d-4f0a-8c25-9e1d7b3f5a42"


def test_partner_round_trip_and_replace(store):
    cert = Partner(
        name="cert-kg",
        role="partner",
        tlp_clearance=3,
        can_read=frozenset({FEED, OTHER}),
        can_write=frozenset({FEED}),
        created=1_231_977_600_000_000,
        identity_id="identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01",
        id="5b0c2d9e-8a41-4f3e-b7c6-1d2e3f4a5b6c",
    )
    store.put_partner(cert)
    assert store.get_partner("cert-kg") == cert
    plain = Partner(name="siem", role="partner", id="0e6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
    store.put_partner(plain)
    assert store.get_partner("siem") == plain
    narrowed = Partner(
        name="cert-kg",
        role="partner",
        tlp_clearance=1,
        can_read=frozenset({FEED}),
        id=cert.id,
    )
    store.put_partner(narrowed)
    assert store.get_partner("cert-kg") == narrowed
    assert store.get_partner("nobody") is None


def test_a_partner_recreated_under_its_name_has_the_new_id(store):
    first = Partner(name="cert-kg", role="partner", id="5b0c2d9e-8a41-4f3e-b7c6-1d2e3f4a5b6c")
    store.put_partner(first)
    store.delete_partner("cert-kg")
    second = Partner(name="cert-kg", role="partner", id="9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
    store.put_partner(second)
    assert store.get_partner("cert-kg").id == second.id
    assert [p.id for p in store.list_partners()] == [second.id]


def test_a_partner_stored_without_an_id_loads_with_its_legacy_id(store):
    # What a record written before partners had ids reads as: stable, and never a UUIDv4
    # (the kind every partner created since gets), so no new partner can hold it.
    store.put_partner(Partner(name="old-cert", role="partner"))
    loaded = store.get_partner("old-cert")
    assert loaded.id == legacy_partner_id("old-cert") == store.list_partners()[0].id
    assert uuid.UUID(loaded.id).version == 5


def test_partners_listed_by_name(store):
    for name in ("siem", "admin", "cert-kg"):
        store.put_partner(Partner(name=name, role="admin" if name == "admin" else "partner"))
    assert [p.name for p in store.list_partners()] == ["admin", "cert-kg", "siem"]


def test_credentials(store):
    store.put_partner(Partner(name="cert-kg", role="partner"))
    store.add_credential("sha256:aaa", "cert-kg", created=1)
    store.add_credential("sha256:bbb", "cert-kg", created=2)
    assert store.find_credential("sha256:aaa") == "cert-kg"
    assert store.find_credential("sha256:bbb") == "cert-kg"
    assert store.find_credential("sha256:ccc") is None


def test_remove_credentials_keeps_the_listed_ones(store):
    store.put_partner(Partner(name="cert-kg", role="partner"))
    store.put_partner(Partner(name="siem", role="partner"))
    for key in ("k1", "k2", "k3"):
        store.add_credential(f"sha256:{key}", "cert-kg", created=1)
    store.add_credential("sha256:siem", "siem", created=1)
    assert store.remove_credentials("cert-kg", keep=["sha256:k2"]) == 2
    assert store.find_credential("sha256:k1") is None
    assert store.find_credential("sha256:k2") == "cert-kg"
    assert store.find_credential("sha256:k3") is None
    assert store.find_credential("sha256:siem") == "siem"
    assert store.remove_credentials("cert-kg") == 1
    assert store.find_credential("sha256:k2") is None
    assert store.remove_credentials("cert-kg") == 0


def test_deleting_a_partner_revokes_its_credentials(store):
    store.put_partner(Partner(name="cert-kg", role="partner"))
    store.put_partner(Partner(name="siem", role="partner"))
    store.add_credential("sha256:kg", "cert-kg", created=1)
    store.add_credential("sha256:siem", "siem", created=1)
    store.delete_partner("cert-kg")
    assert store.get_partner("cert-kg") is None
    assert store.find_credential("sha256:kg") is None
    assert store.find_credential("sha256:siem") == "siem"
    store.delete_partner("cert-kg")  # absent: no-op
    assert [p.name for p in store.list_partners()] == ["siem"]


def test_a_key_hash_belongs_to_one_partner(store):
    store.put_partner(Partner(name="cert-kg", role="partner"))
    store.put_partner(Partner(name="siem", role="partner"))
    store.add_credential("sha256:kg", "cert-kg", created=1)
    store.add_credential("sha256:kg", "cert-kg", created=2)  # again: no-op
    with pytest.raises(Conflict):
        store.add_credential("sha256:kg", "siem", created=3)
    assert store.find_credential("sha256:kg") == "cert-kg"
    assert store.remove_credentials("cert-kg") == 1
