"""A TAXII request and reply, as the protocol code sees them.

The handler turns the API Gateway proxy event (the same in both shapes) into
a TaxiiRequest (steppe.handlers.taxii_events); resources return a Reply, which
the handler sends as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from steppe.access.caller import Caller
from steppe.taxii.media import TAXII_21


@dataclass(frozen=True, slots=True)
class TaxiiRequest:
    method: str
    path: str
    params: Mapping[str, list[str]]  # query parameters, every value of each
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    caller: Caller
    request_id: str
    base_url: str  # scheme://host[/stage]: what the client's URLs start with

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def url(self, path: str) -> str:
        """The absolute URL of a path of this API (path starts with /)."""
        return self.base_url + path

    @property
    def query_string(self) -> str:
        pairs = [(name, value) for name, values in self.params.items() for value in values]
        return urlencode(pairs, safe="[],:")


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = TAXII_21
    objects: int = 0  # objects returned or received, for the audit record
    problem: str | None = None  # why the request was refused, for the audit record
