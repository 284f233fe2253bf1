"""The process's services: which adapters sit behind the ports.

Handlers call `services()`; it builds the adapters named by the settings the
first time and keeps them for the life of the process (a warm Lambda, or the
embedded server). This is the only module that knows both shapes exist.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steppe.config import Settings
from steppe.store.port import BlobStore, JobQueue, Store

if TYPE_CHECKING:
    from steppe.correlate.engine import Correlator
    from steppe.correlate.lookup import LookupService
    from steppe.taxii.serving import TaxiiService


@dataclass(slots=True)
class Services:
    settings: Settings
    store: Store
    blobs: BlobStore
    queue: JobQueue
    # A Powertools idempotency persistence layer (BasePersistenceLayer).
    idempotency: Any

    def close(self) -> None:
        self.store.close()


_lock = threading.Lock()
_services: Services | None = None


def build_services(settings: Settings) -> Services:
    if settings.backend == "sqlite":
        from steppe.store.sqlite import open_embedded

        return open_embedded(settings)
    if settings.backend == "aws":
        from steppe.store.aws import open_aws

        return open_aws(settings)
    raise ValueError(f"STEPPE_BACKEND must be 'sqlite' or 'aws', not '{settings.backend}'")


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(Settings.from_env())
    return _services


def use_services(value: Services | None) -> None:
    """Install (or, with None, forget) the process's services: for the embedded server and tests."""
    global _services
    with _lock:
        if _services is not None and value is not _services:
            _services.close()
        _services = value


# The application services, each built from the ports it uses. Handlers and the
# CLI call these factories (handlers through handlers.common.per_services).

# --- submissions, TAXII envelopes, jobs and recovery ---


# --- retraction (revocation, false positives) and administration ---


# --- TAXII serving, correlation and lookups ---
# Each imports its service when first called: a function that builds none of
# them (the authorizer) does not load them.


def taxii_service(services: Services) -> TaxiiService:
    from steppe.taxii.serving import TaxiiService, TaxiiSettings

    store, settings = services.store, services.settings
    return TaxiiService(
        catalog=store,
        objects=store,
        statuses=store,
        audit=store,
        secrets=store,
        claims=store,
        recovery=store,
        blobs=services.blobs,
        queue=services.queue,
        settings=TaxiiSettings(
            org_name=settings.org_name,
            api_root=settings.api_root,
            max_body_bytes=settings.max_body_bytes,
            max_envelope_objects=settings.max_envelope_objects,
            taxii_sync_objects=settings.taxii_sync_objects,
            taxii_sync_bytes=settings.taxii_sync_bytes,
            taxii_part_objects=settings.taxii_part_objects,
            correlate=settings.correlate,
        ),
    )


def correlator(services: Services) -> Correlator:
    from steppe.correlate.engine import Correlator

    store = services.store
    return Correlator(
        index=store,
        objects=store,
        claims=store,
        catalog=store,
        submissions=store,
        statuses=store,
        blobs=services.blobs,
        org_name=services.settings.org_name,
    )


def lookup_service(services: Services) -> LookupService:
    from steppe.correlate.lookup import LookupService

    return LookupService(index=services.store)
