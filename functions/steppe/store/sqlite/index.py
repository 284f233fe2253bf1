"""The observable index on SQLite: value occurrences, groups, link evidence,
campaigns, their links and false positives (tables: schema.py, migrations 3
and 5: since 5, campaign records, group members, evidence and links are kept
per collection and TLP).

Every method is a fixed handful of statements whatever the number of rows it
touches (objects.py says why rows never go in or come out one sqlite3 step at
a time): many rows go in as one JSON array bound to one parameter and read
by json_each, and come out aggregated into one JSON value per statement.
Each statement reads by primary key or index, so its cost grows with what it
finds, not with the size of the index: find_values probes the
(key, first_seen) index once per key and stops after limit_per_key entries.

Writes of several statements run in one write transaction (Database.write);
single statements in their own implicit one (Database.write_one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter

import orjson

from steppe.store.port.campaigns import CampaignLink, CampaignRecord, EvidenceScope, Strength
from steppe.store.port.false_positives import FalsePositive
from steppe.store.port.index import GroupHit, GroupMember, IndexedValue, ObservableIndex
from steppe.store.sqlite.database import Database

# IndexedValue's fields, in its order: json_array(...) of these builds one.
_VALUE_COLUMNS = (
    "key, collection_id, object_id, campaign_id, source, producer, tlp, first_seen, last_seen"
)
_INSERT_VALUES = f"""
WITH new (row) AS MATERIALIZED (SELECT value FROM json_each(:rows))
INSERT OR IGNORE INTO value_index ({_VALUE_COLUMNS})
SELECT row ->> 0, row ->> 1, row ->> 2, row ->> 3, row ->> 4, row ->> 5, row ->> 6,
       row ->> 7, row ->> 8
FROM new
"""
# Per distinct key: its first :limit occurrences in index order ([] for a key
# that has none). The inner subquery runs once per key, on the index.
_FIND_VALUES = f"""
SELECT json_group_array((
    SELECT json_group_array(json_array({_VALUE_COLUMNS}))
    FROM (
        SELECT {_VALUE_COLUMNS} FROM value_index INDEXED BY value_index_by_first_seen
        WHERE key = k.value
        ORDER BY first_seen, collection_id, object_id, source
        LIMIT :limit
    )
))
FROM (SELECT DISTINCT value FROM json_each(:keys)) AS k
"""
# The campaign's occurrences of its first :limit occurrences' keys (after
# :after), with every other occurrence of the last of those keys.
_CAMPAIGN_VALUES = f"""
WITH page (key) AS (
    SELECT key FROM value_index
    WHERE campaign_id = :campaign {{after}}
    ORDER BY key, collection_id, object_id, source
    LIMIT :limit
)
SELECT json_group_array(json_array({_VALUE_COLUMNS}))
FROM value_index
WHERE campaign_id = :campaign {{after}} AND key <= (SELECT max(key) FROM page)
"""
_CAMPAIGN_VALUES_FIRST = _CAMPAIGN_VALUES.format(after="")
_CAMPAIGN_VALUES_AFTER = _CAMPAIGN_VALUES.format(after="AND key > :after")

# Group members: first the counts (members not stored yet, counted before they
# are inserted, in the same transaction), then the members themselves.
# :heads holds [group, campaign, collection, tlp] once per record;
# :members holds [group, campaign, collection, tlp, key] once per member.
_COUNT_GROUP_MEMBERS = """
WITH fresh (grp, campaign_id, collection_id, tlp, n) AS (
    SELECT m.value ->> 0, m.value ->> 1, m.value ->> 2, m.value ->> 3, count(*)
    FROM json_each(:members) AS m
    WHERE NOT EXISTS (
        SELECT 1 FROM group_record_members AS g
        WHERE g.grp = m.value ->> 0 AND g.campaign_id = m.value ->> 1
            AND g.collection_id = m.value ->> 2 AND g.tlp = m.value ->> 3
            AND g.key = m.value ->> 4
    )
    GROUP BY 1, 2, 3, 4
)
INSERT INTO group_records (grp, campaign_id, collection_id, tlp, members)
SELECT h.value ->> 0, h.value ->> 1, h.value ->> 2, h.value ->> 3, coalesce(f.n, 0)
FROM json_each(:heads) AS h
LEFT JOIN fresh AS f ON f.grp = h.value ->> 0 AND f.campaign_id = h.value ->> 1
    AND f.collection_id = h.value ->> 2 AND f.tlp = h.value ->> 3
WHERE true
ON CONFLICT (grp, campaign_id, collection_id, tlp) DO UPDATE SET
    members = members + excluded.members
"""
_INSERT_GROUP_MEMBERS = """
INSERT OR IGNORE INTO group_record_members (grp, campaign_id, collection_id, tlp, key)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(:members)
"""
_FIND_GROUPS = """
SELECT json_group_array(json_array(
    g.grp, g.campaign_id, g.collection_id, g.tlp, g.members,
    (
        SELECT json_group_array(key) FROM (
            SELECT key FROM group_record_members AS m
            WHERE m.grp = g.grp AND m.campaign_id = g.campaign_id
                AND m.collection_id = g.collection_id AND m.tlp = g.tlp
            ORDER BY key
            LIMIT :limit
        )
    )
))
FROM (SELECT DISTINCT value FROM json_each(:groups)) AS j
JOIN group_records AS g ON g.grp = j.value
"""

# Evidence per scope: :scopes holds [collections (JSON text), tlp] per scope.
_PAIR = "campaign_a = :a AND campaign_b = :b AND strength = :strength"
_COUNT_EVIDENCE = f"""
INSERT INTO evidence_counts (campaign_a, campaign_b, strength, collections, tlp, shared)
SELECT :a, :b, :strength, s.value ->> 0, s.value ->> 1, (
    SELECT count(*) FROM json_each(:keys) AS j
    WHERE NOT EXISTS (
        SELECT 1 FROM evidence_keys WHERE {_PAIR}
            AND collections = s.value ->> 0 AND tlp = s.value ->> 1 AND key = j.value
    )
)
FROM json_each(:scopes) AS s
WHERE true
ON CONFLICT (campaign_a, campaign_b, strength, collections, tlp)
DO UPDATE SET shared = shared + excluded.shared
"""
_INSERT_EVIDENCE = """
INSERT OR IGNORE INTO evidence_keys (campaign_a, campaign_b, strength, collections, tlp, key)
SELECT :a, :b, :strength, s.value ->> 0, s.value ->> 1, j.value
FROM json_each(:scopes) AS s, json_each(:keys) AS j
"""
_READ_EVIDENCE = """
SELECT json_group_array(json_array(
    c.collections, c.tlp, c.shared,
    (
        SELECT json_group_array(key) FROM (
            SELECT key FROM evidence_keys AS e
            WHERE e.campaign_a = :a AND e.campaign_b = :b AND e.strength = :strength
                AND e.collections = c.collections AND e.tlp = c.tlp
            ORDER BY key LIMIT :limit
        )
    )
))
FROM (SELECT DISTINCT value FROM json_each(:scopes)) AS s
JOIN evidence_counts AS c ON c.campaign_a = :a AND c.campaign_b = :b AND c.strength = :strength
    AND c.collections = s.value ->> 0 AND c.tlp = s.value ->> 1
"""

_LINK_COLUMNS = (
    "campaign_id, other_id, strength, shared, sample, confidence, relationship_id, "
    "collections, tlp, modified"
)
_PUT_LINK = f"INSERT OR REPLACE INTO scoped_links ({_LINK_COLUMNS}) VALUES ({', '.join('?' * 10)})"
_LINKS = """
SELECT json_group_array(json_array(
    campaign_id, other_id, strength, shared, json(sample), confidence, relationship_id,
    json(collections), tlp, modified
))
FROM scoped_links WHERE campaign_id = ?
"""

# CampaignRecord's fields in its order (targets as its JSON text).
_CAMPAIGN_COLUMNS = (
    "id, name, collection_id, tlp, producer, first_seen, last_seen, modified, value_count, "
    "targets, kind"
)
_CAMPAIGN_JSON = (
    "json_array(id, name, collection_id, tlp, producer, first_seen, last_seen, modified, "
    "value_count, json(targets), kind)"
)
# The merge of CampaignRecord: targets are merged in Python (their order), the
# rest here; the put reads and writes under the write lock.
_PUT_CAMPAIGN = f"""
INSERT INTO campaign_records ({_CAMPAIGN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id, collection_id, tlp) DO UPDATE SET
    name = excluded.name,
    producer = excluded.producer,
    first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen),
    modified = max(modified, excluded.modified),
    value_count = max(value_count, excluded.value_count),
    targets = excluded.targets,
    kind = CASE WHEN excluded.kind != '' THEN excluded.kind ELSE kind END
RETURNING {_CAMPAIGN_COLUMNS}
"""
_GET_CAMPAIGNS = f"""
SELECT json_group_array({_CAMPAIGN_JSON})
FROM campaign_records WHERE id IN (SELECT value FROM json_each(:ids))
"""
# The records of the first :limit records' campaigns (after :after), with every
# other record of the last of those campaigns.
_LIST_CAMPAIGNS = """
WITH page (id) AS (
    SELECT id FROM campaign_records {where} ORDER BY id, collection_id, tlp LIMIT :limit
)
SELECT json_group_array({json})
FROM campaign_records {where_and} id <= (SELECT max(id) FROM page)
"""
_LIST_CAMPAIGNS_FIRST = _LIST_CAMPAIGNS.format(json=_CAMPAIGN_JSON, where="", where_and="WHERE")
_LIST_CAMPAIGNS_AFTER = _LIST_CAMPAIGNS.format(
    json=_CAMPAIGN_JSON, where="WHERE id > :after", where_and="WHERE id > :after AND"
)

_FP_COLUMNS = "key, reason, analyst, created, json(collections), tlp"
_FIND_FALSE_POSITIVES = f"""
SELECT json_group_array(json_array({_FP_COLUMNS}))
FROM false_positives WHERE key IN (SELECT value FROM json_each(:keys))
"""
_LIST_FALSE_POSITIVES = f"""
SELECT json_group_array(json_array({_FP_COLUMNS}))
FROM (SELECT * FROM false_positives ORDER BY key LIMIT :limit)
"""

_value_order = attrgetter("first_seen", "collection_id", "object_id", "source")
_campaign_order = attrgetter("key", "collection_id", "object_id", "source")
_record_order = attrgetter("id", "collection_id", "tlp")


def _json(values: object) -> str:
    return orjson.dumps(values).decode()


def _pair(campaigns: tuple[str, str]) -> tuple[str, str]:
    first, second = campaigns
    return (first, second) if first <= second else (second, first)


def _false_positive(row: Sequence) -> FalsePositive:
    key, reason, analyst, created, collections, tlp = row
    return FalsePositive(key, reason, analyst, created, tuple(collections), tlp)


def _scopes(scopes: Iterable[EvidenceScope]) -> str:
    return _json([[_json(list(scope.collection_ids)), scope.tlp] for scope in scopes])


def _campaign(row: Sequence) -> CampaignRecord:
    cid, name, collection_id, tlp, producer, first, last, modified, count, targets, kind = row
    if isinstance(targets, str):
        targets = orjson.loads(targets)
    return CampaignRecord(
        id=cid,
        name=name,
        collection_id=collection_id,
        tlp=tlp,
        producer=producer,
        first_seen=first,
        last_seen=last,
        modified=modified,
        values=count,
        targets=tuple(targets),
        kind=kind,
    )


class SqliteIndex(ObservableIndex):
    """Every index port (ObservableIndex: occurrences, groups, campaign links, campaigns,
    false positives); mixed into SqliteStore."""

    _db: Database

    # -- value occurrences -------------------------------------------------------

    def index_values(self, values: Sequence[IndexedValue]) -> None:
        if not values:
            return
        # IndexedValue's fields are in _VALUE_COLUMNS order.
        self._db.write_one(_INSERT_VALUES, {"rows": _json([tuple(value) for value in values])})

    def find_values(
        self, keys: Sequence[str], limit_per_key: int = 1000
    ) -> dict[str, list[IndexedValue]]:
        if not keys or limit_per_key < 1:
            return {}
        [found] = (
            self._db.connection()
            .execute(_FIND_VALUES, {"keys": _json(list(keys)), "limit": limit_per_key})
            .fetchone()
        )
        result: dict[str, list[IndexedValue]] = {}
        for occurrences in orjson.loads(found):
            if not occurrences:
                continue
            entries = [IndexedValue(*row) for row in occurrences]
            entries.sort(key=_value_order)  # SQLite does not promise an aggregate's order
            result[entries[0].key] = entries
        return result

    def campaign_values(
        self, campaign_id: str, limit: int = 1000, after: str | None = None
    ) -> list[IndexedValue]:
        if limit < 1:
            return []
        params: dict[str, object] = {"campaign": campaign_id, "limit": limit}
        if after is None:
            sql = _CAMPAIGN_VALUES_FIRST
        else:
            sql, params["after"] = _CAMPAIGN_VALUES_AFTER, after
        [found] = self._db.connection().execute(sql, params).fetchone()
        entries = [IndexedValue(*row) for row in orjson.loads(found)]
        entries.sort(key=_campaign_order)
        return entries

    # -- CIDR prefix lengths -----------------------------------------------------

    def add_cidr_prefixes(self, family: str, prefixes: Iterable[int]) -> None:
        lengths = sorted({int(prefix) for prefix in prefixes})
        if not lengths:
            return
        self._db.write_one(
            "INSERT OR IGNORE INTO cidr_prefixes (family, prefix) "
            "SELECT :family, value FROM json_each(:prefixes)",
            {"family": family, "prefixes": _json(lengths)},
        )

    def cidr_prefixes(self) -> dict[str, frozenset[int]]:
        [found] = (
            self._db.connection()
            .execute("SELECT json_group_array(json_array(family, prefix)) FROM cidr_prefixes")
            .fetchone()
        )
        families: dict[str, set[int]] = {}
        for family, prefix in orjson.loads(found):
            families.setdefault(family, set()).add(prefix)
        return {family: frozenset(lengths) for family, lengths in families.items()}

    # -- groups ------------------------------------------------------------------

    def index_groups(self, members: Sequence[GroupMember]) -> None:
        if not members:
            return
        heads: dict[tuple[str, str, str, int], None] = {}
        unique: dict[tuple[str, str, str, int, str], None] = {}
        for member in members:
            head = (member.group, member.campaign_id, member.collection_id, member.tlp)
            heads[head] = None
            unique[(*head, member.key)] = None
        params = {"heads": _json(list(heads)), "members": _json(list(unique))}
        with self._db.write() as conn:
            conn.execute(_COUNT_GROUP_MEMBERS, params)
            conn.execute(_INSERT_GROUP_MEMBERS, {"members": params["members"]})

    def find_groups(
        self, groups: Sequence[str], limit_per_campaign: int = 50
    ) -> dict[str, list[GroupHit]]:
        if not groups:
            return {}
        [found] = (
            self._db.connection()
            .execute(
                _FIND_GROUPS, {"groups": _json(list(groups)), "limit": max(limit_per_campaign, 0)}
            )
            .fetchone()
        )
        hits: dict[str, list[GroupHit]] = {}
        for group, campaign_id, collection_id, tlp, count, keys in orjson.loads(found):
            hits.setdefault(group, []).append(
                GroupHit(group, campaign_id, collection_id, tlp, frozenset(keys), count)
            )
        for found_hits in hits.values():
            found_hits.sort(key=attrgetter("campaign_id", "collection_id", "tlp"))
        return hits

    # -- link evidence -----------------------------------------------------------

    def add_link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        keys: Iterable[str],
    ) -> None:
        unique = list(dict.fromkeys(keys))
        if not unique or not scopes:
            return
        a, b = _pair(campaigns)
        params = {
            "a": a,
            "b": b,
            "strength": strength,
            "keys": _json(unique),
            "scopes": _scopes(dict.fromkeys(scopes)),
        }
        with self._db.write() as conn:
            conn.execute(_COUNT_EVIDENCE, params)
            conn.execute(_INSERT_EVIDENCE, params)

    def link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        limit: int = 50,
    ) -> dict[EvidenceScope, tuple[int, list[str]]]:
        if not scopes:
            return {}
        a, b = _pair(campaigns)
        params = {
            "a": a,
            "b": b,
            "strength": strength,
            "limit": max(limit, 0),
            "scopes": _scopes(scopes),
        }
        [found] = self._db.connection().execute(_READ_EVIDENCE, params).fetchone()
        result: dict[EvidenceScope, tuple[int, list[str]]] = {}
        for collections, tlp, count, keys in orjson.loads(found):
            scope = EvidenceScope(tuple(orjson.loads(collections)), tlp)
            result[scope] = (count, sorted(keys))
        return result

    # -- campaign links ----------------------------------------------------------

    def put_campaign_links(self, links: Sequence[CampaignLink]) -> None:
        if not links:
            return
        rows = [
            (
                link.campaign_id,
                link.other_id,
                link.strength,
                link.count,
                _json(list(link.sample)),
                link.confidence,
                link.relationship_id,
                _json(list(link.collection_ids)),
                link.tlp,
                link.modified,
            )
            for link in links
        ]
        with self._db.write() as conn:
            conn.executemany(_PUT_LINK, rows)

    def campaign_links(self, campaign_id: str) -> list[CampaignLink]:
        [found] = self._db.connection().execute(_LINKS, (campaign_id,)).fetchone()
        links = []
        for row in orjson.loads(found):
            cid, other, strength, count, sample, confidence, rel, collections, tlp, modified = row
            links.append(
                CampaignLink(
                    campaign_id=cid,
                    other_id=other,
                    strength=strength,
                    count=count,
                    sample=tuple(sample),
                    confidence=confidence,
                    relationship_id=rel,
                    collection_ids=tuple(collections),
                    tlp=tlp,
                    modified=modified,
                )
            )
        links.sort(key=attrgetter("other_id", "strength", "collection_ids", "tlp"))
        return links

    # -- campaigns ---------------------------------------------------------------

    def put_campaign(self, campaign: CampaignRecord) -> CampaignRecord:
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT targets FROM campaign_records WHERE id = ? AND collection_id = ? "
                "AND tlp = ?",
                (campaign.id, campaign.collection_id, campaign.tlp),
            )
            stored = row.fetchone()
            targets = list(campaign.targets)
            if stored is not None:  # the union, the stored targets first
                known = orjson.loads(stored[0])
                seen = frozenset(known)
                targets = known + [target for target in targets if target not in seen]
            rows = conn.execute(
                _PUT_CAMPAIGN,
                (
                    campaign.id,
                    campaign.name,
                    campaign.collection_id,
                    campaign.tlp,
                    campaign.producer,
                    campaign.first_seen,
                    campaign.last_seen,
                    campaign.modified,
                    campaign.values,
                    _json(list(dict.fromkeys(targets))),
                    campaign.kind,
                ),
            ).fetchall()
        return _campaign(rows[0])

    def get_campaign(self, campaign_id: str) -> list[CampaignRecord]:
        return self.get_campaigns([campaign_id]).get(campaign_id, [])

    def get_campaigns(self, campaign_ids: Iterable[str]) -> dict[str, list[CampaignRecord]]:
        ids = list(dict.fromkeys(campaign_ids))
        if not ids:
            return {}
        [found] = self._db.connection().execute(_GET_CAMPAIGNS, {"ids": _json(ids)}).fetchone()
        records = sorted((_campaign(row) for row in orjson.loads(found)), key=_record_order)
        by_id: dict[str, list[CampaignRecord]] = {}
        for record in records:
            by_id.setdefault(record.id, []).append(record)
        return by_id

    def list_campaigns(self, limit: int = 100, after: str | None = None) -> list[CampaignRecord]:
        if limit < 1:
            return []
        params: dict[str, object] = {"limit": limit}
        if after is None:
            sql = _LIST_CAMPAIGNS_FIRST
        else:
            sql, params["after"] = _LIST_CAMPAIGNS_AFTER, after
        [found] = self._db.connection().execute(sql, params).fetchone()
        records = [_campaign(row) for row in orjson.loads(found)]
        records.sort(key=_record_order)
        return records

    # -- false positives ---------------------------------------------------------

    def put_false_positive(self, entry: FalsePositive) -> None:
        self._db.write_one(
            "INSERT OR REPLACE INTO false_positives "
            "(key, reason, analyst, created, collections, tlp) VALUES (?, ?, ?, ?, ?, ?)",
            (
                entry.key,
                entry.reason,
                entry.analyst,
                entry.created,
                _json(list(entry.collection_ids)),
                entry.tlp,
            ),
        )

    def remove_false_positive(self, key: str) -> bool:
        return self._db.write_one("DELETE FROM false_positives WHERE key = ?", (key,)) > 0

    def find_false_positives(self, keys: Sequence[str]) -> dict[str, FalsePositive]:
        if not keys:
            return {}
        [found] = (
            self._db.connection()
            .execute(_FIND_FALSE_POSITIVES, {"keys": _json(list(dict.fromkeys(keys)))})
            .fetchone()
        )
        return {row[0]: _false_positive(row) for row in orjson.loads(found)}

    def list_false_positives(self, limit: int = 1000) -> list[FalsePositive]:
        if limit < 1:
            return []
        [found] = self._db.connection().execute(_LIST_FALSE_POSITIVES, {"limit": limit}).fetchone()
        entries = [_false_positive(row) for row in orjson.loads(found)]
        entries.sort(key=attrgetter("key"))
        return entries
