"""Managing partners and their keys: what the administration service (and bootstrap) call."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from steppe.access.caller import ROLES
from steppe.access.credentials import generate_key, hash_key
from steppe.errors import Conflict, InvalidInput, NotFound
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id, partner_identity_id
from steppe.stix.timestamps import now_micros
from steppe.store.port import AccessStore, Partner

# Default clearance per role: staff see everything; outside partners start at GREEN.
DEFAULT_CLEARANCE = {"admin": tlp.RED.rank, "analyst": tlp.RED.rank, "partner": tlp.GREEN.rank}


# Partner names: they appear in URLs (/api/v1/admin/partners/<name>), in Basic
# credentials (so no ':'), on the command line (so no leading '-') and in JSON.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
MAX_NAME = 64
# Words that read as "no value" in JSON, Python or JavaScript: a partner named
# "None" or "null" is a bug waiting in every report and log that shows it.
RESERVED_NAMES = frozenset({"none", "null", "nil", "undefined", "true", "false", "nan"})
_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    partner: Partner
    key: str  # shown once, never stored


def name_problem(name: object, noun: str = "partner") -> str | None:
    """Why `name` cannot name a new partner (or feed: `noun`), or None when it can."""
    if not isinstance(name, str) or not _NAME.match(name):
        return (
            f"a {noun} name is 1 to {MAX_NAME} letters, digits and '.', '-', '_', '@', "
            "starting with a letter or digit"
        )
    if name.lower() in RESERVED_NAMES:
        return f"'{name}' is a reserved word and cannot name a {noun}"
    return None


def _check_name(name: str) -> str:
    problem = name_problem(name)
    if problem is not None:
        raise InvalidInput(problem, where="name")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not '{role}'", where="role")
    return role


def add_partner(
    access: AccessStore,
    name: str,
    role: str,
    *,
    org_name: str,
    clearance: str | None = None,
    can_read: Iterable[str] = (),
    can_write: Iterable[str] = (),
    key: str | None = None,
) -> IssuedKey:
    """Create a partner and issue its first key. Conflict if the name is taken.

    can_read and can_write are collection ids that exist: the administration
    service resolves what an administrator typed into them first.
    """
    name = _check_name(name)
    role = _check_role(role)
    if access.get_partner(name) is not None:
        raise Conflict(f"a partner named '{name}' already exists", where="name")
    rank = DEFAULT_CLEARANCE[role] if clearance is None else _rank(clearance)
    partner_id = str(uuid.uuid4())
    identity = _identity(role, partner_id, org_name)
    partner = Partner(
        name=name,
        role=role,  # type: ignore[arg-type]
        tlp_clearance=rank,
        can_read=frozenset(can_read),
        can_write=frozenset(can_write),
        created=now_micros(),
        identity_id=identity,
        id=partner_id,
    )
    access.put_partner(partner)
    issued = key or generate_key()
    access.add_credential(hash_key(issued), name, now_micros())
    return IssuedKey(partner, issued)


def update_partner(
    access: AccessStore,
    name: str,
    *,
    org_name: str | None = None,
    role: str | None = None,
    clearance: str | None = None,
    can_read: Iterable[str] | None = None,
    can_write: Iterable[str] | None = None,
) -> Partner:
    """Change what is given; the id never changes.

    With org_name, a change of role also changes the STIX identity the partner
    writes as: staff write as the organisation, partners as themselves.
    """
    partner = get_partner(access, name)
    changes: dict[str, object] = {}
    if role is not None:
        changes["role"] = _check_role(role)
        if org_name is not None and role != partner.role:
            changes["identity_id"] = _identity(role, partner.id, org_name)
    if clearance is not None:
        changes["tlp_clearance"] = _rank(clearance)
    if can_read is not None:
        changes["can_read"] = frozenset(can_read)
    if can_write is not None:
        changes["can_write"] = frozenset(can_write)
    updated = replace(partner, **changes)  # type: ignore[arg-type]
    access.put_partner(updated)
    return updated


def _identity(role: str, partner_id: str, org_name: str) -> str:
    return (
        org_identity_id(org_name)
        if role in ("admin", "analyst")
        else partner_identity_id(partner_id)
    )


def get_partner(access: AccessStore, name: str) -> Partner:
    partner = access.get_partner(name)
    if partner is None:
        raise NotFound(f"there is no partner named '{name}'", where="name")
    return partner


def rotate_key(access: AccessStore, name: str) -> IssuedKey:
    """Issue a new key and revoke every older one, effective on the next request."""
    partner = get_partner(access, name)
    issued = generate_key()
    new_hash = hash_key(issued)
    access.add_credential(new_hash, name, now_micros())
    access.remove_credentials(name, keep=[new_hash])
    return IssuedKey(partner, issued)


def revoke(access: AccessStore, name: str) -> int:
    """Revoke every key of the partner (the partner record stays); returns how many."""
    get_partner(access, name)
    return access.remove_credentials(name)


def _rank(name: str) -> int:
    try:
        return tlp.level(name).rank
    except ValueError as problem:
        raise InvalidInput(str(problem), where="tlp") from None
