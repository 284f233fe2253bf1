"""The composition root: which adapters sit behind the ports, and the services built on them.

Handlers call `services()`; it opens the adapters named by the settings the
first time and keeps them for the life of the process (a warm Lambda, or the
embedded server). This is the only module that knows both shapes exist.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steppe.config import Settings
from steppe.store.port.access import AccessStore
from steppe.store.port.backend import Backend
from steppe.store.port.blobs import BlobStore
from steppe.store.port.queue import JobQueue
from steppe.store.port.store import Store
from steppe.store.port.usage_plans import UsagePlans

if TYPE_CHECKING:
    from steppe.access.administration import Administration
    from steppe.distribution.sightings import SightingService
    from steppe.lifecycle.push_delivery import PushDelivery
    from steppe.lifecycle.retraction import LifecycleService

if TYPE_CHECKING:  # the factories import their service on first use: a handler loads only its own
    from steppe.ingest.submission_intake import IngestService
    from steppe.jobs.crash_recovery import JobRecovery
    from steppe.jobs.runner import JobRunner
    from steppe.taxii.adding import EnvelopeAdding

if TYPE_CHECKING:
    from steppe.correlate.engine import Correlator
    from steppe.correlate.graph import CampaignGraph
    from steppe.correlate.lookup import LookupService
    from steppe.distribution.decay_job import DecayJob
    from steppe.distribution.feed_service import FeedService
    from steppe.taxii.serving import TaxiiService


@dataclass(slots=True)
class Services:
    settings: Settings
    store: Store
    blobs: BlobStore
    queue: JobQueue
    # A Powertools idempotency persistence layer (BasePersistenceLayer).
    idempotency: Any

    @classmethod
    def of(cls, settings: Settings, backend: Backend) -> Services:
        return cls(
            settings=settings,
            store=backend.store,
            blobs=backend.blobs,
            queue=backend.queue,
            idempotency=backend.idempotency,
        )

    def close(self) -> None:
        self.store.close()


_lock = threading.Lock()
_services: Services | None = None


def open_backend(settings: Settings) -> Backend:
    """The ports of the shape STEPPE_BACKEND names, opened from the settings."""
    if settings.backend == "sqlite":
        from steppe.store.sqlite import open_embedded

        return open_embedded(settings)
    if settings.backend == "aws":
        from steppe.store.aws import open_aws

        return open_aws(settings)
    raise ValueError(f"STEPPE_BACKEND must be 'sqlite' or 'aws', not '{settings.backend}'")


def build_services(settings: Settings) -> Services:
    return Services.of(settings, open_backend(settings))


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(Settings.from_env())
    return _services


_credentials: AccessStore | None = None


def credential_lookup() -> AccessStore:
    """The partners and credentials the authorizer reads, and nothing else of the store.

    Installed services (the embedded server, tests, a warm process that built
    them) answer from their store. Otherwise the AWS shape opens the table's
    credential lookup alone: a cold authorizer loads neither the rest of the
    store nor S3, SQS or the idempotency layer.
    """
    global _credentials
    if _services is not None:
        return _services.store
    if _credentials is None:
        settings = Settings.from_env()
        if settings.backend != "aws":
            return services().store
        from steppe.store.aws import open_credential_lookup

        with _lock:
            if _credentials is None:
                _credentials = open_credential_lookup(settings)
    return _credentials


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


def job_runner(services: Services) -> JobRunner:
    from steppe.jobs.runner import JobRunner
    from steppe.lifecycle.push_delivery import push_messages

    store = services.store
    return JobRunner(
        queue=services.queue,
        blobs=services.blobs,
        work=store,
        follow_ons=lambda: push_messages(store),
    )


def push_delivery(services: Services) -> PushDelivery:
    from steppe.lifecycle.push_delivery import PushDelivery

    return PushDelivery(destinations=services.store, objects=services.store, queue=services.queue)


def ingest_service(services: Services) -> IngestService:
    from steppe.ingest.submission_intake import IngestService

    store, settings = services.store, services.settings
    return IngestService(
        submissions=store,
        keys=store,
        catalog=store,
        objects=store,
        claims=store,
        feed_index=store,
        index=store,
        secrets=store,
        blobs=services.blobs,
        runner=job_runner(services),
        org_name=settings.org_name,
        api_root=settings.api_root,
        max_observables=settings.max_observables,
        sync_observables=settings.sync_observables,
        chunk_observables=settings.chunk_observables,
        correlate=settings.correlate,
    )


def envelope_adding(services: Services) -> EnvelopeAdding:
    from steppe.taxii.adding import EnvelopeAdding

    store, settings = services.store, services.settings
    return EnvelopeAdding(
        statuses=store,
        catalog=store,
        objects=store,
        claims=store,
        feed_index=store,
        blobs=services.blobs,
        runner=job_runner(services),
        org_name=settings.org_name,
        max_body_bytes=settings.max_body_bytes,
        max_envelope_objects=settings.max_envelope_objects,
        sync_objects=settings.taxii_sync_objects,
        sync_bytes=settings.taxii_sync_bytes,
        part_objects=settings.taxii_part_objects,
        correlate=settings.correlate,
        sighting_feedback=sighting_service(services).from_taxii,
    )


def job_recovery(services: Services) -> JobRecovery:
    """Recovery, with the kinds of batch it finishes: submissions and TAXII envelopes."""
    from steppe.jobs.crash_recovery import JobRecovery

    submissions, envelopes = ingest_service(services), envelope_adding(services)
    return JobRecovery(
        work=services.store,
        runner=job_runner(services),
        kinds={submissions.mark: submissions, envelopes.mark: envelopes},
    )


# --- retraction (revocation, false positives) and administration ---
# The services are imported when first built: the authorizer imports this
# module on every cold start and needs neither.


def lifecycle_service(services: Services) -> LifecycleService:
    from steppe.lifecycle.push_delivery import push_messages
    from steppe.lifecycle.retraction import LifecycleService

    store, settings = services.store, services.settings
    return LifecycleService(
        after_writes=lambda: push_messages(store),
        catalog=store,
        objects=store,
        claims=store,
        feed_index=store,
        submissions=store,
        index=store,
        blobs=services.blobs,
        queue=services.queue,
        org_name=settings.org_name,
        api_root=settings.api_root,
        sync_observables=settings.sync_observables,
    )


def sighting_service(services: Services) -> SightingService:
    from steppe.distribution.sightings import SightingService
    from steppe.lifecycle.push_delivery import push_messages

    store, settings = services.store, services.settings
    return SightingService(
        catalog=store,
        objects=store,
        claims=store,
        feed_index=store,
        index=store,
        tallies=store,
        lifecycle=lifecycle_service(services),
        org_name=settings.org_name,
        api_root=settings.api_root,
        false_positive_sightings=settings.false_positive_sightings,
        queue=services.queue,
        after_writes=lambda: push_messages(store),
    )


def administration_service(services: Services) -> Administration:
    from steppe.access.administration import Administration

    settings = services.settings
    return Administration(
        access=services.store,
        catalog=services.store,
        audit_trail=services.store,
        feeds=services.store,
        destinations=services.store,
        org_name=settings.org_name,
        api_root=settings.api_root,
        usage_plans=usage_plans(settings),
    )


def usage_plans(settings: Settings) -> UsagePlans | None:
    """The AWS shape's partner usage plan, when the settings name one (the template does)."""
    if settings.backend != "aws" or not settings.usage_plan_name:
        return None
    from steppe.store.aws import open_usage_plans

    return open_usage_plans(settings)


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
        adding=envelope_adding(services),
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
        feed_index=store,
        catalog=store,
        submissions=store,
        statuses=store,
        blobs=services.blobs,
        org_name=services.settings.org_name,
    )


def feed_service(services: Services) -> FeedService:
    from steppe.distribution.feed_service import FeedService

    store = services.store
    return FeedService(
        feeds=store,
        index=store,
        false_positives=store,
        objects=store,
        blobs=services.blobs,
        org_name=services.settings.org_name,
        stale_after=services.settings.feed_stale_seconds * 1_000_000,
    )


def decay_job(services: Services) -> DecayJob:
    from steppe.distribution.decay_job import DecayJob
    from steppe.stix.identities import org_identity_id
    from steppe.store.write_path import WritePath

    store = services.store
    writes = WritePath(store, store, org_identity_id(services.settings.org_name), store)
    return DecayJob(index=store, objects=store, writes=writes)


def lookup_service(services: Services) -> LookupService:
    from steppe.correlate.lookup import LookupService

    return LookupService(index=services.store, feed_index=services.store, objects=services.store)


def campaign_graph(services: Services) -> CampaignGraph:
    from steppe.correlate.graph import CampaignGraph

    return CampaignGraph(index=services.store)
