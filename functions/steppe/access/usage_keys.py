"""Which usage key the authorizer names for a caller (README, "Per-partner throttling").

A partner's key is derived from its id, which never changes and is never
given again: API Gateway reads it from the authorizer alone, so it is an
index into the usage plans, not a secret, and needs no storage.
"""

from __future__ import annotations

from steppe.access.caller import Caller

PREFIX = "steppe-partner-"


def partner_usage_key(partner_id: str) -> str:
    return f"{PREFIX}{partner_id}"


def usage_key_of(caller: Caller, anonymous_key: str) -> str | None:
    """The caller's usage key; anonymous callers share one. None: no usage plans (embedded)."""
    if not anonymous_key:
        return None
    if caller.authenticated and caller.partner_id:
        return partner_usage_key(caller.partner_id)
    return anonymous_key
