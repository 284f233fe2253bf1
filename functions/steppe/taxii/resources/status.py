"""GET {api_root}/status/{status_id}/ - the status resource (TAXII 2.1 section 4.3).

Only the partner that posted the envelope may read its status; to anyone
else it does not exist (404), like an expired one.
"""

from __future__ import annotations

from steppe.errors import NotFound
from steppe.stix.timestamps import format_taxii
from steppe.store.port import StatusPart, StatusRecord, StatusSummary
from steppe.store.port.statuses import Outcome, summarise
from steppe.taxii import permissions as access
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.serving import TaxiiService, json_reply

# Each list (successes, failures) shows at most this many objects; the counts are exact.
MAX_DETAILS = 1000


def _details(entries: tuple[Outcome, ...]) -> list[dict[str, str]]:
    shown = []
    for object_id, version, message in entries[:MAX_DETAILS]:
        detail = {"id": object_id}
        if version is not None:
            detail["version"] = version
        if message is not None:
            detail["message"] = message
        shown.append(detail)
    return shown


def describe(record: StatusRecord, parts: list[StatusPart]) -> dict[str, object]:
    return describe_summary(record, summarise(parts, MAX_DETAILS))


def describe_summary(record: StatusRecord, summary: StatusSummary) -> dict[str, object]:
    pending = max(0, record.total - summary.success_count - summary.failure_count)
    resource: dict[str, object] = {
        "id": record.id,
        "status": "pending" if pending else "complete",
        "request_timestamp": format_taxii(record.created),
        "total_count": record.total,
        "success_count": summary.success_count,
    }
    if summary.successes:
        resource["successes"] = _details(summary.successes)
    resource["failure_count"] = summary.failure_count
    if summary.failures:
        resource["failures"] = _details(summary.failures)
    resource["pending_count"] = pending
    return resource


def get(taxii: TaxiiService, request: TaxiiRequest, api_root: str, status_id: str) -> Reply:
    access.api_root(taxii.catalog, api_root)
    record = taxii.statuses.get_status(status_id)
    collection = None if record is None else taxii.catalog.get_collection(record.collection_id)
    if (
        record is None
        or not request.caller.owns(record.owner)
        or (collection is not None and collection.api_root != api_root)
    ):
        raise NotFound(
            f"there is no status '{status_id}' in API root '{api_root}' that you may read "
            "(statuses are kept for three days, for the partner that posted)",
            where="path",
        )
    summary = taxii.statuses.status_summary(status_id, MAX_DETAILS)
    return json_reply(200, describe_summary(record, summary))
