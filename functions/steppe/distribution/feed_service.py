"""Serving a feed: authenticate its token, select its entries, render them, answer conditionally.

What a feed may serve is decided here, once, for every format:

* entries of the feed's collections only, at or below its TLP clearance, of
  its types, active (not retired, not expired) and scored at or above its
  minimum (steppe.store.port.feed_index selects them by index);
* never a value declared a false positive, whenever it was declared;
* one line per value (the best-scored indicator of it), highest score first,
  at most max_entries: the rest is cut and the answer says so.

A rendering is kept as blobs under the feed's id, named by its ETag, with a
small state record. It is current while the generations of the feed's
collections (which move whenever an entry changes or is rescored) and the
feed's definition are unchanged, and until the first selected entry expires.
Renderings are made off the request path: the `render_feeds` schedule (every
minute) renders every feed whose rendering is no longer current, so a
request costs a feed read, one generation read per collection and the state
record, whatever the store holds; an If-None-Match that matches is a 304
without a body read, otherwise the kept bytes are served. A request renders
only when there is no rendering yet, or when the kept one is older than
`stale_after` and the feed holds few enough entries to render within a
request (INLINE_ENTRIES); so a feed lags the store by about a minute at most.
Scores are those of the last decay run (steppe.distribution.decay_job).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from steppe.access.credentials import hash_key
from steppe.access.feed_definitions import FILES
from steppe.errors import NotFound
from steppe.feed_formats.entries import FeedEntry, FeedInfo
from steppe.feed_formats.format_table import FORMATS, FeedFormat
from steppe.stix import tlp
from steppe.stix.timestamps import now_micros
from steppe.store.latest import latest_versions
from steppe.store.port import BlobStore, FalsePositiveStore, Feed, FeedStore, ObjectStore
from steppe.store.port.feed_index import FeedIndex, FeedIndexEntry, FeedSelection

# How long a removed value stays in a MISP feed as `deleted`: MISP keeps
# attributes a feed stops listing, so it must see the removal at least once.
RETIRED_WINDOW_US = 30 * 86_400 * 1_000_000
MAX_RETIRED = 10_000
_RENDER_VERSION = "1"  # part of every ETag: a change of renderers renders again
# Feeds up to this many entries may be rendered by a request (about a second);
# larger ones only by the schedule: a request must end well inside API Gateway's 29 s.
INLINE_ENTRIES = 25_000
# Below this many declared false positives, all are read at once and matched in memory.
_FALSE_POSITIVES_AT_ONCE = 10_000
_FOREVER = 2**62


@dataclass(frozen=True, slots=True)
class FeedAnswer:
    """What a feed request gets: a body (status 200) or not-modified (304)."""

    status: int
    etag: str
    last_modified: int  # µs
    media_type: str
    body: bytes | None
    truncated: bool
    total: int  # entries served


@dataclass(frozen=True, slots=True)
class _Rendering:
    signature: str
    etag: str
    valid_until: int  # µs: the first expiry among what it selected
    last_modified: int
    rendered_at: int
    truncated: bool
    total: int
    files: tuple[str, ...]

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "signature": self.signature,
                "etag": self.etag,
                "valid_until": self.valid_until,
                "last_modified": self.last_modified,
                "rendered_at": self.rendered_at,
                "truncated": self.truncated,
                "total": self.total,
                "files": list(self.files),
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> _Rendering | None:
        try:
            raw = orjson.loads(data)
            return cls(
                raw["signature"],
                raw["etag"],
                int(raw["valid_until"]),
                int(raw["last_modified"]),
                int(raw["rendered_at"]),
                bool(raw["truncated"]),
                int(raw["total"]),
                tuple(raw["files"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None


def _state_key(feed_id: str) -> str:
    return f"feed-renders/{feed_id}/state.json"


def _file_key(feed_id: str, etag: str, path: str) -> str:
    return f"feed-renders/{feed_id}/{etag}/{path.replace('/', '_')}"


class FeedService:
    """Feeds as firewalls, sensors and MISP fetch them."""

    def __init__(
        self,
        *,
        feeds: FeedStore,
        index: FeedIndex,
        false_positives: FalsePositiveStore,
        objects: ObjectStore,
        blobs: BlobStore,
        org_name: str = "steppe",
        stale_after: int = 60_000_000,
    ) -> None:
        self.stale_after = stale_after  # µs
        self.feeds = feeds
        self.index = index
        self.false_positives = false_positives
        self.objects = objects
        self.blobs = blobs
        self.org_name = org_name

    # -- authentication ------------------------------------------------------

    def authenticate(self, feed_id: str, token: str) -> Feed:
        """The feed whose id and token these are; NotFound otherwise (never saying which)."""
        feed = self.feeds.get_feed(feed_id) if _plausible_id(feed_id) else None
        given = hash_key(token)
        expected = feed.token_hash if feed is not None else hash_key("")
        if feed is None or not hmac.compare_digest(given, expected):
            raise NotFound("no such feed", where="path")
        return feed

    # -- serving ---------------------------------------------------------------

    def serve(
        self,
        feed: Feed,
        path: str,
        if_none_match: str | None = None,
        now: int | None = None,
    ) -> FeedAnswer:
        """One file of the feed (`path`: its file name, "" for the feed's own file).

        NotFound if the feed has no such file.
        """
        now = now_micros() if now is None else now
        feed_format = FORMATS[feed.format]
        path = path or FILES[feed.format] or "manifest.json"
        media_type = _media_type(feed_format, path)
        rendering = self._current(feed, now)
        if path not in rendering.files:
            raise NotFound(f"the feed has no file '{path}'", where="path")
        if if_none_match is not None and _matches(if_none_match, rendering.etag):
            return FeedAnswer(
                304,
                rendering.etag,
                rendering.last_modified,
                media_type,
                None,
                rendering.truncated,
                rendering.total,
            )
        body = self.blobs.get(_file_key(feed.id, rendering.etag, path))
        if body is None:  # removed under us: render again, once
            rendering = self._render(feed, now, self._signature(feed))
            body = self.blobs.get(_file_key(feed.id, rendering.etag, path)) or b""
        return FeedAnswer(
            200,
            rendering.etag,
            rendering.last_modified,
            media_type,
            body,
            rendering.truncated,
            rendering.total,
        )

    def entries(self, feed: Feed, now: int | None = None) -> tuple[list[FeedEntry], bool]:
        """The entries the feed serves now, highest score first, and whether the cap cut some."""
        now = now_micros() if now is None else now
        selected, truncated, _ = self._select(feed, now)
        return [_feed_entry(entry) for entry in selected], truncated

    # -- renderings --------------------------------------------------------------

    def render_stale(self, now: int | None = None) -> list[str]:
        """Render every feed whose kept rendering is not current; the names of those rendered."""
        now = now_micros() if now is None else now
        rendered = []
        for feed in self.feeds.list_feeds():
            signature = self._signature(feed)
            kept = self._kept(feed)
            if kept is None or kept.signature != signature or now >= kept.valid_until:
                self._render(feed, now, signature)
                rendered.append(feed.name)
        return rendered

    def _kept(self, feed: Feed) -> _Rendering | None:
        state = self.blobs.get(_state_key(feed.id))
        return _Rendering.from_json(state) if state is not None else None

    def _current(self, feed: Feed, now: int) -> _Rendering:
        signature = self._signature(feed)
        kept = self._kept(feed)
        if kept is None:
            return self._render(feed, now, signature)
        if kept.signature == signature and now < kept.valid_until:
            return kept
        if now - kept.rendered_at < self.stale_after or kept.total > INLINE_ENTRIES:
            return kept  # the schedule renders it again within the minute
        return self._render(feed, now, signature)

    def _signature(self, feed: Feed) -> str:
        generations = self.index.feed_generations(sorted(feed.collections))
        parts = [
            _RENDER_VERSION,
            feed.id,
            feed.name,
            feed.format,
            ",".join(sorted(feed.collections)),
            str(feed.tlp_clearance),
            ",".join(sorted(feed.types)),
            str(feed.min_score),
            str(feed.max_entries),
            *(f"{c}={g.counter}" for c, g in sorted(generations.items())),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def _render(self, feed: Feed, now: int, signature: str) -> _Rendering:
        feed_format = FORMATS[feed.format]
        selected, truncated, valid_until = self._select(feed, now)
        entries = [_feed_entry(entry) for entry in selected]
        generations = self.index.feed_generations(sorted(feed.collections))
        last_modified = max((g.changed_at for g in generations.values()), default=0) or feed.created
        info = FeedInfo(feed.name, now, len(entries), truncated)
        files: dict[str, bytes]
        if feed_format.render_objects is not None:
            files = {feed_format.file_name: feed_format.render_objects(self._bodies(selected))}
        elif feed.format == "misp":
            retired = self._retired(feed, now)
            # a removal is announced for RETIRED_WINDOW_US: the rendering changes when one ends
            valid_until = min(
                [valid_until, *(e.retired_at + RETIRED_WINDOW_US for e in retired if e.retired_at)]
            )
            assert feed_format.render_files is not None
            files = dict(feed_format.render_files([*entries, *retired], info))
        elif feed_format.render_files is not None:
            files = dict(feed_format.render_files(entries, info))
        else:
            assert feed_format.render is not None
            files = {feed_format.file_name: feed_format.render(entries, info)}
        digest = hashlib.sha256(signature.encode())
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name])
        etag = digest.hexdigest()[:40]
        before = self._kept(feed)
        for name, data in files.items():
            self.blobs.put(_file_key(feed.id, etag, name), data, _media_type(feed_format, name))
        rendering = _Rendering(
            signature, etag, valid_until, last_modified, now, truncated, len(entries), tuple(files)
        )
        self.blobs.put(_state_key(feed.id), rendering.to_json(), "application/json")
        if before is not None and before.etag != etag:
            # The superseded rendering's files: a request still reading them renders
            # again (serve), so nothing waits for them.
            for name in before.files:
                self.blobs.delete(_file_key(feed.id, before.etag, name))
        return rendering

    def _selection(self, feed: Feed) -> FeedSelection:
        types = feed.types or frozenset(FORMATS[feed.format].types)
        return FeedSelection(
            frozenset(feed.collections), frozenset(types), feed.tlp_clearance, feed.min_score
        )

    def _select(self, feed: Feed, now: int) -> tuple[list[FeedIndexEntry], bool, int]:
        """The best entry per value, up to max_entries; whether more remained; the first
        instant at which the selection would change by time alone."""
        selection = self._selection(feed)
        wanted = feed.max_entries
        limit = wanted + 1
        while True:
            rows = self.index.select_feed_entries(selection, now, limit)
            best: dict[str, FeedIndexEntry] = {}
            for row in rows:  # highest score first: the first of a value is its best
                best.setdefault(row.key, row)
            declared = self._declared(best)
            chosen = [row for key, row in best.items() if key not in declared]
            exhausted = len(rows) < limit
            if len(chosen) > wanted or exhausted:
                break
            limit *= 2
        truncated = len(chosen) > wanted
        chosen = chosen[:wanted]
        valid_until = min((row.expires_at for row in chosen), default=_FOREVER)
        return chosen, truncated, valid_until

    def _declared(self, keys: Mapping[str, object]) -> set[str] | dict[str, object]:
        """The keys among `keys` declared false positives."""
        everything = self.false_positives.list_false_positives(_FALSE_POSITIVES_AT_ONCE + 1)
        if len(everything) <= _FALSE_POSITIVES_AT_ONCE:
            return {entry.key for entry in everything}
        return dict(self.false_positives.find_false_positives(sorted(keys)))

    def _retired(self, feed: Feed, now: int) -> list[FeedEntry]:
        selection = self._selection(feed)
        rows = self.index.retired_feed_entries(selection, now - RETIRED_WINDOW_US, MAX_RETIRED)
        return [_feed_entry(row) for row in rows]

    def _bodies(self, selected: Sequence[FeedIndexEntry]) -> list[dict[str, Any]]:
        """The stored current version of each selected indicator, in the selection's order."""
        by_collection: dict[str, list[str]] = {}
        for row in selected:
            by_collection.setdefault(row.collection_id, []).append(row.indicator_id)
        bodies: dict[tuple[str, str], dict[str, Any]] = {}
        for collection_id, ids in by_collection.items():
            for object_id, record in latest_versions(self.objects, collection_id, ids).items():
                if record.body is not None:
                    bodies[(collection_id, object_id)] = orjson.loads(record.body)
        return [
            bodies[(row.collection_id, row.indicator_id)]
            for row in selected
            if (row.collection_id, row.indicator_id) in bodies
        ]


_TLP_NAMES = {level.rank: level.name for level in tlp.LEVELS}


def _feed_entry(row: FeedIndexEntry) -> FeedEntry:
    get = orjson.loads(row.detail).get
    return FeedEntry(
        row.value,
        row.type,
        row.score,
        row.indicator_id,
        get("hash_algorithm"),
        get("confidence"),
        get("first_seen"),
        get("last_seen"),
        get("valid_until"),
        get("campaign"),
        get("campaign_id"),
        get("source"),
        get("kind"),
        _TLP_NAMES.get(row.tlp),
        row.retired_at,
    )


def _media_type(feed_format: FeedFormat, path: str) -> str:
    if path in feed_format.file_media_types:
        return feed_format.file_media_types[path]
    if path == feed_format.file_name:
        return feed_format.media_type
    if path.endswith(".json"):
        return "application/json"
    if path.endswith(".csv"):
        return "text/csv; charset=utf-8"
    return feed_format.media_type


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(tag.removeprefix("W/").strip('"') == etag for tag in tags)


def _plausible_id(feed_id: str) -> bool:
    return 0 < len(feed_id) <= 64 and all(c in "0123456789abcdef-" for c in feed_id)
