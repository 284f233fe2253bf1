"""Push destinations: the kinds, what each needs, and a webhook's signing key.

A destination receives new, changed and revoked indicators of its
collections up to its TLP clearance (steppe.lifecycle.push_delivery sends
them). Each kind has required settings, kept as they are, and a secret:

* webhook: `url`. Its secret is the HMAC key steppe generates (`whk_` and
  32 random bytes), shown once when the destination is added or rotated.
* sentinel: `tenant_id`, `client_id`, `workspace_id` (GUIDs, as the Azure
  portal shows them) and the Entra application's client secret, given by
  the administrator and never shown again. `login_url` and `api_url`
  optionally replace Microsoft's endpoints (a sovereign cloud, or a test
  server); `source_system` names steppe in Sentinel (default "steppe").

URLs are https. Plain http is accepted only for a loopback host
(127.0.0.1, ::1, localhost): a relay on the same machine, or a test server;
anything else would send indicators and signatures in the clear.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from steppe.access.credentials import generate_key
from steppe.errors import InvalidInput, NotFound
from steppe.stix import tlp
from steppe.stix.timestamps import now_micros
from steppe.store.port import Destination, DestinationStore

KINDS = ("sentinel", "webhook")
PUSH_TYPES = ("indicator",)
DEFAULT_TLP = "green"
WEBHOOK_KEY_PREFIX = "whk_"
MAX_URL = 2000
MAX_SECRET = 1000

# Per kind: the settings it requires, and those it accepts besides.
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "webhook": ("url",),
    "sentinel": ("tenant_id", "client_id", "workspace_id"),
}
OPTIONAL_SETTINGS: dict[str, tuple[str, ...]] = {
    "webhook": (),
    "sentinel": ("login_url", "api_url", "source_system"),
}
_GUID_SETTINGS = frozenset({"tenant_id", "client_id", "workspace_id"})
_URL_SETTINGS = frozenset({"url", "login_url", "api_url"})
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class IssuedDestination:
    """A destination as added or rotated; `shown_secret` is the webhook key, shown once.

    None for Sentinel, whose secret the administrator gave and steppe never shows.
    """

    destination: Destination
    shown_secret: str | None


def url_problem(url: str) -> str | None:
    """Why `url` cannot receive pushes, or None when it can."""
    if len(url) > MAX_URL:
        return f"a URL is at most {MAX_URL} characters"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "a URL has no spaces or control characters (percent-encode them)"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as problem:
        return f"'{url}' is not a URL: {problem}"
    if parts.scheme not in ("https", "http") or not host:
        return f"'{url}' is not an https URL"
    if parts.username or parts.password:
        return "a URL carries no credentials; the destination's secret authenticates"
    if parts.scheme == "http" and not _loopback(host):
        return f"'{url}' must be https (plain http only to 127.0.0.1, ::1 or localhost)"
    return None


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_settings(kind: str, settings: Mapping[str, str | None]) -> dict[str, str]:
    """The settings a `kind` destination keeps; InvalidInput naming the field at fault."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not '{kind}'", where="kind")
    allowed = REQUIRED_SETTINGS[kind] + OPTIONAL_SETTINGS[kind]
    kept: dict[str, str] = {}
    for key, value in settings.items():
        if value is None:
            continue
        if key not in allowed:
            raise InvalidInput(
                f"a {kind} destination takes no '{key}'; it takes {', '.join(allowed)}", where=key
            )
        if key in _URL_SETTINGS:
            problem = url_problem(value)
            if problem is not None:
                raise InvalidInput(problem, where=key)
        if key in _GUID_SETTINGS:
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                raise InvalidInput(
                    f"{key} is a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47", where=key
                ) from None
        kept[key] = value
    for key in REQUIRED_SETTINGS[kind]:
        if key not in kept:
            raise InvalidInput(f"a {kind} destination needs {key}", where=key)
    return kept


def add_destination(
    destinations: DestinationStore,
    name: str,
    kind: str,
    *,
    collections: Iterable[str],
    settings: Mapping[str, str | None],
    client_secret: str | None = None,
    clearance: str = DEFAULT_TLP,
    types: Iterable[str] | None = None,
) -> IssuedDestination:
    """Create a destination with a new id. Conflict if the name is taken.

    collections are ids that exist (the administration service resolves them).
    """
    kept = check_settings(kind, settings)
    chosen = frozenset(PUSH_TYPES if types is None else types)
    unknown = sorted(chosen - set(PUSH_TYPES))
    if unknown or not chosen:
        refused = ", ".join(unknown) or "nothing"
        raise InvalidInput(
            f"a destination receives {', '.join(PUSH_TYPES)}, not {refused}", where="types"
        )
    secret, shown = _secret(kind, client_secret)
    destination = Destination(
        id=str(uuid.uuid4()),
        name=name,
        kind=kind,
        collections=frozenset(collections),
        tlp_clearance=tlp.level(clearance).rank,
        types=chosen,
        settings=kept,
        secret=secret,
        created=now_micros(),
    )
    destinations.create_destination(destination)
    return IssuedDestination(destination, shown)


def _secret(kind: str, client_secret: str | None) -> tuple[str, str | None]:
    """The secret to keep, and what to show once (the webhook key, never a Sentinel secret)."""
    if kind == "webhook":
        if client_secret is not None:
            raise InvalidInput(
                "a webhook destination takes no client_secret; steppe generates its key",
                where="client_secret",
            )
        key = generate_key(WEBHOOK_KEY_PREFIX)
        return key, key
    if not client_secret or not client_secret.strip():
        raise InvalidInput(
            "a sentinel destination needs the Entra application's client_secret",
            where="client_secret",
        )
    if len(client_secret) > MAX_SECRET:
        raise InvalidInput(
            f"a client_secret is at most {MAX_SECRET} characters", where="client_secret"
        )
    return client_secret, None


def get_destination(destinations: DestinationStore, name: str) -> Destination:
    destination = destinations.get_destination_by_name(name)
    if destination is None:
        raise NotFound(f"there is no push destination named '{name}'", where="name")
    return destination


def rotate_secret(
    destinations: DestinationStore, name: str, client_secret: str | None = None
) -> IssuedDestination:
    """A webhook: a new key (shown once). Sentinel: the new client secret given."""
    destination = get_destination(destinations, name)
    secret, shown = _secret(destination.kind, client_secret)
    rotated = destinations.set_destination_secret(destination.id, secret)
    if rotated is None:
        raise NotFound(f"there is no push destination named '{name}'", where="name")
    return IssuedDestination(rotated, shown)


def remove_destination(destinations: DestinationStore, name: str) -> Destination:
    destination = get_destination(destinations, name)
    removed = destinations.delete_destination(destination.id)
    if removed is None:
        raise NotFound(f"there is no push destination named '{name}'", where="name")
    return removed
