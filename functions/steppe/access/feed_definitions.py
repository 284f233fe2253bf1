"""Feed definitions: the formats, what each carries, and a feed's secret token.

A feed is served at `<base>/feeds/<feed id>/<token>/<file>`: firewalls often
cannot send headers, so the secret is in the path. The token is generated
here, shown once (when the feed is added or its token rotated) and stored
only as its hash (steppe.access.credentials).

What each format's URL ends with (FILES): the file a consumer is pointed at.
A MISP feed is a directory (MISP's fetcher reads `manifest.json`,
`hashes.csv` and one `<event uuid>.json` per event under the URL it is
given), so its URL ends with the directory; a Suricata IP reputation feed is
two files, `categories.txt` beside `reputation.list`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from steppe.access.credentials import FEED_TOKEN_PREFIX, generate_key, hash_key
from steppe.errors import InvalidInput, NotFound
from steppe.feed_formats import format_table
from steppe.stix import tlp
from steppe.stix.timestamps import now_micros
from steppe.store.port import Feed, FeedStore

# The observable types a feed may carry, in the order they are listed.
FEED_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr")

# The types each format can express, and what its URL ends with: read from the
# one table of formats (steppe.feed_formats.format_table).
FORMATS: dict[str, tuple[str, ...]] = {
    name: tuple(t for t in FEED_TYPES if t in feed_format.types)
    for name, feed_format in format_table.FORMATS.items()
}
FILES: dict[str, str] = {
    name: feed_format.file_name for name, feed_format in format_table.FORMATS.items()
}

DEFAULT_TLP = "green"
DEFAULT_MIN_SCORE = 0
DEFAULT_MAX_ENTRIES = 100_000
MAX_ENTRIES = 1_000_000


@dataclass(frozen=True, slots=True)
class IssuedFeed:
    """A feed with its token: what adding a feed or rotating its token returns, once."""

    feed: Feed
    token: str  # never stored

    def url(self, base: str) -> str:
        return feed_url(base, self.feed, self.token)


def feed_url(base: str, feed: Feed, token: str) -> str:
    # A MISP feed's URL is its directory without a trailing slash: MISP adds
    # "/manifest.json" to what it is given.
    return f"{base.rstrip('/')}/feeds/{feed.id}/{token}/{FILES[feed.format]}".rstrip("/")


def types_problem(format_name: str, types: Sequence[str]) -> str | None:
    """Why a feed of `format_name` cannot carry `types`, or None when it can."""
    supported = FORMATS[format_name]
    unsupported = [t for t in types if t not in supported]
    if unsupported:
        return (
            f"a {format_name} feed cannot carry {', '.join(unsupported)}; "
            f"it carries {', '.join(supported)}"
        )
    try:
        format_table.check_feed_types(format_name, types)
    except ValueError as problem:
        return str(problem)
    return None


def add_feed(
    feeds: FeedStore,
    name: str,
    format_name: str,
    *,
    collections: Iterable[str],
    clearance: str = DEFAULT_TLP,
    types: Iterable[str] | None = None,
    min_score: int = DEFAULT_MIN_SCORE,
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> IssuedFeed:
    """Create a feed with a new id and token. Conflict if the name is taken.

    collections are ids that exist (the administration service resolves what
    an administrator typed); the rest is checked by admin_models first.
    """
    if format_name not in FORMATS:
        raise InvalidInput(
            f"format must be one of {', '.join(FORMATS)}, not '{format_name}'", where="format"
        )
    chosen = FORMATS[format_name] if types is None else tuple(types)
    problem = types_problem(format_name, () if types is None else chosen)
    if problem is not None:
        raise InvalidInput(problem, where="types")
    token = generate_key(FEED_TOKEN_PREFIX)
    feed = Feed(
        id=str(uuid.uuid4()),
        name=name,
        format=format_name,
        collections=frozenset(collections),
        tlp_clearance=tlp.level(clearance).rank,
        types=frozenset(chosen),
        min_score=min_score,
        max_entries=max_entries,
        token_hash=hash_key(token),
        created=now_micros(),
    )
    feeds.create_feed(feed)
    return IssuedFeed(feed, token)


def get_feed(feeds: FeedStore, name: str) -> Feed:
    feed = feeds.get_feed_by_name(name)
    if feed is None:
        raise NotFound(f"there is no feed named '{name}'", where="name")
    return feed


def rotate_token(feeds: FeedStore, name: str) -> IssuedFeed:
    """A new token; the old URL stops working on its next request."""
    feed = get_feed(feeds, name)
    token = generate_key(FEED_TOKEN_PREFIX)
    rotated = feeds.set_feed_token(feed.id, hash_key(token))
    if rotated is None:
        raise NotFound(f"there is no feed named '{name}'", where="name")
    return IssuedFeed(rotated, token)


def remove_feed(feeds: FeedStore, name: str) -> Feed:
    feed = get_feed(feeds, name)
    removed = feeds.delete_feed(feed.id)
    if removed is None:
        raise NotFound(f"there is no feed named '{name}'", where="name")
    return removed
