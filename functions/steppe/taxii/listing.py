"""One page of a collection's objects, as the objects, object, manifest and versions read it.

The request's filters (or its `next` token's) become an ObjectQuery with the
caller's TLP clearance as max_tlp: the store leaves out what the caller may
not receive, and its last_position lets the next page continue past those
rows, so pages stay complete and correct with filtered objects in between.

X-TAXII-Date-Added-First/Last (section 3.2) are the date_added of the page's
first and last record. An empty page has no records to take them from; it
then carries both equal to where the request started (its added_after, or its
`next` position, whichever is later) when it gave one, and neither otherwise:
a client that pages with added_after = X-TAXII-Date-Added-Last keeps its place.

A collection set to serve only active objects (Collection.active_only, for
SIEMs that cannot handle expiry and revocation themselves) adds active_at =
now to every read: the store leaves out versions that are revoked or past
their valid_until, judged on the versions the request selects (with the
default match[version]=last, an object whose latest version is revoked or
expired is not served at all). Like the TLP filter, it is applied in the
store's query, so paging stays exact across the rows it skips; it is not a
request filter, so `next` tokens do not carry it, and each page is judged at
the moment it is read (an indicator that expires while a client pages is
not served on the later pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from steppe.errors import InvalidInput
from steppe.stix.timestamps import format_taxii, now_micros
from steppe.store.port import ALL_VERSIONS, Collection, JoinedBodies, StoredObject
from steppe.taxii import filters as taxii_filters
from steppe.taxii.filters import Endpoint, Filters
from steppe.taxii.paging import PageToken, check_belongs
from steppe.taxii.request import TaxiiRequest
from steppe.taxii.serving import TaxiiService

DATE_ADDED_FIRST = "X-TAXII-Date-Added-First"
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"


@dataclass(frozen=True, slots=True)
class Page:
    records: list[StoredObject]
    more: bool
    next: str | None
    headers: dict[str, str]
    filters: Filters
    joined: JoinedBodies | None = None  # the objects in one piece, when read with bodies

    @property
    def count(self) -> int:
        return self.joined.count if self.joined is not None else len(self.records)


def served_at(collection: Collection) -> int | None:
    """The instant an active_only collection judges its objects at (now); None for the others."""
    return now_micros() if collection.active_only else None


def read_page(
    taxii: TaxiiService,
    request: TaxiiRequest,
    endpoint: Endpoint,
    collection: Collection,
    *,
    object_id: str | None = None,
    with_body: bool = True,
) -> Page:
    selection = taxii_filters.parse(request.params, endpoint)
    filters = selection.filters
    position: int | None = None
    if selection.next is not None:
        token = taxii.signer.decode(selection.next)
        check_belongs(token, endpoint, collection.api_root, collection.id, object_id)
        if selection.filters_given and selection.filters != token.filters:
            raise InvalidInput(
                "the filters of this request differ from those of the request that returned "
                "this next token; send next (and limit) alone, or with the same filters",
                where=taxii_filters.NEXT,
            )
        filters = token.filters
        position = token.position
    query = filters.query(
        max_tlp=request.caller.clearance,
        after=position,
        limit=selection.limit,
        with_body=with_body,
        object_id=object_id,
        active_at=served_at(collection),
    )
    page = taxii.objects.list_objects(collection.id, query)
    next_token = None
    if page.more:
        if page.last_position is None:
            raise RuntimeError("the store reported more results without a position")
        next_token = taxii.signer.encode(
            PageToken(
                endpoint=endpoint,
                api_root=collection.api_root,
                collection_id=collection.id,
                object_id=object_id,
                filters=filters,
                position=page.last_position,
            )
        )
    headers = {}
    if page.joined is not None and page.joined.count:
        headers[DATE_ADDED_FIRST] = format_taxii(page.joined.first_added)  # type: ignore[arg-type]
        headers[DATE_ADDED_LAST] = format_taxii(page.joined.last_added)  # type: ignore[arg-type]
    elif page.records:
        headers[DATE_ADDED_FIRST] = format_taxii(page.records[0].date_added)
        headers[DATE_ADDED_LAST] = format_taxii(page.records[-1].date_added)
    else:
        starts = [mark for mark in (filters.added_after, position) if mark is not None]
        if starts:
            headers[DATE_ADDED_FIRST] = headers[DATE_ADDED_LAST] = format_taxii(max(starts))
    return Page(page.records, page.more, next_token, headers, filters, page.joined)


def page_bodies(page: Page) -> bytes | list[bytes]:
    """The page's objects for an envelope: as one piece when the store joined them."""
    if page.joined is not None:
        return page.joined.bodies
    return [record.body or b"" for record in page.records]


def object_is_visible(
    taxii: TaxiiService,
    request: TaxiiRequest,
    collection: Collection,
    object_id: str,
    *,
    active_at: int | None = None,
) -> bool:
    """Whether any version of the object exists that the caller may receive.

    active_at: count only versions active at that instant (see served_at).
    """
    probe = Filters(versions=ALL_VERSIONS).query(
        max_tlp=request.caller.clearance,
        limit=1,
        with_body=False,
        object_id=object_id,
        active_at=active_at,
    )
    return bool(taxii.objects.list_objects(collection.id, probe).records)
