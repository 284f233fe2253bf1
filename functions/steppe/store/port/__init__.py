"""The storage port: everything steppe keeps, as the rest of the code sees it.

One module per port, mirroring the adapters' modules (store/sqlite/*,
store/aws/*): objects, catalog, access (partners and credentials),
submissions, statuses, recovery, audit, server_secrets, feeds, the feed index,
destinations (push), the observable index (index, campaigns, false_positives),
claims (identity claims), blobs and the job queue (queue). Each holds its
records next to the abstract class that uses them. `store.Store` is every port
but blobs and the queue in one class, for the adapters and the composition
root; `backend.Backend` is what an adapter opens for the composition root.
Services take the specific ports they use, never a Store.

Handlers, services and the one write path call these abstract classes only;
`store/sqlite` and `store/aws` implement them and are the only places that
know SQL, DynamoDB or S3. Every adapter passes the same contract suite
(tests/contract). Every public name is re-exported here.

Conventions shared by every method:

* Instants are integers: microseconds since the Unix epoch, UTC
  (see steppe.stix.timestamps).
* Object bodies are the object's JSON as UTF-8 bytes. Stores keep and return
  them verbatim; they never parse them.
* Lookups that find nothing return None; writes that break a rule raise
  steppe.errors.Conflict / NotFound.
"""

from __future__ import annotations

from steppe.store.port.access import (
    AccessStore,
    Partner,
    Role,
    legacy_partner_id,
)
from steppe.store.port.audit import (
    AuditRecord,
    AuditStore,
)
from steppe.store.port.backend import (
    Backend,
)
from steppe.store.port.blobs import (
    BlobStore,
)
from steppe.store.port.campaigns import (
    CampaignLink,
    CampaignLinkStore,
    CampaignRecord,
    CampaignStore,
    EvidenceScope,
    Strength,
)
from steppe.store.port.catalog import (
    ApiRoot,
    CatalogStore,
    Collection,
)
from steppe.store.port.claims import (
    IdentityClaims,
)
from steppe.store.port.destinations import (
    Destination,
    DestinationStore,
)
from steppe.store.port.false_positives import (
    FalsePositive,
    FalsePositiveStore,
)
from steppe.store.port.feed_index import (
    FeedIndex,
    FeedIndexEntry,
    FeedSelection,
    Generation,
)
from steppe.store.port.feeds import (
    Feed,
    FeedStore,
)
from steppe.store.port.index import (
    GroupHit,
    GroupIndex,
    GroupMember,
    IndexedValue,
    ObservableIndex,
    OccurrenceIndex,
)
from steppe.store.port.objects import (
    ALL_VERSIONS,
    FIRST,
    LAST,
    JoinedBodies,
    ObjectPage,
    ObjectQuery,
    ObjectStore,
    ObjectVersion,
    Outcome,
    PutOutcome,
    StoredObject,
    VersionFilter,
)
from steppe.store.port.queue import (
    JobQueue,
)
from steppe.store.port.recovery import (
    OpenWork,
    RecoveryStore,
    SubmissionKey,
    WorkKind,
)
from steppe.store.port.server_secrets import (
    SecretStore,
)
from steppe.store.port.sighting_tallies import (
    SightingTallies,
    SightingTally,
)
from steppe.store.port.statuses import (
    StatusPart,
    StatusRecord,
    StatusStore,
    StatusSummary,
)
from steppe.store.port.store import (
    Store,
)
from steppe.store.port.submissions import (
    ChunkResult,
    Revocation,
    Submission,
    SubmissionMeta,
    SubmissionProducer,
    SubmissionStatus,
    SubmissionStore,
)

__all__ = [
    "ALL_VERSIONS",
    "FIRST",
    "LAST",
    "AccessStore",
    "ApiRoot",
    "AuditRecord",
    "AuditStore",
    "Backend",
    "BlobStore",
    "CampaignLink",
    "CampaignLinkStore",
    "CampaignRecord",
    "CampaignStore",
    "CatalogStore",
    "ChunkResult",
    "Collection",
    "Destination",
    "DestinationStore",
    "EvidenceScope",
    "FalsePositive",
    "FalsePositiveStore",
    "Feed",
    "FeedIndex",
    "FeedIndexEntry",
    "FeedSelection",
    "FeedStore",
    "Generation",
    "GroupHit",
    "GroupIndex",
    "GroupMember",
    "IdentityClaims",
    "IndexedValue",
    "JobQueue",
    "JoinedBodies",
    "ObjectPage",
    "ObjectQuery",
    "ObjectStore",
    "ObjectVersion",
    "ObservableIndex",
    "OccurrenceIndex",
    "OpenWork",
    "Outcome",
    "Partner",
    "PutOutcome",
    "RecoveryStore",
    "Revocation",
    "Role",
    "SecretStore",
    "SightingTallies",
    "SightingTally",
    "StatusPart",
    "StatusRecord",
    "StatusStore",
    "StatusSummary",
    "Store",
    "StoredObject",
    "Strength",
    "Submission",
    "SubmissionKey",
    "SubmissionMeta",
    "SubmissionProducer",
    "SubmissionStatus",
    "SubmissionStore",
    "VersionFilter",
    "WorkKind",
    "legacy_partner_id",
]
