"""API keys: generated with 256 bits of randomness, stored only as a hash.

A SHA-256 digest is the right hash here: the keys are random, not chosen by
people, so there is nothing for a slow password hash to protect against, and
the authorizer runs on every request.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "stp_"
# A feed's token travels in its URL; its own prefix tells a leaked one apart from an API key.
FEED_TOKEN_PREFIX = "stf_"


def generate_key(prefix: str = KEY_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
