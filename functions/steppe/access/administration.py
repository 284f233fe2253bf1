"""Administration: partners, their keys, collections, feeds, push destinations, the audit trail.

The one service behind the admin API (handlers/admin.py) and the `steppe`
command: both parse their input into the models of access/admin_models.py
and call the methods here, so the rules and the refusals are the same
whichever way an administrator comes in. It returns the records; the callers
shape them into responses or lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from steppe.access import collections, feed_definitions, partners, push_destinations
from steppe.access.admin_models import (
    AuditQuery,
    CollectionCreate,
    CollectionPath,
    CollectionUpdate,
    FeedCreate,
    FeedPath,
    PartnerCreate,
    PartnerPath,
    PartnerUpdate,
    parse,
)
from steppe.access.bootstrap import default_collection
from steppe.access.caller import Caller
from steppe.access.collections import resolve_collection
from steppe.access.feed_definitions import IssuedFeed
from steppe.access.partners import IssuedKey
from steppe.access.push_destinations import IssuedDestination
from steppe.access.push_models import PushCreate, PushPath, PushRotate
from steppe.access.usage_keys import partner_usage_key
from steppe.errors import InvalidInput, NotFound
from steppe.store.port import (
    AccessStore,
    AuditRecord,
    AuditStore,
    CatalogStore,
    Collection,
    Destination,
    DestinationStore,
    Feed,
    FeedStore,
    Partner,
)
from steppe.store.port.usage_plans import UsagePlans


@dataclass(frozen=True, slots=True)
class Administration:
    access: AccessStore
    catalog: CatalogStore
    audit_trail: AuditStore
    feeds: FeedStore
    destinations: DestinationStore
    org_name: str
    api_root: str
    # The AWS shape's per-partner throttling: each partner's usage key in the plan.
    usage_plans: UsagePlans | None = None

    # -- partners ----------------------------------------------------------------------

    def list_partners(self) -> list[Partner]:
        return self.access.list_partners()

    def partner(self, name: str) -> Partner:
        """The partner a path or a command names; 404 when there is none."""
        checked = parse(PartnerPath, {"name": name}).name
        return partners.get_partner(self.access, checked)

    def add_partner(self, spec: PartnerCreate, *, key: str | None = None) -> IssuedKey:
        """A new partner with a new stable id and its first key (shown once)."""
        issued = partners.add_partner(
            self.access,
            spec.name,
            spec.role,
            org_name=self.org_name,
            clearance=spec.tlp,
            can_read=self.collection_ids(spec.read, "read"),
            can_write=self.collection_ids(spec.write, "write"),
            key=key,
        )
        if self.usage_plans is not None:
            try:
                self.usage_plans.register(issued.partner.name, partner_usage_key(issued.partner.id))
            except Exception:
                # A partner the gateway would refuse (no usage key) is not left behind.
                self.access.delete_partner(issued.partner.name)
                raise
        return issued

    def sync_usage_plans(self) -> list[str]:
        """Every partner's usage key into the plan (after bootstrap or a restore); their names."""
        if self.usage_plans is None:
            return []
        synced = []
        for partner in self.access.list_partners():
            self.usage_plans.register(partner.name, partner_usage_key(partner.id))
            synced.append(partner.name)
        return synced

    def update_partner(self, name: str, changes: PartnerUpdate) -> Partner:
        partner = self.partner(name)
        return partners.update_partner(
            self.access,
            partner.name,
            org_name=self.org_name,
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
        self.access.delete_partner(partner.name)
        if self.usage_plans is not None:
            self.usage_plans.unregister(partner_usage_key(partner.id))
        return partner

    def rotate_key(self, name: str) -> IssuedKey:
        return partners.rotate_key(self.access, self.partner(name).name)

    def revoke_keys(self, name: str) -> tuple[Partner, int]:
        """Revoke every key of the partner; the partner, and how many keys it had."""
        partner = self.partner(name)
        return partner, partners.revoke(self.access, partner.name)

    # -- collections ---------------------------------------------------------------------

    def list_collections(self) -> list[Collection]:
        return self.catalog.list_collections(self.api_root)

    def default_collection(self) -> Collection | None:
        return default_collection(self.catalog, self.api_root)

    def collection(self, ref: str, where: str = "collection_id") -> Collection:
        """The collection of this API root with the id or the title `ref`; 404 if none."""
        checked = parse(CollectionPath, {"collection_id": ref}).collection_id
        return resolve_collection(self.catalog, self.api_root, checked, where=where)

    def collection_ids(self, refs: list[str], where: str) -> list[str]:
        """The ids of collections named by id or title; 400 naming the first unknown one."""
        ids = []
        for index, ref in enumerate(refs):
            try:
                ids.append(resolve_collection(self.catalog, self.api_root, ref).id)
            except NotFound as missing:
                raise InvalidInput(missing.message, where=f"{where}[{index}]") from None
        return ids

    def add_collection(self, spec: CollectionCreate) -> Collection:
        return collections.add_collection(
            self.catalog,
            self.api_root,
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
            self.catalog,
            collection.id,
            title=changes.title,
            description=changes.description,
            # "" or null clears the alias; leaving it out keeps it
            alias=(changes.alias or "") if "alias" in given else None,
            unmarked_tlp=changes.unmarked_tlp,
            active_only=changes.active_only,
        )

    # -- feeds ---------------------------------------------------------------------------

    def list_feeds(self) -> list[Feed]:
        return self.feeds.list_feeds()

    def feed(self, name: str) -> Feed:
        """The feed a path or a command names; 404 when there is none."""
        checked = parse(FeedPath, {"name": name}).name
        return feed_definitions.get_feed(self.feeds, checked)

    def add_feed(self, spec: FeedCreate) -> IssuedFeed:
        """A new feed with its id and token (the token shown once).

        Without collections it serves the default collection.
        """
        if spec.collections:
            collection_ids = self.collection_ids(spec.collections, "collections")
        else:
            default = self.default_collection()
            if default is None:
                raise InvalidInput(
                    "there is no default collection: name the feed's collections",
                    where="collections",
                )
            collection_ids = [default.id]
        return feed_definitions.add_feed(
            self.feeds,
            spec.name,
            spec.format,
            collections=collection_ids,
            clearance=spec.tlp,
            types=spec.types,
            min_score=spec.min_score,
            max_entries=spec.max_entries,
        )

    def rotate_feed(self, name: str) -> IssuedFeed:
        """A new token for the feed; its old URL stops working."""
        return feed_definitions.rotate_token(self.feeds, self.feed(name).name)

    def remove_feed(self, name: str) -> Feed:
        return feed_definitions.remove_feed(self.feeds, self.feed(name).name)

    # -- push destinations ---------------------------------------------------------------

    def list_destinations(self) -> list[Destination]:
        return self.destinations.list_destinations()

    def destination(self, name: str) -> Destination:
        """The push destination a path or a command names; 404 when there is none."""
        checked = parse(PushPath, {"name": name}).name
        return push_destinations.get_destination(self.destinations, checked)

    def add_destination(self, spec: PushCreate) -> IssuedDestination:
        """A new push destination; a webhook's key is shown once.

        Without collections it receives from the default collection.
        """
        return push_destinations.add_destination(
            self.destinations,
            spec.name,
            spec.kind,
            collections=self._collections_or_default(spec.collections, "push destination"),
            settings=spec.settings(),
            client_secret=spec.client_secret,
            clearance=spec.tlp,
            types=spec.types,
        )

    def rotate_destination(self, name: str, spec: PushRotate) -> IssuedDestination:
        return push_destinations.rotate_secret(
            self.destinations, self.destination(name).name, spec.client_secret
        )

    def remove_destination(self, name: str) -> Destination:
        return push_destinations.remove_destination(self.destinations, self.destination(name).name)

    def _collections_or_default(self, refs: list[str], noun: str) -> list[str]:
        if refs:
            return self.collection_ids(refs, "collections")
        default = self.default_collection()
        if default is None:
            raise InvalidInput(
                f"there is no default collection: name the {noun}'s collections",
                where="collections",
            )
        return [default.id]

    # -- the audit trail -----------------------------------------------------------------

    def audit(self, query: AuditQuery) -> list[AuditRecord]:
        return self.audit_trail.list_audit(
            since=query.since_micros,
            until=query.until_micros,
            partner=query.partner,
            partner_id=query.partner_id,
            limit=query.limit,
        )
