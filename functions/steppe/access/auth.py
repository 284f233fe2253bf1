"""Authentication: from an Authorization header to a Caller.

Accepted forms (DESIGN.md): `Basic base64(<partner>:<key>)`, `Bearer <key>` and
`Token <key>`. Every refusal says what was wrong, never which part of a key
matched.
"""

from __future__ import annotations

import base64
import binascii

from steppe.access.caller import Caller
from steppe.access.credentials import hash_key
from steppe.store.port import AccessStore

SCHEMES = ("Basic", "Bearer", "Token")
REALM = "steppe"


def challenge(*, bearer: bool) -> str:
    """The WWW-Authenticate challenge (RFC 7235) of a 401: Basic in steppe's realm.

    bearer: name Bearer too (the TAXII server's challenge), else Basic's
    charset (the analyst API's). The two differ and are kept byte for byte.
    """
    if bearer:
        return f'Basic realm="{REALM}", Bearer realm="{REALM}"'
    return f'Basic realm="{REALM}", charset="UTF-8"'


def parse_authorization(header: str | None) -> tuple[str | None, str]:
    """(claimed partner name or None, key) from an Authorization header value.

    Raises ValueError with a sentence for the caller when the header is unusable.
    """
    if header is None or not header.strip():
        raise ValueError("no credentials were sent in the Authorization header")
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    scheme_key = scheme.lower()
    if scheme_key == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(
                "the Basic credentials in the Authorization header are not valid base64 "
                "of 'partner:key'"
            ) from None
        name, colon, key = decoded.partition(":")
        if not colon or not key:
            raise ValueError(
                "the Basic credentials in the Authorization header must be 'partner:key'"
            )
        return name, key
    if scheme_key in ("bearer", "token"):
        if not credentials:
            raise ValueError(f"the {scheme} credentials in the Authorization header are empty")
        return None, credentials
    raise ValueError(
        f"the Authorization header uses the scheme '{scheme}'; use one of {', '.join(SCHEMES)}"
    )


def identify(store: AccessStore, header: str | None) -> Caller:
    """The caller the header proves, or an anonymous Caller saying why not."""
    try:
        claimed_name, key = parse_authorization(header)
    except ValueError as problem:
        return Caller.anonymous(str(problem))
    partner_name = store.find_credential(hash_key(key))
    if partner_name is None:
        return Caller.anonymous(
            "the key in the Authorization header is not valid (unknown, rotated or revoked)"
        )
    if claimed_name is not None and claimed_name != partner_name:
        return Caller.anonymous(
            f"the key in the Authorization header does not belong to '{claimed_name}'"
        )
    partner = store.get_partner(partner_name)
    if partner is None:
        return Caller.anonymous("the key in the Authorization header belongs to no partner")
    return Caller(
        partner=partner.name,
        role=partner.role,
        clearance=partner.tlp_clearance,
        can_read=partner.can_read,
        can_write=partner.can_write,
        identity_id=partner.identity_id,
        partner_id=partner.id,
    )
