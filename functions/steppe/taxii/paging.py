"""`next` tokens: self-contained, signed paging positions (TAXII 2.1 section 3.5).

A token carries everything needed to continue a listing: the endpoint, the
API root, the collection (and object) it belongs to, the request's filters and
the position reached (ObjectPage.last_position: a date_added, in µs). A client
may therefore send `next` and `limit` alone; when it repeats the filters too,
they must be the token's. Nothing is kept on the server between pages.

Tokens are signed with HMAC-SHA256 under a secret the store keeps
(`server_secret("taxii-next")`), so every process of a deployment verifies
every other's tokens and a client cannot forge or alter a position. The
caller's rights are not in the token: they are applied again on every page
(the TAXII security considerations require `next` not to be trusted blindly).

Form: base64url(JSON payload) "." base64url(HMAC), without padding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import orjson

from steppe.errors import InvalidInput
from steppe.taxii.filters import NEXT, Endpoint, Filters

SECRET_NAME = "taxii-next"
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class PageToken:
    endpoint: Endpoint
    api_root: str
    collection_id: str
    object_id: str | None
    filters: Filters
    position: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a paging secret needs at least 16 bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def encode(self, token: PageToken) -> str:
        payload = orjson.dumps(
            {
                "f": _FORMAT,
                "e": token.endpoint.value,
                "r": token.api_root,
                "c": token.collection_id,
                "o": token.object_id,
                "q": token.filters.to_token(),
                "p": token.position,
            }
        )
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, text: str) -> PageToken:
        """The token's content, or InvalidInput (400) if it is not one this server signed."""
        encoded, dot, signature = text.partition(".")
        try:
            payload = _unb64(encoded)
            mac = _unb64(signature)
        except (binascii.Error, ValueError):
            payload, mac = b"", b""
        if not dot or not hmac.compare_digest(mac, self._mac(payload)):
            raise _invalid("it was not issued by this server, or it was altered")
        try:
            data = orjson.loads(payload)
            if data["f"] != _FORMAT:
                raise ValueError("unknown token format")
            return PageToken(
                endpoint=Endpoint(data["e"]),
                api_root=str(data["r"]),
                collection_id=str(data["c"]),
                object_id=None if data["o"] is None else str(data["o"]),
                filters=Filters.from_token(data["q"]),
                position=int(data["p"]),
            )
        except (ValueError, TypeError, KeyError):
            raise _invalid("its content is not a paging position") from None


def _invalid(why: str) -> InvalidInput:
    return InvalidInput(f"the query parameter next is not a valid paging token: {why}", where=NEXT)


def check_belongs(
    token: PageToken,
    endpoint: Endpoint,
    api_root: str,
    collection_id: str,
    object_id: str | None,
) -> None:
    """400 when a valid token is sent to another listing than the one that issued it."""
    issued = (token.endpoint, token.api_root, token.collection_id, token.object_id)
    if issued != (endpoint, api_root, collection_id, object_id):
        where = f"{token.endpoint.value} of collection {token.collection_id}"
        if token.object_id:
            where += f", object {token.object_id}"
        raise _invalid(f"it continues the {where}, not this request")
