"""The campaign graph: the campaigns a caller may see, linked by the evidence it may see.

Nodes are campaigns as the campaign listing shows them (their visible records
merged, steppe.access.visibility.visible_campaign); edges are what the campaign
view lists as `related` (steppe.correlate.related.visible_relations, the same
function), one per unordered pair and strength, between returned nodes only,
`source` < `target` by id.

Filters narrow the reader rather than the answer: `tlp` reads as if the caller
were cleared only up to that level, `collection` as if it read only those
collections, so a node's dates, targets and counts and an edge's evidence come
from what is left (a campaign seen at RED and at GREEN shows its GREEN facts
under `tlp=green`). `since` / `until` keep campaigns whose span meets the
window, `kind` those of the attack kinds named, `strength` the edges of those
strengths.

Bounded work: campaigns are read in id order, at most SCAN_RECORDS records,
and at most `limit` nodes (1..MAX_NODES) and MAX_EDGES edges are returned;
one campaign_links() call per node. `truncated` says when more were left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from steppe.access.visibility import Reader, visible_campaign, visible_collections
from steppe.correlate.evidence import EVIDENCE, ORDER
from steppe.correlate.lookup import describe_campaign, shared_display
from steppe.correlate.related import visible_relations
from steppe.errors import InvalidInput
from steppe.stix import tlp as tlp_levels
from steppe.stix.bounds import shown, whole_number
from steppe.stix.timestamps import TimestampError, parse_instant
from steppe.store.port import CampaignRecord, ObservableIndex

DEFAULT_NODES = 2_000
MAX_NODES = 5_000
MAX_EDGES = 20_000
SCAN_RECORDS = 50_000  # campaign records read at most per graph
PAGE = 1_000
EDGE_SHARED = 5  # shared values named per edge
DAY = 86_400_000_000
PARAMETERS = ("since", "until", "kind", "collection", "tlp", "strength", "limit")
REPEATABLE = frozenset({"kind", "collection", "strength"})
NODE_FIELDS = (
    "id",
    "name",
    "first_seen",
    "last_seen",
    "collection",
    "collections",
    "tlp",
    "producer",
    "kind",
    "values",
    "targets",
)


@dataclass(frozen=True, slots=True)
class GraphQuery:
    since: int | None = None  # campaigns last seen at or after (µs)
    until: int | None = None  # campaigns first seen at or before (µs)
    kinds: frozenset[str] = frozenset()  # empty: every kind
    collections: frozenset[str] = frozenset()  # empty: every collection the caller reads
    tlp: int | None = None  # the highest level shown
    strengths: frozenset[str] = frozenset(EVIDENCE)
    limit: int = DEFAULT_NODES

    def keeps(self, record: CampaignRecord) -> bool:
        if self.since is not None and record.last_seen < self.since:
            return False
        if self.until is not None and record.first_seen > self.until:
            return False
        return not self.kinds or record.kind in self.kinds


@dataclass(frozen=True, slots=True)
class _Narrowed:
    """The caller, reading only the collections and up to the level the filters name."""

    caller: Reader
    clearance: int
    collections: frozenset[str] = field(default_factory=frozenset)

    def may_read(self, collection_id: str) -> bool:
        if self.collections and collection_id not in self.collections:
            return False
        return self.caller.may_read(collection_id)


def _items(name: str, values: Sequence[str]) -> list[str]:
    items = [item.strip() for value in values for item in value.split(",")]
    items = [item for item in items if item]
    if not items:
        raise InvalidInput(f"the query parameter {name} is empty; give a value", where=name)
    return items


def _instant(name: str, text: str, end_of_day: bool) -> int:
    try:
        micros = parse_instant(text)
    except TimestampError as problem:
        raise InvalidInput(f"the query parameter {name}: {problem}", where=name) from None
    if end_of_day and len(text.strip()) == 10:  # a date alone: through the end of that day
        micros += DAY - 1
    return micros


def parse_graph_query(params: Mapping[str, Sequence[str]], kinds: Iterable[str]) -> GraphQuery:
    """The filters of a graph request (each parameter with every value it was given).

    InvalidInput naming the parameter for anything unknown, repeated where it may
    not be, or not a value it takes. `kinds`: the attack kinds that exist.
    """
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise InvalidInput(
            f"unknown query parameter '{unknown[0]}'; allowed: {', '.join(PARAMETERS)}",
            where=unknown[0] or "query",
        )
    for name, values in params.items():
        if name not in REPEATABLE and len(values) > 1:
            raise InvalidInput(f"the query parameter '{name}' is given more than once", where=name)
    single = {name: values[0] for name, values in params.items() if values}
    query: dict[str, Any] = {}
    if "since" in single:
        query["since"] = _instant("since", single["since"], end_of_day=False)
    if "until" in single:
        query["until"] = _instant("until", single["until"], end_of_day=True)
    if "since" in query and "until" in query and query["since"] > query["until"]:
        raise InvalidInput("since is later than until", where="since")
    known = sorted(kinds)
    if "kind" in params:
        wanted = _items("kind", params["kind"])
        bad = next((k for k in wanted if k not in known), None)
        if bad is not None:
            raise InvalidInput(
                f"kind {shown(bad)} is not an attack kind; use one of: {', '.join(known)}",
                where="kind",
            )
        query["kinds"] = frozenset(wanted)
    if "collection" in params:
        wanted = _items("collection", params["collection"])
        bad = next((c for c in wanted if not _collection_id(c)), None)
        if bad is not None:
            raise InvalidInput(
                f"collection {shown(bad)} is not a collection id (a UUID)", where="collection"
            )
        query["collections"] = frozenset(c.lower() for c in wanted)
    if "tlp" in single:
        try:
            # A "+" left unencoded in a query string arrives as a space.
            query["tlp"] = tlp_levels.level(single["tlp"].replace(" ", "+")).rank
        except ValueError:
            raise InvalidInput(
                f"tlp {shown(single['tlp'])} is not a TLP level; use one of: "
                f"{', '.join(tlp_levels.NAMES)}",
                where="tlp",
            ) from None
    if "strength" in params:
        wanted = _items("strength", params["strength"])
        bad = next((s for s in wanted if s not in EVIDENCE), None)
        if bad is not None:
            raise InvalidInput(
                f"strength {shown(bad)} is not a link strength; use any of: {', '.join(EVIDENCE)}",
                where="strength",
            )
        query["strengths"] = frozenset(wanted)
    if "limit" in single:
        try:
            query["limit"] = whole_number(single["limit"], 1, MAX_NODES)
        except ValueError as problem:
            raise InvalidInput(f"the query parameter limit {problem}", where="limit") from None
    return GraphQuery(**query)


def _collection_id(text: str) -> bool:
    parts = text.split("-")
    return (
        len(text) == 36
        and [len(p) for p in parts] == [8, 4, 4, 4, 12]
        and all(c in "0123456789abcdefABCDEF" for p in parts for c in p)
    )


class CampaignGraph:
    """Built by steppe.runtime.campaign_graph from the one port it reads."""

    def __init__(self, *, index: ObservableIndex) -> None:
        self.index = index

    def graph(self, caller: Reader, query: GraphQuery) -> dict[str, Any]:
        clearance = caller.clearance if query.tlp is None else min(caller.clearance, query.tlp)
        reader = _Narrowed(caller, clearance, query.collections)
        nodes, truncated = self._nodes(reader, query)
        edges: list[dict[str, Any]] = []
        for campaign_id in nodes:
            if truncated and len(edges) >= MAX_EDGES:
                break
            for relation in visible_relations(reader, self.index.campaign_links(campaign_id)):
                other = relation.other_id
                if other <= campaign_id or other not in nodes:
                    continue
                if relation.strength not in query.strengths:
                    continue
                if len(edges) >= MAX_EDGES:
                    truncated = True
                    break
                edges.append(
                    {
                        "source": campaign_id,
                        "target": other,
                        "strength": relation.strength,
                        "evidence": EVIDENCE[relation.strength],
                        "confidence": relation.confidence,
                        "count": relation.count,
                        "shared": [shared_display(k) for k in relation.sample[:EDGE_SHARED]],
                    }
                )
        edges.sort(key=lambda e: (e["source"], e["target"], ORDER[e["strength"]]))
        return {
            "nodes": list(nodes.values()),
            "edges": edges,
            "truncated": truncated,
            "counts": {"nodes": len(nodes), "edges": len(edges)},
        }

    def _nodes(self, reader: Reader, query: GraphQuery) -> tuple[dict[str, dict[str, Any]], bool]:
        """The campaigns shown, in id order, and whether more were left out."""
        nodes: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        read = 0
        while True:
            batch = self.index.list_campaigns(limit=PAGE, after=cursor)
            by_id: dict[str, list[CampaignRecord]] = {}
            for record in batch:
                by_id.setdefault(record.id, []).append(record)
            for campaign_id, records in by_id.items():
                record = visible_campaign(reader, records)
                if record is None or not query.keeps(record):
                    continue
                if len(nodes) >= query.limit:
                    return nodes, True
                described = describe_campaign(record, visible_collections(reader, records))
                described["values"] = record.values
                nodes[campaign_id] = {name: described[name] for name in NODE_FIELDS}
            read += len(batch)
            if len(batch) < PAGE:
                return nodes, False
            if read >= SCAN_RECORDS:
                return nodes, True
            cursor = batch[-1].id
