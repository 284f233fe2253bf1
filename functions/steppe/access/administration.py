"""Administration: partners, their keys, collections and the audit trail.

The one service behind the admin API (handlers/admin.py) and the `steppe`
command: both parse their input into the models of access/admin_models.py
and call the methods here, so the rules and the refusals are the same
whichever way an administrator comes in.
"""

from __future__ import annotations

from dataclasses import dataclass

from steppe.access import collections, partners
from steppe.access.admin_models import (
    AuditQuery,
    CollectionCreate,
    CollectionPath,
    CollectionUpdate,
    PartnerCreate,
    PartnerPath,
    PartnerUpdate,
    parse,
)
from steppe.access.caller import Caller
from steppe.access.partners import IssuedKey
from steppe.config import Settings
from steppe.errors import InvalidInput, NotFound
from steppe.stix import tlp
from steppe.stix.timestamps import format_taxii
from steppe.store.port import AuditRecord, Collection, Partner, Store


@dataclass(frozen=True, slots=True)
class Administration:
    store: Store
    settings: Settings

    # -- partners ----------------------------------------------------------------------

    def list_partners(self) -> list[Partner]:
        return self.store.list_partners()

    def partner(self, name: str) -> Partner:
        """The partner a path or a command names; 404 when there is none."""
        checked = parse(PartnerPath, {"name": name}).name
        return partners.get_partner(self.store, checked)

    def add_partner(self, spec: PartnerCreate, *, key: str | None = None) -> IssuedKey:
        """A new partner with a new stable id and its first key (shown once)."""
        return partners.add_partner(
            self.store,
            spec.name,
            spec.role,
            org_name=self.settings.org_name,
            clearance=spec.tlp,
            can_read=self.collection_ids(spec.read, "read"),
            can_write=self.collection_ids(spec.write, "write"),
            key=key,
        )

    def update_partner(self, name: str, changes: PartnerUpdate) -> Partner:
        partner = self.partner(name)
        return partners.update_partner(
            self.store,
            partner.name,
            org_name=self.settings.org_name,
            role=changes.role,
            clearance=changes.tlp,
            can_read=None if changes.read is None else self.collection_ids(changes.read, "read"),
            can_write=None
            if changes.write is None
            else self.collection_ids(changes.write, "write"),
        )

    def delete_partner(self, name: str, by: Caller | None = None) -> Partner:
        """Remove the partner and its keys.

        What it owned (submissions, statuses, idempotency records) is keyed by
        its id, which nobody gets again: a partner created later under the same
        name reaches none of it.
        """
        partner = self.partner(name)
        if by is not None and by.partner_id == partner.id:
            raise InvalidInput("an admin cannot delete itself", where="name")
        self.store.delete_partner(partner.name)
        return partner

    def rotate_key(self, name: str) -> IssuedKey:
        return partners.rotate_key(self.store, self.partner(name).name)

    def revoke_keys(self, name: str) -> int:
        return partners.revoke(self.store, self.partner(name).name)

    # -- collections ---------------------------------------------------------------------

    def list_collections(self) -> list[Collection]:
        return self.store.list_collections(self.settings.api_root)

    def collection(self, ref: str, where: str = "collection_id") -> Collection:
        """The collection of this API root with the id or the title `ref`; 404 if none."""
        checked = parse(CollectionPath, {"collection_id": ref}).collection_id
        found = self._find_collection(checked)
        if found is None:
            raise NotFound(f"there is no collection with the id or title '{ref}'", where=where)
        return found

    def collection_ids(self, refs: list[str], where: str) -> list[str]:
        """The ids of collections named by id or title; 400 naming the first unknown one."""
        ids = []
        for index, ref in enumerate(refs):
            found = self._find_collection(ref)
            if found is None:
                raise InvalidInput(
                    f"there is no collection with the id or title '{ref}'",
                    where=f"{where}[{index}]",
                )
            ids.append(found.id)
        return ids

    def _find_collection(self, ref: str) -> Collection | None:
        root = self.settings.api_root
        found = self.store.get_collection(ref)
        if found is None or found.api_root != root:
            found = self.store.find_collection_by_title(root, ref)
        return found

    def add_collection(self, spec: CollectionCreate) -> Collection:
        return collections.add_collection(
            self.store,
            self.settings.api_root,
            spec.title,
            description=spec.description,
            alias=spec.alias,
            unmarked_tlp=spec.unmarked_tlp,
            active_only=spec.active_only,
        )

    def update_collection(self, ref: str, changes: CollectionUpdate) -> Collection:
        collection = self.collection(ref)
        given = changes.model_fields_set
        return collections.update_collection(
            self.store,
            collection.id,
            title=changes.title,
            description=changes.description,
            # "" or null clears the alias; leaving it out keeps it
            alias=(changes.alias or "") if "alias" in given else None,
            unmarked_tlp=changes.unmarked_tlp,
            active_only=changes.active_only,
        )

    # -- the audit trail -----------------------------------------------------------------

    def audit(self, query: AuditQuery) -> list[AuditRecord]:
        return self.store.list_audit(
            since=query.since_micros,
            until=query.until_micros,
            partner=query.partner,
            partner_id=query.partner_id,
            limit=query.limit,
        )


def describe_partner(partner: Partner) -> dict[str, object]:
    return {
        "name": partner.name,
        "id": partner.id,
        "role": partner.role,
        "tlp": tlp.BY_RANK[partner.tlp_clearance].name,
        "read": sorted(partner.can_read),
        "write": sorted(partner.can_write),
        "identity": partner.identity_id,
        "created": format_taxii(partner.created),
    }


def describe_audit(record: AuditRecord) -> dict[str, object]:
    return {
        "time": format_taxii(record.time),
        "request_id": record.request_id,
        "partner": record.partner,
        "partner_id": record.partner_id,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "collection": record.collection_id,
        "objects": record.objects,
        "detail": record.detail,
    }


describe_collection = collections.describe_collection
