"""TAXII media types and content negotiation (TAXII 2.1 sections 1.6.8 and 3.1).

Every response, errors included, is `application/taxii+json;version=2.1`.
Requests are judged here once:

* Accept: acceptable when it is absent, or names `application/taxii+json`
  without a version or with version 2.1, or a wildcard (`*/*`,
  `application/*`), with a non-zero quality. An Accept naming only other TAXII
  versions (or only other media types) is refused with 406.
* Content-Type: only judged on requests with a body (POST). It must be
  `application/taxii+json`, with version 2.1 when a version is given;
  anything else is refused with 415. A Content-Type sent on a GET is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from steppe.errors import UnsupportedMediaType
from steppe.taxii.error_resources import NotAcceptable

TAXII = "application/taxii+json"
VERSION = "2.1"
TAXII_21 = f"{TAXII};version={VERSION}"
STIX_21 = "application/stix+json;version=2.1"


@dataclass(frozen=True, slots=True)
class MediaRange:
    type: str  # lower-case "type/subtype"
    params: dict[str, str]  # lower-case names; values unquoted

    @property
    def quality(self) -> float:
        try:
            return float(self.params.get("q", "1"))
        except ValueError:
            return 1.0


def parse_media_range(text: str) -> MediaRange:
    """One media range or media type: `type/subtype;name=value;...`."""
    kind, *raw_params = text.split(";")
    params = {}
    for raw in raw_params:
        name, _, value = raw.partition("=")
        name = name.strip().lower()
        if name:
            params[name] = value.strip().strip('"')
    return MediaRange(kind.strip().lower(), params)


def parse_accept(header: str) -> list[MediaRange]:
    return [parse_media_range(item) for item in header.split(",") if item.strip()]


def _accepts_taxii_21(media: MediaRange) -> bool:
    if media.quality <= 0:
        return False
    if media.type in ("*/*", "application/*"):
        return True
    return media.type == TAXII and media.params.get("version", VERSION) == VERSION


def check_accept(header: str | None) -> None:
    """Raise NotAcceptable unless a TAXII 2.1 response is acceptable to the client."""
    if header is None or not header.strip():
        return
    ranges = parse_accept(header)
    if any(_accepts_taxii_21(media) for media in ranges):
        return
    wanted = [m for m in ranges if m.quality > 0 and m.type == TAXII and "version" in m.params]
    if wanted:
        versions = ", ".join(sorted({m.params["version"] for m in wanted}))
        detail = f"it asks for TAXII version {versions} only"
    else:
        detail = "it accepts no TAXII media type"
    raise NotAcceptable(
        f"the Accept header '{header}' cannot be satisfied: {detail}; this server answers "
        f"{TAXII_21} (send that, {TAXII} or */*)",
        where="header Accept",
    )


def check_content_type(header: str | None) -> None:
    """Raise UnsupportedMediaType unless the request body is declared as TAXII 2.1."""
    if header is None or not header.strip():
        raise UnsupportedMediaType(
            f"the request has no Content-Type; send the envelope as {TAXII_21}",
            where="header Content-Type",
        )
    media = parse_media_range(header)
    if media.type != TAXII or media.params.get("version", VERSION) != VERSION:
        raise UnsupportedMediaType(
            f"the Content-Type '{header}' is not accepted here; send the envelope as {TAXII_21}",
            where="header Content-Type",
        )
