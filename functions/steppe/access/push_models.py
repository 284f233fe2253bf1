"""The admin API's push destination bodies and parameters, as pydantic models.

Parsed through steppe.access.admin_models.parse like every admin input, by
the admin handlers and the `steppe push` command alike. The shapes are
checked here; what each kind needs (and the URL rule) is checked by
steppe.access.push_destinations, which names the field at fault too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from steppe.access.admin_models import CollectionRefs, Tlp, _Body
from steppe.access.partners import MAX_NAME, NAME_PATTERN, name_problem
from steppe.access.push_destinations import DEFAULT_TLP, KINDS, MAX_SECRET, MAX_URL, PUSH_TYPES

KindName = Literal["sentinel", "webhook"]
assert KindName.__args__ == KINDS  # type: ignore[attr-defined]
PushType = Literal["indicator"]
assert PushType.__args__ == PUSH_TYPES  # type: ignore[attr-defined]


def _new_destination_name(value: str) -> str:
    problem = name_problem(value, "push destination")
    if problem is not None:
        raise ValueError(problem)
    return value


DestinationName = Annotated[
    str,
    Field(
        description="letters, digits and '.', '-', '_', '@', starting with a letter or digit; "
        "not a reserved word such as None or null",
        json_schema_extra={"pattern": NAME_PATTERN, "minLength": 1, "maxLength": MAX_NAME},
    ),
    AfterValidator(_new_destination_name),
]
Url = Annotated[str, Field(min_length=1, max_length=MAX_URL)]
Guid = Annotated[str, Field(min_length=1, max_length=64, description="a GUID")]
Secret = Annotated[str, Field(min_length=1, max_length=MAX_SECRET)]


class PushCreate(_Body):
    """POST /api/v1/admin/push"""

    name: DestinationName
    kind: KindName
    collections: CollectionRefs = Field(
        default_factory=list,
        description="collections it receives from (ids or titles); default the default one",
    )
    tlp: Tlp = Field(default=DEFAULT_TLP, description="the highest TLP it receives")
    types: Annotated[list[PushType], Field(min_length=1, max_length=len(PUSH_TYPES))] | None = (
        Field(default=None, description="STIX object types it receives; default indicator")
    )
    url: Url | None = Field(default=None, description="webhook: where to POST (https)")
    tenant_id: Guid | None = Field(default=None, description="sentinel: the Entra tenant")
    client_id: Guid | None = Field(default=None, description="sentinel: the app registration")
    client_secret: Secret | None = Field(
        default=None, description="sentinel: the app registration's secret (never shown again)"
    )
    workspace_id: Guid | None = Field(
        default=None, description="sentinel: the Log Analytics workspace"
    )
    login_url: Url | None = Field(
        default=None, description="sentinel: replaces https://login.microsoftonline.com"
    )
    api_url: Url | None = Field(
        default=None, description="sentinel: replaces https://api.ti.sentinel.azure.com"
    )
    source_system: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="sentinel: the source shown in Sentinel (default steppe)"
    )

    def settings(self) -> dict[str, str | None]:
        """The kind's settings as given (push_destinations checks which the kind takes)."""
        return {
            "url": self.url,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "workspace_id": self.workspace_id,
            "login_url": self.login_url,
            "api_url": self.api_url,
            "source_system": self.source_system,
        }


class PushRotate(_Body):
    """POST /api/v1/admin/push/{name}/rotate: a webhook's new key, or Sentinel's new secret."""

    client_secret: Secret | None = Field(
        default=None, description="sentinel: the new client secret; a webhook takes none"
    )


class PushPath(BaseModel):
    """The {name} of /api/v1/admin/push/{name}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
