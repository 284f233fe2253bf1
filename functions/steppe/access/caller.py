"""Who is calling and what they may do: decided by the authorizer, read by the handlers.

The authorizer hands its decision to API Gateway as a flat map of strings
(API Gateway passes authorizer context values to the integration as strings),
and every handler rebuilds the same Caller from the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from steppe.errors import Forbidden, Unauthenticated
from steppe.stix import tlp

ROLES = ("admin", "analyst", "partner")


@dataclass(frozen=True, slots=True)
class Caller:
    partner: str | None
    role: str | None
    clearance: int  # highest TLP rank the caller may receive
    can_read: frozenset[str]
    can_write: frozenset[str]
    identity_id: str | None
    problem: str | None = None  # why the caller is not authenticated
    # The partner's stable id (Partner.id): what ownership is keyed by, never the name,
    # which can be deleted and given to someone else. None for the console operator.
    partner_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.partner is not None

    @classmethod
    def anonymous(cls, problem: str) -> Caller:
        return cls(None, None, -1, frozenset(), frozenset(), None, problem)

    def to_context(self) -> dict[str, str]:
        if not self.authenticated:
            return {"authenticated": "false", "problem": self.problem or ""}
        return {
            "authenticated": "true",
            "partner": self.partner or "",
            "partner_id": self.partner_id or "",
            "role": self.role or "",
            "clearance": str(self.clearance),
            "can_read": ",".join(sorted(self.can_read)),
            "can_write": ",".join(sorted(self.can_write)),
            "identity": self.identity_id or "",
        }

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> Caller:
        context = context or {}
        if str(context.get("authenticated", "false")).lower() != "true":
            return cls.anonymous(
                str(
                    context.get("problem") or "no credentials were sent in the Authorization header"
                )
            )
        return cls(
            partner=str(context["partner"]),
            role=str(context["role"]),
            clearance=int(context["clearance"]),
            can_read=_split(context.get("can_read")),
            can_write=_split(context.get("can_write")),
            identity_id=str(context.get("identity") or "") or None,
            partner_id=str(context.get("partner_id") or "") or None,
        )

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Caller:
        request_context = event.get("requestContext") or {}
        return cls.from_context(request_context.get("authorizer"))

    # -- checks the handlers use ------------------------------------------------

    def require_authenticated(self) -> None:
        if not self.authenticated:
            raise Unauthenticated(
                self.problem or "credentials are required", where="header Authorization"
            )

    def require_role(self, *roles: str) -> None:
        self.require_authenticated()
        if self.role not in roles:
            raise Forbidden(
                f"this needs the {' or '.join(roles)} role; '{self.partner}' has the role "
                f"'{self.role}'"
            )

    def owns(self, owner_id: str | None) -> bool:
        """Whether a record owned by `owner_id` (a stable partner id) is the caller's own."""
        return self.partner_id is not None and owner_id == self.partner_id

    def may_write(self, collection_id: str) -> bool:
        return self.role == "admin" or collection_id in self.can_write

    def may_read(self, collection_id: str) -> bool:
        return self.role == "admin" or collection_id in self.can_read

    @property
    def clearance_name(self) -> str:
        return tlp.BY_RANK[self.clearance].name if self.clearance in tlp.BY_RANK else "none"


def _split(value: object) -> frozenset[str]:
    text = str(value or "")
    return frozenset(part for part in text.split(",") if part)
