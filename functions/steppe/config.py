"""Settings, from the environment, read once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from steppe.stix import bounds

_OFF = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class Settings:
    backend: str  # "sqlite" (embedded) or "aws"
    data_dir: Path
    table_name: str
    bucket_name: str
    queue_url: str
    api_root: str
    org_name: str  # the organisation running steppe: the producer of what analysts submit
    max_body_bytes: int
    sync_observables: int  # submissions up to this many observables complete inline (201)
    chunk_observables: int  # larger ones are split into chunks of this many (202)
    taxii_sync_objects: int  # TAXII envelopes up to this many objects are stored before the answer
    taxii_part_objects: int  # larger ones are queued in parts of this many
    # ... and of at most this many bytes: stix2 judges an object in up to ~0.2 s (a long
    # pattern), so what is judged before the answer is bounded by size as well as count.
    taxii_sync_bytes: int = 512 * 1024
    # Bounded work (README, "Security model"): a submission holds at most max_observables
    # observables, a TAXII envelope at most max_envelope_objects objects; one object's own
    # limits (size, pattern) are in steppe.stix.bounds.
    max_observables: int = bounds.MAX_OBSERVABLES
    max_envelope_objects: int = bounds.MAX_ENVELOPE_OBJECTS
    # Correlate every ingest against the observable index (a worker job per chunk
    # or envelope). STEPPE_CORRELATE=0 turns it off (the benchmark's baseline).
    correlate: bool = True
    # How old a feed's kept rendering may be before a request renders it again itself
    # (the every-minute schedule renders stale feeds anyway): STEPPE_FEED_STALE_SECONDS.
    feed_stale_seconds: int = 60
    # A value this many false-positive sightings were reported for (any indicator,
    # any organisation) is declared a false positive (steppe.distribution.sightings).
    false_positive_sightings: int = 3
    # The AWS shape's per-partner throttling (README, "Per-partner throttling"): the
    # API Gateway usage plan a new partner's usage key joins, and the key the
    # authorizer names for callers without valid credentials. Empty: none.
    usage_plan_name: str = ""
    anonymous_usage_key: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            backend=env.get("STEPPE_BACKEND", "sqlite"),
            data_dir=Path(env.get("STEPPE_DATA_DIR", ".steppe")).resolve(),
            table_name=env.get("STEPPE_TABLE", ""),
            bucket_name=env.get("STEPPE_BUCKET", ""),
            queue_url=env.get("STEPPE_QUEUE_URL", ""),
            api_root=env.get("STEPPE_API_ROOT", "steppe"),
            org_name=env.get("STEPPE_ORG_NAME", "steppe"),
            max_body_bytes=int(env.get("STEPPE_MAX_BODY_BYTES", str(50 * 1024 * 1024))),
            sync_observables=int(env.get("STEPPE_SYNC_OBSERVABLES", "1000")),
            chunk_observables=int(env.get("STEPPE_CHUNK_OBSERVABLES", "1000")),
            taxii_sync_objects=int(env.get("STEPPE_TAXII_SYNC_OBJECTS", "500")),
            taxii_part_objects=max(1, int(env.get("STEPPE_TAXII_PART_OBJECTS", "500"))),
            taxii_sync_bytes=int(env.get("STEPPE_TAXII_SYNC_BYTES", str(512 * 1024))),
            max_observables=max(1, int(env.get("STEPPE_MAX_OBSERVABLES", bounds.MAX_OBSERVABLES))),
            max_envelope_objects=max(
                1, int(env.get("STEPPE_MAX_ENVELOPE_OBJECTS", bounds.MAX_ENVELOPE_OBJECTS))
            ),
            correlate=env.get("STEPPE_CORRELATE", "1").strip().lower() not in _OFF,
            feed_stale_seconds=max(0, int(env.get("STEPPE_FEED_STALE_SECONDS", "60"))),
            false_positive_sightings=max(1, int(env.get("STEPPE_FALSE_POSITIVE_SIGHTINGS", "3"))),
            usage_plan_name=env.get("STEPPE_USAGE_PLAN", ""),
            anonymous_usage_key=env.get("STEPPE_ANONYMOUS_USAGE_KEY", ""),
        )
