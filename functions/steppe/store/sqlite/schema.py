"""The embedded store's schema and its migrations.

`PRAGMA user_version` holds the schema version: migration N (1-based) brings a
file from version N-1 to N. A later change appends a migration; it never edits
one that has shipped.

Objects: one row per stored version. `date_added` is the rowid, so rows sit in
the file in the order they were added and a page read by date_added is a
sequential scan. date_added comes from the `clock` row, advanced inside each
write transaction, so it is distinct and increasing across the whole file (and
therefore within each collection) and never reused after a delete.
`is_first` / `is_last` mark the oldest and newest version of each id; writers
and deletes keep them exact, so first/last filters are plain column tests.
(id, version) is unique per collection; the writer enforces it under the write
lock (the id index holds a hash of the id, not the id).
"""

from __future__ import annotations

import sqlite3

_V1 = (
    # Monotonic counters that must survive deletes (the date_added clock).
    """CREATE TABLE clock (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "INSERT INTO clock (name, value) VALUES ('date_added', 0)",
    # A small integer per collection that holds objects: keeps the indexes narrow.
    """CREATE TABLE object_collections (
        cid INTEGER PRIMARY KEY,
        collection TEXT NOT NULL UNIQUE,
        versions INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE objects (
        date_added INTEGER PRIMARY KEY,
        cid INTEGER NOT NULL REFERENCES object_collections (cid),
        id_key INTEGER NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        spec_version TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        is_first INTEGER NOT NULL,
        is_last INTEGER NOT NULL,
        unversioned INTEGER NOT NULL,
        body BLOB NOT NULL
    )""",
    # Lookups by id go through a 63-bit hash of the id (see object_writes.id_key):
    # ids are random, so this index takes one random insert per new id, and its
    # entries are a third the size of the id text, which is what bulk-ingest
    # throughput depends on. Queries always confirm the id itself.
    "CREATE INDEX objects_by_id ON objects (cid, id_key)",
    # Both are in date_added order within their prefix: the rowid ends every index entry.
    "CREATE INDEX objects_by_added ON objects (cid)",
    "CREATE INDEX objects_by_type ON objects (cid, type)",
    """CREATE TABLE api_roots (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        created INTEGER NOT NULL
    )""",
    """CREATE TABLE collections (
        id TEXT PRIMARY KEY,
        api_root TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        alias TEXT,
        media_types TEXT NOT NULL,
        created INTEGER NOT NULL,
        is_default INTEGER NOT NULL,
        UNIQUE (api_root, title)
    )""",
    "CREATE INDEX collections_by_created ON collections (api_root, created, id)",
    """CREATE TABLE partners (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        tlp_clearance INTEGER NOT NULL,
        can_read TEXT NOT NULL,
        can_write TEXT NOT NULL,
        created INTEGER NOT NULL,
        identity_id TEXT
    )""",
    """CREATE TABLE credentials (
        key_hash TEXT PRIMARY KEY,
        partner TEXT NOT NULL,
        created INTEGER NOT NULL
    )""",
    "CREATE INDEX credentials_by_partner ON credentials (partner)",
    """CREATE TABLE submissions (
        id TEXT PRIMARY KEY,
        collection_id TEXT NOT NULL,
        submitter TEXT NOT NULL,
        created INTEGER NOT NULL,
        chunks_total INTEGER NOT NULL,
        observables INTEGER NOT NULL,
        meta TEXT NOT NULL,
        status_override TEXT
    )""",
    "CREATE INDEX submissions_by_created ON submissions (created)",
    """CREATE TABLE submission_chunks (
        submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
        chunk INTEGER NOT NULL,
        counts TEXT NOT NULL,
        objects TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (submission_id, chunk)
    ) WITHOUT ROWID""",
    # The embedded job queue. available_at: when the job may next be claimed
    # (for a claimed job, the end of its visibility timeout).
    """CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ready', 'claimed', 'dead')),
        attempts INTEGER NOT NULL,
        created INTEGER NOT NULL,
        available_at INTEGER NOT NULL,
        last_error TEXT
    )""",
    "CREATE INDEX jobs_live ON jobs (available_at, seq) WHERE status != 'dead'",
    # Powertools idempotency records (see idempotency.py).
    """CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        expiry INTEGER,
        in_progress_expiry INTEGER,
        data TEXT,
        validation TEXT
    ) WITHOUT ROWID""",
)

# Issue 3 (TAXII): the TLP of unmarked objects per collection, TAXII status
# resources, the audit trail and the server's secrets.
_V2 = (
    "ALTER TABLE collections ADD COLUMN unmarked_tlp INTEGER NOT NULL DEFAULT 1",
    # Status resources; expired ones are purged when a new one is created.
    """CREATE TABLE statuses (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        created INTEGER NOT NULL,
        total INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        meta TEXT NOT NULL
    )""",
    "CREATE INDEX statuses_by_expiry ON statuses (expires)",
    # successes / failures: JSON arrays of [id, version, message].
    """CREATE TABLE status_parts (
        status_id TEXT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
        part INTEGER NOT NULL,
        successes TEXT NOT NULL,
        failures TEXT NOT NULL,
        PRIMARY KEY (status_id, part)
    ) WITHOUT ROWID""",
    # One row per TAXII request, appended in arrival order (seq breaks ties of
    # equal times). Read newest first through one of the two time indexes.
    """CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        partner TEXT,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL,
        collection_id TEXT,
        objects INTEGER NOT NULL,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX audit_by_time ON audit (time)",
    "CREATE INDEX audit_by_partner ON audit (partner, time)",
    """CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) WITHOUT ROWID""",
)

# Issue 4 (correlation): the observable index and what correlation keeps.
# Every read is a probe or a range of a primary key or index; the counts of
# group members and of link evidence are kept beside the sets, so that they
# cost one row whatever the size of the set.
_V3 = (
    # One row per occurrence of a value; (key, collection, object, source)
    # identifies it and the first write stands (INSERT OR IGNORE). In a table
    # WITHOUT ROWID an index ends with the primary key's other columns, so
    # these two read in (key, first_seen, collection, object, source) and
    # (campaign, key, collection, object, source) order.
    """CREATE TABLE value_index (
        key TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        source TEXT NOT NULL,
        campaign_id TEXT,
        producer TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        PRIMARY KEY (key, collection_id, object_id, source)
    ) WITHOUT ROWID""",
    "CREATE INDEX value_index_by_first_seen ON value_index (key, first_seen)",
    """CREATE INDEX value_index_by_campaign ON value_index (campaign_id, key)
        WHERE campaign_id IS NOT NULL""",
    """CREATE TABLE cidr_prefixes (
        family TEXT NOT NULL,
        prefix INTEGER NOT NULL,
        PRIMARY KEY (family, prefix)
    ) WITHOUT ROWID""",
    # A campaign's members in a group (its /24 or /48, its autonomous system):
    # one row per (group, campaign) with their number, and the members.
    """CREATE TABLE group_campaigns (
        grp TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        members INTEGER NOT NULL,
        PRIMARY KEY (grp, campaign_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE group_members (
        grp TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (grp, campaign_id, key)
    ) WITHOUT ROWID""",
    # The keys two campaigns share at one strength (campaign_a < campaign_b),
    # and their number.
    """CREATE TABLE link_evidence_counts (
        campaign_a TEXT NOT NULL,
        campaign_b TEXT NOT NULL,
        strength TEXT NOT NULL,
        shared INTEGER NOT NULL,
        PRIMARY KEY (campaign_a, campaign_b, strength)
    ) WITHOUT ROWID""",
    """CREATE TABLE link_evidence (
        campaign_a TEXT NOT NULL,
        campaign_b TEXT NOT NULL,
        strength TEXT NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (campaign_a, campaign_b, strength, key)
    ) WITHOUT ROWID""",
    # sample, collection_ids: JSON arrays of strings.
    """CREATE TABLE campaign_links (
        campaign_id TEXT NOT NULL,
        other_id TEXT NOT NULL,
        strength TEXT NOT NULL,
        shared INTEGER NOT NULL,
        sample TEXT NOT NULL,
        confidence INTEGER NOT NULL,
        relationship_id TEXT NOT NULL,
        collection_ids TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        modified INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, other_id, strength)
    ) WITHOUT ROWID""",
    # targets: a JSON array of strings.
    """CREATE TABLE campaigns (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        producer TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        modified INTEGER NOT NULL,
        value_count INTEGER NOT NULL,
        targets TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE false_positives (
        key TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        analyst TEXT NOT NULL,
        created INTEGER NOT NULL
    ) WITHOUT ROWID""",
)

# Issue 4 (lifecycle): each stored version's valid_until (epoch µs, NULL:
# never expires) and revoked flag, and the collections that serve only active
# objects. Rows stored before: never expiring, not revoked; collections: all.
# (Adding a column with a constant default does not rewrite the table.)
_V4 = (
    "ALTER TABLE objects ADD COLUMN valid_until INTEGER",
    "ALTER TABLE objects ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE collections ADD COLUMN active_only INTEGER NOT NULL DEFAULT 0",
)

# Issue 8 (ownership by a stable partner id): each partner's UUIDv4, the owner
# id of each submission and the partner id of each audit record. Rows stored
# before have NULL; the adapters read a partner's or a submission's NULL as
# legacy_partner_id(name), which no partner created from now on can have.
_V5 = (
    "ALTER TABLE partners ADD COLUMN id TEXT",
    "CREATE UNIQUE INDEX partners_by_id ON partners (id) WHERE id IS NOT NULL",
    "ALTER TABLE submissions ADD COLUMN submitter_id TEXT",
    "ALTER TABLE audit ADD COLUMN partner_id TEXT",
    "CREATE INDEX audit_by_partner_id ON audit (partner_id, time)",
)

# Issue 8 (visibility): what the index says of a campaign is kept per collection
# and TLP level, never merged across them. Campaign records and group members
# gain (collection, tlp) in their keys; link evidence and links are kept per
# scope (collections, tlp), so the evidence recorded before, which had none, is
# dropped (correlating the batches again rebuilds it); a campaign record is
# kept at the strictest TLP of its record and its indexed values; a false
# positive is kept for the collections its value was indexed in.
_V6 = (
    """CREATE TABLE campaign_records (
        id TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        name TEXT NOT NULL,
        producer TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        modified INTEGER NOT NULL,
        value_count INTEGER NOT NULL,
        targets TEXT NOT NULL,
        PRIMARY KEY (id, collection_id, tlp)
    ) WITHOUT ROWID""",
    """INSERT INTO campaign_records
    SELECT c.id, c.collection_id,
        max(c.tlp, coalesce((SELECT max(v.tlp) FROM value_index AS v
                             WHERE v.campaign_id = c.id), 0)),
        c.name, c.producer, c.first_seen, c.last_seen, c.modified, c.value_count, c.targets
    FROM campaigns AS c WHERE true
    ON CONFLICT DO NOTHING""",
    "DROP TABLE campaigns",
    """CREATE TABLE group_records (
        grp TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        members INTEGER NOT NULL,
        PRIMARY KEY (grp, campaign_id, collection_id, tlp)
    ) WITHOUT ROWID""",
    """CREATE TABLE group_record_members (
        grp TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (grp, campaign_id, collection_id, tlp, key)
    ) WITHOUT ROWID""",
    # A member is kept at the stricter of its campaign's level and its own
    # occurrences' (as correlation writes them): whoever may see the record may
    # see the member. A member with no occurrence left is kept at RED.
    """INSERT INTO group_record_members
    SELECT m.grp, m.campaign_id, g.collection_id,
        max(g.tlp, coalesce((SELECT max(v.tlp) FROM value_index AS v
                             WHERE v.key = m.key AND v.campaign_id = m.campaign_id
                                 AND v.collection_id = g.collection_id), 4)),
        m.key
    FROM group_members AS m JOIN group_campaigns AS g USING (grp, campaign_id)""",
    """INSERT INTO group_records
    SELECT grp, campaign_id, collection_id, tlp, count(*) FROM group_record_members
    GROUP BY grp, campaign_id, collection_id, tlp""",
    "DROP TABLE group_members",
    "DROP TABLE group_campaigns",
    "DROP TABLE link_evidence",
    "DROP TABLE link_evidence_counts",
    "DROP TABLE campaign_links",
    # collections: the scope's collection ids as a JSON array (sorted).
    """CREATE TABLE evidence_counts (
        campaign_a TEXT NOT NULL,
        campaign_b TEXT NOT NULL,
        strength TEXT NOT NULL,
        collections TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        shared INTEGER NOT NULL,
        PRIMARY KEY (campaign_a, campaign_b, strength, collections, tlp)
    ) WITHOUT ROWID""",
    """CREATE TABLE evidence_keys (
        campaign_a TEXT NOT NULL,
        campaign_b TEXT NOT NULL,
        strength TEXT NOT NULL,
        collections TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (campaign_a, campaign_b, strength, collections, tlp, key)
    ) WITHOUT ROWID""",
    # sample: a JSON array of strings.
    """CREATE TABLE scoped_links (
        campaign_id TEXT NOT NULL,
        other_id TEXT NOT NULL,
        strength TEXT NOT NULL,
        collections TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        shared INTEGER NOT NULL,
        sample TEXT NOT NULL,
        confidence INTEGER NOT NULL,
        relationship_id TEXT NOT NULL,
        modified INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, other_id, strength, collections, tlp)
    ) WITHOUT ROWID""",
    "ALTER TABLE false_positives ADD COLUMN collections TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE false_positives ADD COLUMN tlp INTEGER NOT NULL DEFAULT 0",
    """UPDATE false_positives SET
        collections = (SELECT json_group_array(collection_id) FROM (
            SELECT DISTINCT collection_id FROM value_index AS v
            WHERE v.key = false_positives.key ORDER BY collection_id)),
        tlp = coalesce((SELECT max(tlp) FROM value_index AS v
                        WHERE v.key = false_positives.key), 0)""",
)

# Issue 8 (one write path): the partner that owns each STIX identity it
# produced objects with (the first to post with it).
_V7 = (
    """CREATE TABLE identity_claims (
        identity_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL
    ) WITHOUT ROWID""",
)

# Issue 8 (recovery): submissions and TAXII statuses whose jobs are not yet
# queued (written in the same transaction as the record, deleted once they
# are; available_at: when a recovery sweep may next take it), and the
# submission each idempotency key stands for.
_V8 = (
    """CREATE TABLE undispatched (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        created INTEGER NOT NULL,
        available_at INTEGER NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID""",
    "CREATE INDEX undispatched_by_created ON undispatched (created)",
    """CREATE TABLE submission_keys (
        key TEXT PRIMARY KEY,
        submission_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        expires INTEGER NOT NULL
    ) WITHOUT ROWID""",
)

# Issue 10 (feeds): feed definitions; the token is kept only as its hash.
_V9 = (
    """CREATE TABLE feeds (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        collections TEXT NOT NULL,
        tlp_clearance INTEGER NOT NULL,
        types TEXT NOT NULL,
        min_score INTEGER NOT NULL,
        max_entries INTEGER NOT NULL,
        token_hash TEXT NOT NULL,
        created INTEGER NOT NULL
    ) WITHOUT ROWID""",
)

# Issue 10 (feeds, decay): one row per indicator that names one value, per
# collection, with its score; the partial indexes serve feeds (active entries
# by score), the decay job (due ones by expiry) and MISP's removals (retired
# ones by when). A generation per collection says when its entries changed.
_V10 = (
    """CREATE TABLE feed_entries (
        collection_id TEXT NOT NULL,
        indicator_id TEXT NOT NULL,
        type TEXT NOT NULL,
        value TEXT NOT NULL,
        key TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        score INTEGER NOT NULL,
        scored_at INTEGER NOT NULL,
        base INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        lifetime_us INTEGER NOT NULL,
        decay_speed REAL NOT NULL,
        threshold INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        retired_at INTEGER,
        detail BLOB NOT NULL,
        PRIMARY KEY (collection_id, indicator_id)
    ) WITHOUT ROWID""",
    """CREATE INDEX feed_entries_by_score ON feed_entries
        (collection_id, type, score DESC, indicator_id) WHERE retired_at IS NULL""",
    "CREATE INDEX feed_entries_due ON feed_entries (expires_at) WHERE retired_at IS NULL",
    """CREATE INDEX feed_entries_retired ON feed_entries
        (collection_id, type, retired_at) WHERE retired_at IS NOT NULL""",
    """CREATE TABLE feed_generations (
        collection_id TEXT PRIMARY KEY,
        counter INTEGER NOT NULL,
        changed_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
)

# Issue 10 (push): push destinations and, per destination and collection, the
# date_added position already delivered.
_V11 = (
    """CREATE TABLE push_destinations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        collections TEXT NOT NULL,
        tlp_clearance INTEGER NOT NULL,
        types TEXT NOT NULL,
        settings TEXT NOT NULL,
        secret TEXT NOT NULL,
        created INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE push_cursors (
        destination_id TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (destination_id, collection_id)
    ) WITHOUT ROWID""",
)

# Issue 10 (sightings): false-positive sightings counted per value key, with
# who reported them and their notes (JSON), to declare the value past a count.
_V12 = (
    """CREATE TABLE sighting_tallies (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        detail BLOB NOT NULL
    ) WITHOUT ROWID""",
)

# Issue 13 (the console): a campaign's attack kind, from steppe's own attack pattern.
_V13 = ("ALTER TABLE campaign_records ADD COLUMN kind TEXT NOT NULL DEFAULT ''",)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _V1,
    _V2,
    _V3,
    _V4,
    _V5,
    _V6,
    _V7,
    _V8,
    _V9,
    _V10,
    _V11,
    _V12,
    _V13,
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer steppe than this one."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the database is at schema version {current}, newer than this steppe "
                f"understands ({SCHEMA_VERSION}); upgrade steppe"
            )
        for number in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
