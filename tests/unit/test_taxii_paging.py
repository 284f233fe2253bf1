"""next tokens (signed, self-contained) and the envelopes that carry them."""

import json
import os

import pytest

from steppe.errors import InvalidInput
from steppe.store.port import VersionFilter
from steppe.taxii.envelope import envelope, paged
from steppe.taxii.filters import Endpoint, Filters
from steppe.taxii.paging import PageToken, TokenSigner, check_belongs

COLLECTION = "f6c8a1d2-4b3e-4f5a-9c7d-8e9f0a1b2c3d"
OTHER = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
TOKEN = PageToken(
    endpoint=Endpoint.OBJECTS,
    api_root="steppe",
    collection_id=COLLECTION,
    object_id=None,
    filters=Filters(types=frozenset({"indicator"}), versions=VersionFilter(all=True)),
    position=1_232_236_800_000_001,
)


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(os.urandom(32))


def test_a_token_carries_its_listing_filters_and_position(signer):
    text = signer.encode(TOKEN)
    assert signer.decode(text) == TOKEN
    assert text.isascii() and "=" not in text and "&" not in text  # safe in a query string


def test_a_token_for_one_object_keeps_the_object(signer):
    token = PageToken(Endpoint.VERSIONS, "steppe", COLLECTION, "campaign--x", Filters(), 5)
    assert signer.decode(signer.encode(token)) == token


def _tampered(text: str) -> list[str]:
    payload, signature = text.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return [
        f"{flipped}.{signature}",
        f"{payload}.{signature[:-1]}",
        payload,
        "",
        "not-a-token",
        "....",
        text + "x",
    ]


def test_altered_or_made_up_tokens_are_refused(signer):
    for bad in _tampered(signer.encode(TOKEN)):
        with pytest.raises(InvalidInput) as refused:
            signer.decode(bad)
        assert refused.value.where == "next"


def test_a_token_signed_by_another_server_is_refused(signer):
    foreign = TokenSigner(os.urandom(32)).encode(TOKEN)
    with pytest.raises(InvalidInput, match="not issued by this server"):
        signer.decode(foreign)


def test_a_signed_token_with_a_changed_position_cannot_be_made_without_the_secret(signer):
    import base64

    payload, signature = signer.encode(TOKEN).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["p"] = 0
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidInput):
        signer.decode(f"{forged}.{signature}")


@pytest.mark.parametrize(
    ("endpoint", "collection_id", "object_id"),
    [
        (Endpoint.MANIFEST, COLLECTION, None),
        (Endpoint.OBJECTS, OTHER, None),
        (Endpoint.OBJECT, COLLECTION, "indicator--x"),
    ],
)
def test_a_token_only_continues_the_listing_that_issued_it(endpoint, collection_id, object_id):
    with pytest.raises(InvalidInput, match="continues the objects of collection"):
        check_belongs(TOKEN, endpoint, "steppe", collection_id, object_id)
    check_belongs(TOKEN, Endpoint.OBJECTS, "steppe", COLLECTION, None)


def test_short_secrets_are_refused():
    with pytest.raises(ValueError):
        TokenSigner(b"short")


def test_envelopes_join_the_stored_bodies_as_they_are():
    bodies = [b'{"type":"indicator","id":"indicator--1"}', b'{"id":"x","type":"campaign"}']
    assembled = envelope(bodies, more=True, next_token="abc.def")
    assert assembled == (b'{"more":true,"next":"abc.def","objects":[' + b",".join(bodies) + b"]}")
    assert json.loads(assembled)["objects"][1] == {"id": "x", "type": "campaign"}
    assert envelope(bodies, more=False, next_token=None) == (
        b'{"more":false,"objects":[' + b",".join(bodies) + b"]}"
    )


def test_an_empty_result_is_an_empty_object_and_more_always_has_a_next():
    assert envelope([], more=False, next_token=None) == b"{}"
    with pytest.raises(ValueError):
        envelope([b"{}"], more=True, next_token=None)
    assert json.loads(paged("versions", [b'"2009-01-18T00:00:00.000Z"'], True, "n.t")) == {
        "more": True,
        "next": "n.t",
        "versions": ["2009-01-18T00:00:00.000Z"],
    }
