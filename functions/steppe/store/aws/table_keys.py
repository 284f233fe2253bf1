"""Where every kind of item lives in the table: the partition and sort keys.

One place names them all, so the layout can be read (and changed) at once:

    pk                                   sk                      item
    C#<collection>                       STATE                   watermark, reserved range, lease
    C#<collection>                       JOURNAL                 the current writer's undo/redo log
    C#<collection>#O#<object id>         HEAD                    first/last version of the object
    C#<collection>#O#<object id>         V#<version>             one version: metadata and body
    C#<collection>#<view>[#S<n>]         <date_added>            listing: every version (all), the
    C#<collection>#<view>#T#<type>[#S<n>] <date_added>             latest (last) or earliest (first)
                                                                   of each object, per type too,
                                                                   in LISTING_SHARDS shards
    ROOTS                                <api root id>           API root
    COLL#<collection>                    COLL                    collection
    ROOT#<api root>#COLLS                <created>#<collection>  collection, listed per API root
    ROOT#<api root>#TITLE                <sha256(title)>         title claim -> collection id
    PARTNERS                             <name>                  partner
    CRED#<key hash>                      CRED                    credential -> partner name
    PARTNER#<name>#CREDS                 <key hash>              the partner's credentials
    SUB#<submission>                     SUB                     submission
    SUB#<submission>                     CHUNK#<n>               one chunk's result
    SUBMISSIONS                          <created>#<arrival>#<id> submissions (read newest first)
    IDEMPOTENCY                          <function>#<hash>       Powertools idempotency records
    STATUS#<status>                      STATUS                  TAXII status resource (TTL)
    STATUS#<status>                      PART#<n>                one batch's outcomes (TTL)
    AUDIT#<UTC day YYYY-MM-DD>           <time>#<request id>     audit record (TTL: a year)
    SECRETS                              <name>                  server secret (32 bytes)
    CLAIM#<identity id>                  CLAIM                   identity claim -> owner id
    FEED#<feed id>                       FEED                    feed definition
    FEEDS                                <name>                  name claim -> feed id (listing)
    PUSH#<destination id>                PUSH                    push destination
    PUSH#<destination id>                CURSOR#<collection>     push delivery cursor
    PUSHES                               <name>                  name claim -> destination id
    FEEDCOLLS                            <collection>            feed index generation (listing)
    FEEDENTRY#<collection>               <indicator id>          feed index entry
    FEEDSCORE#<collection>#<type>        <-score>#<indicator>    copy of each entry not retired
    FEEDRETIRED#<collection>#<type>      <-retired_at>#<ind.>    copy of each retired entry
    FEEDDUE#<shard>                      <expiry>#<coll>#<ind.>  copy of each entry not retired
    FEEDPURGE#<shard>                    <retired>#<coll>#<ind.> copy of each retired entry

(store/aws/feed_index.py says why the feed index is laid out so.)

The observable index (VAL#, CVAL#, CIDR, GRP#, GRPK#, LEV#, LNK#, CAMPAIGNS,
FALSEPOS) builds its keys in store/aws/index.py, whose docstring lays them out.

Numbers in sort keys are zero-padded so that string order is numeric order.
"""

from __future__ import annotations

import hashlib
from datetime import date

# Versions and instants are signed epoch microseconds; this offset makes every
# STIX timestamp (year 0001 onwards) non-negative before padding.
_OFFSET = 10**17
_WIDTH = 19

STATE = "STATE"
JOURNAL = "JOURNAL"
HEAD = "HEAD"
VERSION_PREFIX = "V#"

ROOTS = "ROOTS"
PARTNERS = "PARTNERS"
SUBMISSIONS = "SUBMISSIONS"
COLLECTION_SK = "COLL"
CREDENTIAL_SK = "CRED"
SUBMISSION_SK = "SUB"
CHUNK_PREFIX = "CHUNK#"
SECRETS = "SECRETS"
STATUS_SK = "STATUS"
STATUS_PART_PREFIX = "PART#"
AUDIT_PREFIX = "AUDIT#"
CLAIM_SK = "CLAIM"
FEEDS = "FEEDS"
FEED_SK = "FEED"
PUSHES = "PUSHES"
PUSH_SK = "PUSH"
PUSH_CURSOR_PREFIX = "CURSOR#"
FEED_COLLECTIONS = "FEEDCOLLS"
FEED_SHARDS = 8  # partitions of the due and purge listings, to spread their writes
# Partitions of each object listing (README, "The AWS shape": the write ceiling). A
# collection's readers merge them all, so the number may grow but never shrink.
LISTING_SHARDS = 8

DAY_MICROS = 86_400_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def pad(value: int) -> str:
    """A signed microsecond count as a fixed-width, string-sortable key."""
    return f"{value + _OFFSET:0{_WIDTH}d}"


def unpad(text: str) -> int:
    return int(text) - _OFFSET


def collection(collection_id: str) -> str:
    return f"C#{collection_id}"


def feed(feed_id: str) -> str:
    return f"FEED#{feed_id}"


def push(destination_id: str) -> str:
    return f"PUSH#{destination_id}"


def claim(identity_id: str) -> str:
    return f"CLAIM#{identity_id}"


def obj(collection_id: str, object_id: str) -> str:
    return f"C#{collection_id}#O#{object_id}"


def version_sk(version: int) -> str:
    return VERSION_PREFIX + pad(version)


def listing(collection_id: str, view: str, object_type: str | None = None, shard: int = 0) -> str:
    """A listing partition; shard 0 has no suffix (the one partition of tables written before
    listings were sharded, read as shard 0)."""
    base = f"C#{collection_id}#{view}"
    if object_type is not None:
        base = f"{base}#T#{object_type}"
    return f"{base}#S{shard}" if shard else base


def listing_shard(object_id: str, shards: int) -> int:
    """The listing shard of a new object: its entries in every view stay in this one."""
    return hashlib.sha256(object_id.encode()).digest()[0] % shards


def listing_keys(
    collection_id: str, view: str, object_type: str, date_added: int, shard: int = 0
) -> list[tuple[str, str]]:
    """The two listing entries of one version in one view: untyped and typed."""
    sk = pad(date_added)
    return [
        (listing(collection_id, view, shard=shard), sk),
        (listing(collection_id, view, object_type, shard), sk),
    ]


def coll(collection_id: str) -> str:
    return f"COLL#{collection_id}"


def root_collections(api_root: str) -> str:
    return f"ROOT#{api_root}#COLLS"


def root_collection_sk(created: int, collection_id: str) -> str:
    return f"{pad(created)}#{collection_id}"


def title_claim(api_root: str) -> str:
    return f"ROOT#{api_root}#TITLE"


def title_sk(title: str) -> str:
    # Titles may be long and hold any character; their hash is a fixed-size key.
    return hashlib.sha256(title.encode("utf-8")).hexdigest()


def credential(key_hash: str) -> str:
    return f"CRED#{key_hash}"


def partner_credentials(name: str) -> str:
    return f"PARTNER#{name}#CREDS"


def submission(submission_id: str) -> str:
    return f"SUB#{submission_id}"


def chunk_sk(chunk: int) -> str:
    return f"{CHUNK_PREFIX}{chunk:09d}"


def submission_listing_sk(created: int, arrival: int, submission_id: str) -> str:
    return f"{pad(created)}#{arrival:024d}#{submission_id}"


def status(status_id: str) -> str:
    return f"STATUS#{status_id}"


def status_part_sk(part: int) -> str:
    return f"{STATUS_PART_PREFIX}{part:09d}"


def audit_day(time: int) -> int:
    """The UTC day of an instant, as a day number since the epoch (negative before 1970)."""
    return time // DAY_MICROS


def audit(day: int) -> str:
    """The audit partition of a day number: AUDIT#2009-01-18."""
    return AUDIT_PREFIX + date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


def audit_sk(time: int, request_id: str) -> str:
    return f"{pad(time)}#{request_id}"


def spilled_body(collection_id: str, object_id: str, version: int) -> str:
    """The S3 key of an object body too large for its item."""
    return f"objects/{collection_id}/{object_id}/{version}.json"


def spilled_chunk(submission_id: str, chunk: int) -> str:
    return f"submissions/{submission_id}/results/{chunk}.json.z"


def spilled_status_part(status_id: str, part: int, token: str) -> str:
    """The S3 key of a status part too large for its item (token: unique per write)."""
    return f"statuses/{status_id}/parts/{part}-{token}.json.z"


def feed_entry(collection_id: str) -> str:
    return f"FEEDENTRY#{collection_id}"


def feed_score(collection_id: str, stix_type: str) -> str:
    return f"FEEDSCORE#{collection_id}#{stix_type}"


def feed_score_sk(score: int, indicator_id: str) -> str:
    """Highest score first in ascending sort-key order, then by indicator id."""
    return f"{pad(-score)}#{indicator_id}"


def feed_retired(collection_id: str, stix_type: str) -> str:
    return f"FEEDRETIRED#{collection_id}#{stix_type}"


def feed_retired_sk(retired_at: int, indicator_id: str) -> str:
    """Most recently retired first in ascending sort-key order, then by indicator id."""
    return f"{pad(-retired_at)}#{indicator_id}"


def feed_shard(collection_id: str, indicator_id: str) -> int:
    digest = hashlib.sha256(f"{collection_id}#{indicator_id}".encode()).digest()
    return digest[0] % FEED_SHARDS


def feed_due(shard: int) -> str:
    return f"FEEDDUE#{shard}"


def feed_purge(shard: int) -> str:
    return f"FEEDPURGE#{shard}"


def feed_instant_sk(instant: int, collection_id: str, indicator_id: str) -> str:
    """The due and purge listings' sort key: soonest first, then by collection and indicator."""
    return f"{pad(instant)}#{collection_id}#{indicator_id}"


def up_to(instant_key: str) -> str:
    """A sort-key bound just above every key that starts with `instant_key` and a '#'."""
    return instant_key + "$"  # '$' follows '#'
