"""Serving one TAXII request: what every endpoint shares, done once.

`TaxiiService.handle` runs a resource (a function of taxii/resources) inside
the steps every TAXII request goes through, in this order:

1. authentication: an unauthenticated caller gets 401 everywhere, discovery
   included, with a WWW-Authenticate challenge;
2. content negotiation: Accept (406) and, on POST, Content-Type (415);
3. the resource itself, which shapes its resource and nothing else;
4. errors: any SteppeError becomes a TAXII error resource; anything else a 500;
5. the audit record, appended once the response is decided (refusals too).

Every reply carries `Content-Type: application/taxii+json;version=2.1`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import orjson

from steppe.errors import SteppeError
from steppe.stix.timestamps import now_micros
from steppe.store.port import (
    AuditRecord,
    AuditStore,
    CatalogStore,
    ObjectStore,
    SecretStore,
    StatusStore,
)
from steppe.taxii import media
from steppe.taxii.adding import EnvelopeAdding
from steppe.taxii.error_resources import InternalError, error_headers, error_resource
from steppe.taxii.paging import SECRET_NAME, TokenSigner
from steppe.taxii.request import Reply, TaxiiRequest

logger = logging.getLogger(__name__)

MAX_AUDIT_DETAIL = 1000


class Resource(Protocol):
    def __call__(self, taxii: TaxiiService, request: TaxiiRequest, **path: str) -> Reply: ...


@dataclass(frozen=True, slots=True)
class TaxiiSettings:
    """The settings TAXII serving reads (named as in steppe.config.Settings)."""

    org_name: str
    api_root: str  # the default API root, named by discovery
    max_body_bytes: int  # an API root's max_content_length
    max_envelope_objects: int
    # Envelopes of up to taxii_sync_objects objects and taxii_sync_bytes bytes are
    # stored before the POST is answered; larger ones are queued in parts of
    # taxii_part_objects for the worker.
    taxii_sync_objects: int
    taxii_sync_bytes: int
    taxii_part_objects: int
    correlate: bool  # whether stored envelopes are queued for correlation


class TaxiiService:
    """Serves TAXII requests from the ports they use (built by steppe.runtime.taxii_service)."""

    def __init__(
        self,
        *,
        catalog: CatalogStore,
        objects: ObjectStore,
        statuses: StatusStore,
        audit: AuditStore,
        secrets: SecretStore,
        adding: EnvelopeAdding,
        settings: TaxiiSettings,
    ) -> None:
        self.catalog = catalog
        self.objects = objects
        self.statuses = statuses
        self.audit = audit
        self.secrets = secrets
        # POSTed envelopes: stored before the answer when small, else in queued parts.
        self.adding = adding
        self.settings = settings
        self._signer: TokenSigner | None = None

    @property
    def signer(self) -> TokenSigner:
        if self._signer is None:
            self._signer = TokenSigner(self.secrets.server_secret(SECRET_NAME))
        return self._signer

    def handle(self, resource: Resource, request: TaxiiRequest, **path: str) -> Reply:
        try:
            request.caller.require_authenticated()
            media.check_accept(request.header("accept"))
            if request.method == "POST":
                media.check_content_type(request.header("content-type"))
            reply = resource(self, request, **path)
        except SteppeError as error:
            if error.status >= 500:
                logger.exception("TAXII request failed")
            reply = error_reply(error, request.request_id)
        except Exception:
            logger.exception("TAXII request failed")
            reply = error_reply(InternalError(), request.request_id)
        self._audit(request, reply, path.get("collection_id"))
        return reply

    def _audit(self, request: TaxiiRequest, reply: Reply, collection_id: str | None) -> None:
        detail = request.query_string
        if reply.problem:
            detail = f"{detail} refused: {reply.problem}" if detail else f"refused: {reply.problem}"
        record = AuditRecord(
            time=now_micros(),
            request_id=request.request_id,
            partner=request.caller.partner,
            partner_id=request.caller.partner_id,
            method=request.method,
            path=request.path,
            status=reply.status,
            collection_id=collection_id,
            objects=reply.objects,
            detail=detail[:MAX_AUDIT_DETAIL],
        )
        try:
            self.audit.append_audit(record)
        except Exception:  # the answer stands; a lost audit record is logged, loudly
            logger.exception(
                "could not append the audit record of %s %s", request.method, request.path
            )


def error_reply(error: SteppeError, request_id: str | None = None) -> Reply:
    return Reply(
        status=error.status,
        body=orjson.dumps(error_resource(error, request_id)),
        headers=error_headers(error),
        problem=error.message,
    )


def json_reply(status: int, resource: object, **headers: str) -> Reply:
    return Reply(status=status, body=orjson.dumps(resource), headers=dict(headers))
